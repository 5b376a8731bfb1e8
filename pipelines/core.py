"""Core assets: one per canonical table, staged from every enabled source that feeds it."""

import dagster as dg

from pipelines.ingest import OWNERS, WAREHOUSE_POOL, raw_key
from pipelines.metadata import table_metadata
from pipelines.preflight import CONFIGURATION
from pipelines.resources import WarehouseResource
from transforms.staging import CORE_TABLES, feeds, stage, staged_tables

DESCRIPTIONS = {
    "incidents": "Incidents from every ITSM source in one canonical shape (UTC, priority 1-5).",
    "changes": "Change records with outcome (successful, successful_issues, unsuccessful).",
    "requests": "Service requests (catalogue items) with fulfilment times and channel.",
    "sla_records": "SLA clocks on tasks: met or breached, with pause time.",
    "outages": "Service outages, degradations and planned maintenance windows.",
    "costs": "Cost line items in FOCUS columns, allocated to services by tag.",
    "measures": "Manual measures from spreadsheets: revenue, budget, headcount, training ...",
    "survey_responses": "CSAT and engagement survey answers, one row per response.",
}


class CoreConfig(dg.Config):
    # Restage every source even when nothing its staging reads has changed since the last run.
    full_refresh: bool = False


def core_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["core", table])


def core_asset(table: str, sources: list[str]) -> dg.AssetsDefinition:
    feeding = [s for s in sources if table in feeds(s)]

    @dg.asset(
        key=core_key(table),
        group_name="core",
        description=DESCRIPTIONS[table],
        # A table no enabled source feeds still waits for the configuration check.
        deps=[raw_key(s) for s in feeding] or [CONFIGURATION],
        kinds={"sql", "duckdb"},
        owners=OWNERS,
        pool=WAREHOUSE_POOL,
    )
    def _core(
        context: dg.AssetExecutionContext, config: CoreConfig, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        metadata: dict = {}
        with warehouse.get().connect() as con:
            for source in feeding:
                if table in staged_tables(source):
                    result = stage(con, source, table, force=config.full_refresh)
                    context.log.info(f"{source} -> core.{table}: {result.outcome}")
                    metadata[f"{source}/staging"] = result.outcome
                    metadata[f"{source}/data_quality_issues"] = result.quality_issues
            metadata.update(table_metadata(con, f"core.{table}"))
            by_source = con.execute(
                f"SELECT source, count(*) FROM core.{table} GROUP BY source ORDER BY source"
            ).fetchall()
        metadata.update({f"{source}/rows": rows for source, rows in by_source})
        return dg.MaterializeResult(metadata=metadata)

    return _core


def core_assets(sources: list[str]) -> list[dg.AssetsDefinition]:
    return [core_asset(table, sources) for table in CORE_TABLES]
