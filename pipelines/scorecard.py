"""The scorecard asset: KPIs scored against goals, rolled up to objectives and perspectives."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.clock import run_instant
from pipelines.ingest import WAREHOUSE_POOL
from pipelines.kpi import METRIC_VALUES
from pipelines.metadata import table_metadata
from pipelines.resources import WarehouseResource
from settings import Settings
from settings.commentary import commentary_table, load_commentary
from settings.governance import governance_findings
from transforms.scoring import initiative_rows, score_metrics

METRIC_STATUS = dg.AssetKey(["scorecard", "metric_status"])
# Past the longest wait between two scheduled runs, a run that is late is worth a look, and a
# missed one is a failure.
WARN_AFTER_GAP = timedelta(hours=2)
FAIL_AFTER_GAP = timedelta(hours=6)
# The schedule's ticks over a year (and a bit) find its longest gap: a weekend, a short month.
GAP_SPAN = timedelta(days=400)
GAP_TICKS = 20_000


def longest_gap(cron: str, timezone: str) -> timedelta:
    """The longest time between two ticks of `cron` over a year, from a fixed start: elapsed
    time, as the clock the freshness policy reads runs (ticks of one zone subtract as wall-clock
    times, which a weekend over the autumn DST change would make an hour shorter)."""
    from dagster._utils.schedules import cron_string_iterator

    start = datetime(2026, 1, 1, tzinfo=UTC)
    ticks = cron_string_iterator(start.timestamp(), cron, timezone)
    previous, gap = next(ticks), timedelta(0)
    for _ in range(GAP_TICKS):
        tick = next(ticks)
        gap = max(gap, timedelta(seconds=tick.timestamp() - previous.timestamp()))
        if tick - start > GAP_SPAN:
            break
        previous = tick
    return gap


def scorecard_freshness(cron: str, timezone: str) -> dg.FreshnessPolicy:
    """The nightly run refreshes it: a daily schedule warns after 26 hours and fails after 30, a
    weekday one after a weekend and as long again."""
    gap = longest_gap(cron, timezone)
    return dg.FreshnessPolicy.time_window(
        fail_window=gap + FAIL_AFTER_GAP, warn_window=gap + WARN_AFTER_GAP
    )


def scorecard_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=METRIC_STATUS,
        group_name="scorecard",
        description=(
            "Each metric's complete periods scored 0-100 against threshold / target / stretch "
            "(or a band), with status (grey with a reason, stale when the source stopped), "
            "trend and escalation; objective and perspective roll-ups with coverage; owners' "
            "commentary beside each figure; initiatives and their progress; the action log; "
            "governance findings in scorecard.data_quality. One set of rows per scorecard_id."
        ),
        deps=[METRIC_VALUES],
        kinds={"sql", "duckdb"},
        freshness_policy=scorecard_freshness(settings.schedule.cron, settings.schedule_timezone),
        owners=["team:it-performance"],
        pool=WAREHOUSE_POOL,
    )
    def metric_status(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        from transforms.catalogue import load_catalogue
        from transforms.kpis import values_as_of

        perspectives = {metric.id: metric.perspective for metric in load_catalogue()}
        comments = load_commentary(settings.commentary, settings) if settings.commentary else []
        with warehouse.get().connect() as con:
            # As of the instant the values were computed for, not this step's clock: a run that
            # crosses midnight scores the periods its KPI step saw end.
            as_of = values_as_of(con) or run_instant(context, settings.calendar.timezone)
            context.log.info(f"scoring as of {as_of.isoformat()}")
            summary = score_metrics(
                con,
                settings.metric_overrides(),
                perspectives,
                as_of=as_of,
                timezone=settings.calendar.timezone,
                scorecards=settings.scorecard_metrics(),
                commentary=commentary_table(comments),
                initiatives=initiative_rows(settings.initiatives),
                governance=governance_findings(
                    settings, as_of.astimezone(ZoneInfo(settings.calendar.timezone)).date()
                ),
                due_days=settings.actions.due_days,
                signal_baseline_periods=settings.signals.baseline_periods,
            )
            metadata = table_metadata(con, "scorecard.metric_status")
            latest = con.execute(
                "SELECT metric_id, period_start, actual, score, status, reason "
                "FROM scorecard.metric_status WHERE scorecard_id = ? "
                "QUALIFY row_number() OVER (PARTITION BY metric_id ORDER BY period_start DESC) = 1 "
                "ORDER BY metric_id",
                [settings.scorecard_id],
            ).fetchall()
        metadata["latest"] = dg.MetadataValue.md(
            "| metric | period | actual | score | status | reason |\n|---|---|---|---|---|---|\n"
            + "\n".join(
                f"| {m} | {p} | {'' if a is None else round(a, 2)} | {s} | {st} | {r or ''} |"
                for m, p, a, s, st, r in latest
            )
        )
        context.log.info(f"scorecard: {summary}")
        return dg.MaterializeResult(metadata=metadata)

    return metric_status
