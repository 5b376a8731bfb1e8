"""Score KPIs against the goals in scorecard.yaml, roll them up and keep the action log
(SQL: transforms/scorecard/)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from settings.config import DEFAULT_SCORECARD, GOAL_KEYS, goals_after
from transforms.signals import DEFAULT_BASELINE_PERIODS, apply_signals
from warehouse.transaction import transaction

SQL_DIR = Path(__file__).parent / "scorecard"
DUE_DAYS = {"week": 7, "month": 14, "quarter": 30}
_GOALS_SCHEMA = pa.schema(
    [
        ("scorecard_id", pa.string()),
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
        ("goals_from", pa.date32()),
        ("goals_to", pa.date32()),
    ]
)
_COMMENTARY_SCHEMA = pa.schema(
    [
        ("scorecard_id", pa.string()),
        ("metric_id", pa.string()),
        ("period_start", pa.date32()),
        ("commentary", pa.string()),
        ("decision", pa.string()),
        ("author", pa.string()),
    ]
)


@dataclass(frozen=True)
class ScoringSummary:
    metrics_scored: int
    status_rows: int
    objectives: int
    perspectives: int
    open_actions: int = 0


def goals_table(
    metrics: Mapping[str, Mapping[str, Any]],
    defaults: Mapping[str, str],
    scorecard_id: str = DEFAULT_SCORECARD,
) -> pa.Table:
    """One row per enabled metric and goal version: [goals_from, goals_to), the last version
    ending at the retirement date. Perspective falls back to the metric catalogue's default."""
    rows = []
    for metric_id, m in metrics.items():
        if not m.get("enabled", True):
            continue
        retired = m.get("retired")
        # A version that would take effect on or after the retirement never does: the one
        # before it ends at the retirement.
        versions = [
            v
            for v in [{"effective": None}, *m.get("goals", ())]
            if retired is None or v["effective"] is None or v["effective"] < retired
        ]
        ends = [v["effective"] for v in versions[1:]] + [retired]
        goals = {k: m.get(k) for k in GOAL_KEYS}
        for version, end in zip(versions, ends, strict=True):
            goals = goals_after(goals, version)
            band = goals.get("band") or (None, None)
            rows.append(
                {
                    "scorecard_id": scorecard_id,
                    "metric_id": metric_id,
                    "grain": m.get("grain", "month"),
                    "perspective": m.get("perspective") or defaults.get(metric_id),
                    "objective": m.get("objective"),
                    "owner": m.get("owner"),
                    "threshold": goals["threshold"],
                    "target": goals["target"],
                    "stretch": goals["stretch"],
                    "baseline": m.get("baseline"),
                    "band_low": band[0],
                    "band_high": band[1],
                    "weight": float(goals.get("weight") or 1.0),
                    "critical": bool(m.get("critical", False)),
                    "target_date": _as_date(m.get("target_date")),
                    "goals_from": version["effective"],
                    "goals_to": end,
                }
            )
    return pa.Table.from_pylist(rows, schema=_GOALS_SCHEMA)


