"""Asset checks: data quality and integrity per core table, sane KPI values, readable snapshots."""

import dagster as dg
import duckdb

from pipelines.clock import run_instant
from pipelines.core import core_key
from pipelines.kpi import METRIC_VALUES
from pipelines.publish import PUBLISHED
from pipelines.resources import WarehouseResource
from transforms.kpis import quarantined_values
from transforms.staging import CORE_TABLES
from warehouse.bi_views import BI_VIEWS
from warehouse.integrity import (
    RULES,
    duplicate_keys,
    null_keys,
    stale_sources,
    times_out_of_order,
)
from warehouse.migrations import load_migrations


def core_table_checks(table: str, timezone: str = "UTC") -> dg.AssetChecksDefinition:
    """Data quality, unique ids, non-null keys, times in order and fresh sources of one core
    table: one step that opens the warehouse once, reporting five checks (warnings except the
    two key checks, none blocking). `timezone` reads a SCORECARD_AS_OF without an offset."""
    asset = core_key(table)
    rules = RULES[table]
    key = ", ".join(rules.key)
    order = ", ".join(f"{later} >= {earlier}" for earlier, later in rules.time_order) or "-"
    descriptions = {
        "data_quality": f"Records of core.{table} that a source sent with bad or missing values.",
        "unique_ids": f"No two records of core.{table} share ({key}).",
        "non_null_keys": f"Every record of core.{table} has its key ({key}) and a source.",
        "times_in_order": f"No record of core.{table} ends before it starts: {order}.",
        "source_freshness": (
            f"Each source's newest record in core.{table} ({rules.freshness_column}) is at most "
            f"{rules.max_age.days} days older than the run's as-of time."
        ),
    }

    @dg.multi_asset_check(
        name=f"core_{table}_checks",
        specs=[
            dg.AssetCheckSpec(name, asset=asset, description=text)
            for name, text in descriptions.items()
        ],
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.get().connect() as con:
            problems = con.execute(
                "SELECT source, field, problem, count(*) FROM scorecard.data_quality "
                "WHERE table_name = ? GROUP BY ALL ORDER BY 4 DESC",
                [table],
            ).fetchall()
            duplicates = duplicate_keys(con, table)
            missing = null_keys(con, table)
            wrong = times_out_of_order(con, table)
            # As of the run's instant: a scheduled night retried days later keeps its tick.
            sources = stale_sources(con, table, run_instant(context, timezone), timezone)
        total = sum(row[3] for row in problems)
        yield dg.AssetCheckResult(
            asset_key=asset,
            check_name="data_quality",
            passed=total == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "issues": total,
                "by_problem": dg.MetadataValue.md(
                    "| source | field | problem | records |\n|---|---|---|---|\n"
                    + "\n".join(f"| {s} | {f} | {p} | {n} |" for s, f, p, n in problems)
                ),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=asset,
            check_name="unique_ids",
            passed=duplicates == 0,
            metadata={"duplicates": duplicates},
        )
        yield dg.AssetCheckResult(
            asset_key=asset,
            check_name="non_null_keys",
            passed=missing == 0,
            metadata={"records_without_key": missing},
        )
        yield dg.AssetCheckResult(
            asset_key=asset,
            check_name="times_in_order",
            passed=not any(wrong.values()),
            severity=dg.AssetCheckSeverity.WARN,
            metadata=wrong,
        )
        yield dg.AssetCheckResult(
            asset_key=asset,
            check_name="source_freshness",
            passed=not any(stale for _, stale in sources.values()),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={f"{source}/newest": str(newest) for source, (newest, _) in sources.items()}
            | {"stale_sources": ", ".join(s for s, (_, stale) in sources.items() if stale)},
        )

    return _checks


@dg.asset_check(
    asset=METRIC_VALUES,
    blocking=False,
    description=(
        "Values outside their metric's possible range (catalogue.yaml `range`), NaN or infinite "
        "are quarantined as NULL with a reason and listed here; publishing goes on."
    ),
)
def kpi_values_in_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get().connect() as con:
        quarantined = quarantined_values(con)
    return dg.AssetCheckResult(
        passed=not quarantined,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined": len(quarantined),
            "values": dg.MetadataValue.md(
                "| metric | grain | period | dimension | reason |\n|---|---|---|---|---|\n"
                + "\n".join(
                    f"| {m} | {g} | {p} | {d}={v} | {r} |" for m, g, p, d, v, r in quarantined[:50]
                )
            ),
        },
    )


@dg.asset_check(
    asset=PUBLISHED,
    description=(
        "The published file opens read-only at this release's schema version, and every bi "
        "view reads."
    ),
)
def snapshot_readable(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    path = warehouse.get().published_path
    expected = max(m.version for m in load_migrations())
    with duckdb.connect(str(path), read_only=True) as con:
        version = con.execute("SELECT max(version) FROM meta.schema_version").fetchall()[0][0]
        incidents = con.execute("SELECT count(*) FROM core.incidents").fetchall()[0][0]
        views = {
            name
            for (name,) in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE schema_name = 'bi'"
            ).fetchall()
        }
        for view in sorted(views & set(BI_VIEWS)):
            con.execute(f"SELECT * FROM bi.{view} LIMIT 1").fetchone()
    missing = sorted(set(BI_VIEWS) - views)
    return dg.AssetCheckResult(
        passed=version == expected and not missing,
        metadata={
            "schema_version": version,
            "expected_version": expected,
            "incidents": incidents,
            "missing_bi_views": ", ".join(missing),
        },
    )


def all_checks(timezone: str = "UTC") -> list[dg.AssetChecksDefinition]:
    return [
        *[core_table_checks(t, timezone) for t in CORE_TABLES],
        kpi_values_in_range,
        snapshot_readable,
    ]
