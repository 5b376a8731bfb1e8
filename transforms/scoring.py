"""Score KPIs against the goals in scorecard.yaml and roll them up (SQL: transforms/scorecard/)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from transforms.signals import DEFAULT_BASELINE_PERIODS, apply_signals
from warehouse.transaction import transaction

SQL_DIR = Path(__file__).parent / "scorecard"


@dataclass(frozen=True)
class ScoringSummary:
    metrics_scored: int
    status_rows: int
    objectives: int
    perspectives: int


def goals_table(metrics: Mapping[str, Mapping[str, Any]], defaults: Mapping[str, str]) -> pa.Table:
    """One row per enabled metric; perspective falls back to the metric catalogue's default."""
    rows = []
    for metric_id, m in metrics.items():
        if not m.get("enabled", True):
            continue
        band = m.get("band") or (None, None)
        rows.append(
            {
                "metric_id": metric_id,
                "grain": m.get("grain", "month"),
                "perspective": m.get("perspective") or defaults.get(metric_id),
                "objective": m.get("objective"),
                "owner": m.get("owner"),
                "threshold": m.get("threshold"),
                "target": m.get("target"),
                "stretch": m.get("stretch"),
                "baseline": m.get("baseline"),
                "band_low": band[0],
                "band_high": band[1],
                "weight": float(m.get("weight", 1.0)),
                "critical": bool(m.get("critical", False)),
                "target_date": _as_date(m.get("target_date")),
            }
        )
    schema = pa.schema(
        [
            ("metric_id", pa.string()),
            ("grain", pa.string()),
            ("perspective", pa.string()),
            ("objective", pa.string()),
            ("owner", pa.string()),
            ("threshold", pa.float64()),
            ("target", pa.float64()),
            ("stretch", pa.float64()),
            ("baseline", pa.float64()),
            ("band_low", pa.float64()),
            ("band_high", pa.float64()),
            ("weight", pa.float64()),
            ("critical", pa.bool_()),
            ("target_date", pa.date32()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def score_metrics(
    con: duckdb.DuckDBPyConnection,
    metrics: Mapping[str, Mapping[str, Any]],
    perspective_defaults: Mapping[str, str] | None = None,
    as_of: datetime | None = None,
    timezone: str = "UTC",
    signal_baseline_periods: int = DEFAULT_BASELINE_PERIODS,
) -> ScoringSummary:
    """Replace scorecard.metric_status and the roll-ups in one transaction.

    Only periods that ended by `as_of` (the run's "now", default the current time) in the
    calendar's `timezone` are scored, and staleness is judged against it.
    """
    as_of = as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError("as_of: expected a time-zone-aware datetime")
    goals = goals_table(metrics, perspective_defaults or {})
    con.execute(
        "SET VARIABLE scoring_as_of = CAST(? AS TIMESTAMPTZ) AT TIME ZONE ?", [as_of, timezone]
    )
    con.register("scorecard_goals", goals)
    try:
        with transaction(con):
            con.execute("DELETE FROM scorecard.metric_status")
            con.execute(f"INSERT INTO scorecard.metric_status BY NAME ({_sql('metric_status')})")
            apply_signals(con, baseline_periods=signal_baseline_periods)
            con.execute("DELETE FROM scorecard.objective_scores")
            con.execute("DELETE FROM scorecard.perspective_scores")
            rollups = _sql("rollups")
            con.execute(
                "INSERT INTO scorecard.objective_scores BY NAME "
                f"(SELECT name AS objective, * EXCLUDE (level, name) FROM ({rollups}) "
                "WHERE level = 'objective')"
            )
            con.execute(
                "INSERT INTO scorecard.perspective_scores BY NAME "
                f"(SELECT name AS perspective, * EXCLUDE (level, name, perspective) "
                f"FROM ({rollups}) WHERE level = 'perspective')"
            )
            counts = con.execute(
                "SELECT (SELECT count(DISTINCT metric_id) FROM scorecard.metric_status),"
                " (SELECT count(*) FROM scorecard.metric_status),"
                " (SELECT count(DISTINCT objective) FROM scorecard.objective_scores),"
                " (SELECT count(DISTINCT perspective) FROM scorecard.perspective_scores)"
            ).fetchall()[0]
    finally:
        con.unregister("scorecard_goals")
    return ScoringSummary(*counts)


def _as_date(value: date | str | None) -> date | None:
    """YAML gives a date for 2026-12-31 but a string when quoted."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()
