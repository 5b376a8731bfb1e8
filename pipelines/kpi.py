"""The KPI asset: every enabled metric of the catalogue at week, month and quarter grain."""

import dagster as dg

from pipelines.clock import run_instant
from pipelines.core import core_key
from pipelines.ingest import WAREHOUSE_POOL
from pipelines.metadata import table_metadata
from pipelines.resources import WarehouseResource
from settings import Settings
from transforms.staging import CORE_TABLES

METRIC_VALUES = dg.AssetKey(["kpi", "metric_values"])


def kpi_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=METRIC_VALUES,
        group_name="kpi",
        description=(
            "Balanced Scorecard KPIs as a long time series (metric, grain, period, dimension) "
            "with numerator, denominator, n and coverage; evidence in kpi.metric_evidence. "
            "Definitions: docs/metrics.md."
        ),
        deps=[core_key(t) for t in CORE_TABLES],
        kinds={"sql", "duckdb"},
        owners=["team:it-performance"],
        pool=WAREHOUSE_POOL,
    )
    def metric_values(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        from transforms.kpis import compute_metrics

        with warehouse.get().connect() as con:
            summary = compute_metrics(
                con,
                timezone=settings.calendar.timezone,
                week_start=settings.calendar.week_start,
                overrides=settings.metric_overrides(),
                min_n=settings.kpi.min_n,
                as_of=run_instant(context, settings.calendar.timezone),
            )
            metadata = table_metadata(con, "kpi.metric_values")
            per_metric = con.execute(
                "SELECT metric_id, count(*), count(value) FROM kpi.metric_values "
                "GROUP BY metric_id ORDER BY metric_id"
            ).fetchall()
        metadata["metrics"] = dg.MetadataValue.md(
            "| metric | rows | with value |\n|---|---|---|\n"
            + "\n".join(f"| {m} | {rows} | {valued} |" for m, rows, valued in per_metric)
        )
        for metric_id, grain, period_start, dimension, value_of, reason in summary.quarantined:
            context.log.warning(
                f"KPI value quarantined: {metric_id} {grain} {period_start} "
                f"({dimension}={value_of}): {reason}"
            )
        metadata["quarantined_values"] = len(summary.quarantined)
        for left_out in summary.left_out_costs:
            context.log.warning(f"Cost lines left out: {left_out}")
        for shared in summary.shared_cost_providers:
            context.log.warning(f"Costs counted twice: {shared}")
        if summary.cost_currency:
            metadata["cost_currency"] = summary.cost_currency
        # values of periods already complete that late data changed (kpi.metric_restatements)
        metadata["restated_values"] = summary.restated
        context.log.info(f"KPIs computed: {summary}")
        return dg.MaterializeResult(metadata=metadata)

    return metric_values
