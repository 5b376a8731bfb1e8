"""Asset checks: data quality per core table, sane KPI values, a readable published snapshot."""

import dagster as dg
import duckdb

from pipelines.core import core_key
from pipelines.kpi import METRIC_VALUES
from pipelines.publish import PUBLISHED
from pipelines.resources import WarehouseResource
from transforms.staging import CORE_TABLES
from warehouse.migrations import load_migrations


def data_quality_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=core_key(table),
        name="data_quality",
        description=f"Records of core.{table} that a source sent with bad or missing values.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get().connect() as con:
            problems = con.execute(
                "SELECT source, field, problem, count(*) FROM scorecard.data_quality "
                "WHERE table_name = ? GROUP BY ALL ORDER BY 4 DESC",
                [table],
            ).fetchall()
        total = sum(row[3] for row in problems)
        return dg.AssetCheckResult(
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

    return _check


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
        quarantined = con.execute(
            "SELECT metric_id, grain, period_start, dimension, dimension_value, reason "
            "FROM kpi.metric_values WHERE starts_with(reason, 'quarantined: ') "
            "   OR NOT isfinite(value) ORDER BY ALL"
        ).fetchall()
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
    description="The published file opens read-only at this release's schema version.",
)
def snapshot_readable(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    path = warehouse.get().published_path
    expected = max(m.version for m in load_migrations())
    with duckdb.connect(str(path), read_only=True) as con:
        version = con.execute("SELECT max(version) FROM meta.schema_version").fetchall()[0][0]
        incidents = con.execute("SELECT count(*) FROM core.incidents").fetchall()[0][0]
    return dg.AssetCheckResult(
        passed=version == expected,
        metadata={"schema_version": version, "expected_version": expected, "incidents": incidents},
    )


def all_checks() -> list[dg.AssetChecksDefinition]:
    return [data_quality_check(t) for t in CORE_TABLES] + [kpi_values_in_range, snapshot_readable]
