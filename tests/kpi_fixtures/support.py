"""Load the hand-built KPI fixture and read kpi.metric_values back as a dictionary."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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