def score_metrics(
    con: duckdb.DuckDBPyConnection,
    metrics: Mapping[str, Mapping[str, Any]],
    perspective_defaults: Mapping[str, str] | None = None,
    as_of: datetime | None = None,
    timezone: str = "UTC",
    *,
    scorecards: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    commentary: pa.Table | None = None,
    initiatives: Sequence[Mapping[str, Any]] = (),
    governance: Sequence[Any] = (),
    due_days: Mapping[str, int] | None = None,
    signal_baseline_periods: int = DEFAULT_BASELINE_PERIODS,
) -> ScoringSummary:
    """Replace metric_status, the roll-ups, initiatives and the scorecard's data_quality rows, and
    bring the action log up to date, in one transaction.

    `scorecards` maps each scorecard id to its metrics (default: `metrics` as the one default
    scorecard). Only periods that ended by `as_of` (the run's "now", default the current time) in
    the calendar's `timezone` are scored, and staleness is judged against it.
    """
    as_of = as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError("as_of: expected a time-zone-aware datetime")
    scorecards = scorecards if scorecards is not None else {DEFAULT_SCORECARD: metrics}
    goals = pa.concat_tables(
        [goals_table(m, perspective_defaults or {}, card) for card, m in scorecards.items()]
        or [goals_table({}, {})]
    )
    con.execute(
        "SET VARIABLE scoring_as_of = CAST(? AS TIMESTAMPTZ) AT TIME ZONE ?", [as_of, timezone]
    )
    con.execute("SET VARIABLE scoring_now = CAST(? AS TIMESTAMPTZ)", [as_of])
    inputs = {
        "scorecard_goals": goals,
        "scorecard_commentary": commentary or _COMMENTARY_SCHEMA.empty_table(),
        "scorecard_due_days": pa.table(
            {
                "grain": list(DUE_DAYS),
                "days": [(due_days or DUE_DAYS).get(g, DUE_DAYS[g]) for g in DUE_DAYS],
            }
        ),
        "scorecard_initiative_rows": _initiatives_table(initiatives),
        "scorecard_governance": pa.Table.from_pylist(
            [
                {
                    "record_key": f.record_key,
                    "field": f.field,
                    "problem": f.problem,
                    "value": f.value,
                }
                for f in governance
            ],
            schema=pa.schema(
                [(k, pa.string()) for k in ("record_key", "field", "problem", "value")]
            ),
        ),
    }
    for name, table in inputs.items():
        con.register(name, table)
    try:
        with transaction(con):
            con.execute("DELETE FROM scorecard.metric_goals")
            con.execute(f"INSERT INTO scorecard.metric_goals BY NAME ({_sql('metric_goals')})")
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
            con.execute("DELETE FROM scorecard.initiatives")
            con.execute(
                "INSERT INTO scorecard.initiatives BY NAME SELECT * FROM scorecard_initiative_rows"
            )
            con.execute("DELETE FROM scorecard.initiative_progress")
            con.execute(
                f"INSERT INTO scorecard.initiative_progress BY NAME ({_sql('initiative_progress')})"
            )
            con.execute(_sql("actions"))
            con.execute("DELETE FROM scorecard.data_quality WHERE source = 'scorecard'")
            con.execute(
                "INSERT INTO scorecard.data_quality BY NAME "
                "(SELECT *, getvariable('scoring_now') AS detected_at "
                f"FROM ({_sql('commentary_flags')}))"
            )
            counts = con.execute(
                "SELECT (SELECT count(DISTINCT metric_id) FROM scorecard.metric_status),"
                " (SELECT count(*) FROM scorecard.metric_status),"
                " (SELECT count(DISTINCT objective) FROM scorecard.objective_scores),"
                " (SELECT count(DISTINCT perspective) FROM scorecard.perspective_scores),"
                " (SELECT count(*) FROM scorecard.actions WHERE status = 'open')"
            ).fetchall()[0]
    finally:
        for name in inputs:
            con.unregister(name)
    return ScoringSummary(*counts)


def _initiatives_table(initiatives: Sequence[Mapping[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [
            ("scorecard_id", pa.string()),
            ("initiative_id", pa.string()),
            ("name", pa.string()),
            ("owner", pa.string()),
            ("budget", pa.float64()),
            ("status", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("objectives", pa.list_(pa.string())),
            ("metrics", pa.list_(pa.string())),
            ("review_periods", pa.int32()),
        ]
    )
    return pa.Table.from_pylist([dict(i) for i in initiatives], schema=schema)


def initiative_rows(initiatives: Mapping[str, Any]) -> list[dict[str, Any]]:
    """scorecard.yaml's initiatives as scorecard.initiatives rows."""
    return [
        {
            "scorecard_id": i.scorecard,
            "initiative_id": key,
            "name": i.name or key,
            "owner": i.owner,
            "budget": i.budget,
            "status": i.status,
            "start_date": i.start,
            "end_date": i.end,
            "objectives": list(i.objectives),
            "metrics": list(i.metrics),
            "review_periods": i.review_periods,
        }
        for key, i in initiatives.items()
    ]


def _as_date(value: date | str | None) -> date | None:
    """YAML gives a date for 2026-12-31 but a string when quoted."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
