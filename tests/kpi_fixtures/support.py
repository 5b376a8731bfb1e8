"""Load the hand-built KPI fixture and read kpi.metric_values back as a dictionary."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from transforms.kpis import compute_metrics
from transforms.staging import stage

FIXTURE_SQL = Path(__file__).parent / "fixture.sql"
AS_OF = datetime(2024, 3, 31, 21, 0, tzinfo=UTC)  # 23:00 on 2024-03-31 in Berlin


def load_fixture(con) -> None:
    con.execute(FIXTURE_SQL.read_text())


def values_by_key(con) -> dict[tuple, dict]:
    """{(metric, grain, period, dimension, dimension_value): {value, numerator, ...}}"""
    rows = con.execute(
        "SELECT metric_id, grain, period_start, dimension, dimension_value, value, numerator, "
        "denominator, n, coverage, reason FROM kpi.metric_values"
    ).fetchall()
    names = ("value", "numerator", "denominator", "n", "coverage", "reason")
    return {tuple(row[:5]): dict(zip(names, row[5:], strict=True)) for row in rows}


def credit_groups_and_coverage(
    con, source: str, service_name: str, cost_column: str, as_of: datetime
) -> tuple[list[tuple], tuple]:
    """Stage a cost API's landed costs: the groups of one provider service by allocation
    (service, ChargeCategory, BilledCost, EffectiveCost) and February 2025's cost allocation
    coverage (value, numerator, denominator) when it sums `cost_column`."""
    stage(con, source, "costs")
    groups = con.execute(
        "SELECT service, ChargeCategory, BilledCost, EffectiveCost FROM core.costs "
        "WHERE ServiceName = ? ORDER BY ALL",
        [service_name],
    ).fetchall()
    compute_metrics(
        con,
        min_n=1,
        as_of=as_of,
        overrides={"cost_allocation_coverage": {"params": {"cost_column": cost_column}}},
    )
    february = values_by_key(con)[
        ("cost_allocation_coverage", "month", date(2025, 2, 1), "all", "all")
    ]
    return groups, (february["value"], february["numerator"], february["denominator"])
