"""The KPI runner: every metric of transforms/metrics/catalogue.yaml, computed in SQL.

Each metric's SQL file lists the records it considers (one row per incident, change, cost row or
manual input, with its role and contribution). The runner stores those facts in kpi.metric_facts,
placed in their week, month and quarter in the scorecard's time zone, and aggregates them into
kpi.metric_values, so every value can be traced back to its records through kpi.metric_evidence.
A value outside its possible range is quarantined (NULL, a reason, a scorecard.data_quality row)
rather than stopping the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from transforms.catalogue import METRICS_DIR, ResolvedMetric, resolve_metrics
from warehouse.transaction import transaction

GRAINS = ("week", "month", "quarter")
WEEK_STARTS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class KpiRunSummary:
    """What one compute_metrics run produced (for asset metadata and logs)."""

    metrics: tuple[str, ...]
    disabled: tuple[str, ...]
    rows: int
    rows_by_metric: dict[str, int]
    fact_rows: int
    seconds: float
    timezone: str
    week_start: str
    as_of: datetime
    null_rows_by_metric: dict[str, int] = field(default_factory=dict)
    # (metric_id, grain, period_start, dimension, dimension_value, reason) of each quarantined value
    quarantined: tuple[tuple[Any, ...], ...] = ()
    # values of periods complete in the previous run that this run changed (kpi.metric_restatements)
    restated: int = 0
    # the currency the cost KPIs summed, and the problem of each source and currency left out
    cost_currency: str | None = None
    left_out_costs: tuple[str, ...] = ()
    # each source and provider whose costs another cost source delivers for the same days too
    shared_cost_providers: tuple[str, ...] = ()


def _cost_currency(con: duckdb.DuckDBPyConnection) -> str | None:
    """The currency the cost KPIs sum: FOCUS_CURRENCY as the last cost load stored it, if any."""
    return con.execute(_sql("_cost_currency.sql")).fetchall()[0][0]


def quarantined_values(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """(metric_id, grain, period_start, dimension, dimension_value, reason) of each value the
    range check set aside."""
    return con.execute(_sql("quarantined_values.sql")).fetchall()


def values_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The instant kpi.metric_values were computed for (None before the first KPI run).

    Scoring takes it as its "now", so the steps of one nightly run judge periods and staleness
    at the same instant even when the scoring starts after midnight.
    """
    rows = con.execute("SELECT as_of FROM kpi.metric_runs").fetchall()
    return rows[0][0] if rows else None


def _sql(name: str) -> str:
    return (METRICS_DIR / name).read_text(encoding="utf-8")


_SQL_TYPES = {
    "strings": "VARCHAR[]",
    "ints": "INTEGER[]",
    "bool": "BOOLEAN",
    "int": "INTEGER",
    "string": "VARCHAR",
    "choice": "VARCHAR",
}


def _set_variable(con: duckdb.DuckDBPyConnection, name: str, sql_type: str, value: Any) -> None:
    con.execute(f"SET VARIABLE {name} = CAST(? AS {sql_type})", [value])


def _check_settings(
    con: duckdb.DuckDBPyConnection,
    timezone: str,
    week_start: str,
    grains: Sequence[str],
    min_n: int,
    as_of: datetime,
) -> None:
    if week_start not in WEEK_STARTS:
        raise ValueError(f"week_start: expected one of {list(WEEK_STARTS)}, got {week_start!r}")
    if not grains or any(grain not in GRAINS for grain in grains):
        raise ValueError(f"grains: expected a non-empty subset of {list(GRAINS)}, got {grains!r}")
    if not isinstance(min_n, int) or isinstance(min_n, bool) or min_n < 0:
        raise ValueError(f"min_n: expected a whole number >= 0, got {min_n!r}")
    if as_of.tzinfo is None:
        raise ValueError("as_of: expected a time-zone-aware datetime")
    try:
        con.execute(
            "SELECT TIMESTAMPTZ '2000-01-01 00:00:00+00' AT TIME ZONE ?", [timezone]
        ).fetchall()
    except duckdb.Error as exc:
        raise ValueError(f"timezone: unknown time zone {timezone!r}") from exc


def _facts_source(con: duckdb.DuckDBPyConnection, metric_sql: str) -> str:
    """A SELECT giving every fact column, NULL where the metric SQL leaves one out.

    The metric SQL is read once, straight into kpi.metric_facts (no intermediate table).
    """
    declared = con.execute("DESCRIBE metric_facts_input").fetchall()
    produced = {row[0] for row in con.execute(f"DESCRIBE {metric_sql}").fetchall()}
    if unknown := produced - {row[0] for row in declared}:
        raise ValueError(f"columns {sorted(unknown)} are not fact columns")
    columns = ",\n    ".join(
        f"CAST({'produced.' + name if name in produced else 'NULL'} AS {sql_type}) AS {name}"
        for name, sql_type, *_ in declared
    )
    return f"SELECT\n    {columns}\nFROM ({metric_sql}) AS produced"


@contextmanager
def _unordered_inserts(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let this run's inserts write in any row order, then restore the session's setting.

    No KPI query depends on a table's row order (each ordered aggregate says ORDER BY). With the
    order kept, DuckDB held the 11M facts of the full-scale benchmark back and wrote them at
    COMMIT (about 5 s); without it, both threads write their row groups while inserting.
    """
    kept = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {bool(kept)}")


def _store_facts(con: duckdb.DuckDBPyConnection, facts_id: str, owner: ResolvedMetric) -> None:
    """Run one metric SQL file and store its facts, placed in their periods."""
    for name, value in owner.params.items():
        _set_variable(con, name, _SQL_TYPES[owner.definition.params[name].type], value)
    _set_variable(con, "facts_id", "VARCHAR", facts_id)
    path = owner.definition.sql_path
    try:
        source = _facts_source(con, path.read_text(encoding="utf-8"))
        con.execute(f"CREATE OR REPLACE TEMP VIEW metric_facts_source AS {source}")
        con.execute(f"INSERT INTO kpi.metric_facts BY NAME {_sql('_store_facts.sql')}")
    except (duckdb.Error, ValueError) as exc:
        raise RuntimeError(f"KPI facts {facts_id} ({path}) failed: {exc}") from exc


def _store_specs(con: duckdb.DuckDBPyConnection, metrics: Sequence[ResolvedMetric]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE metric_specs (metric_id VARCHAR, facts_id VARCHAR, "
        "statistic VARCHAR, scale DOUBLE, unit VARCHAR, min_n INTEGER, dimensions VARCHAR[], "
        "noun VARCHAR, numerator_noun VARCHAR, numerator_required BOOLEAN, "
        "numerator_covers_period BOOLEAN, denominator_covers_period BOOLEAN, worst_of VARCHAR, "
        "range_low DOUBLE, range_high DOUBLE)"
    )
    con.executemany(
        "INSERT INTO metric_specs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                m.definition.id,
                m.definition.facts,
                m.definition.statistic,
                m.definition.scale,
                m.definition.unit,
                m.min_n,
                list(m.definition.dimensions),
                m.definition.noun,
                m.definition.numerator_noun,
                m.definition.numerator_required,
                m.definition.numerator_covers_period,
                m.definition.denominator_covers_period,
                m.definition.worst_of,
                *(m.definition.value_range or (None, None)),
            ]
            for m in metrics
        ],
    )
    con.executemany(
        "INSERT INTO kpi.metric_definitions (metric_id, facts_id, name, perspective, unit, "
        "direction, statistic, scale, min_n, dimensions, params, worst_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                m.definition.id,
                m.definition.facts,
                m.definition.name,
                m.definition.perspective,
                m.definition.unit,
                m.definition.direction,
                m.definition.statistic,
                m.definition.scale,
                m.min_n,
                list(m.definition.dimensions),
                json.dumps(dict(m.params)),
                m.definition.worst_of,
            ]
            for m in metrics
        ],
    )


def compute_metrics(
    con: duckdb.DuckDBPyConnection,
    *,
    timezone: str = "UTC",
    week_start: str = "monday",
    overrides: Mapping[str, Mapping] | None = None,
    min_n: int = 5,
    grains: Sequence[str] = GRAINS,
    as_of: datetime | None = None,
) -> KpiRunSummary:
    """Replace kpi.metric_values and kpi.metric_facts with a fresh computation, in one transaction.

    kpi.metric_restatements lists the values of periods complete in the previous run that this
    run changed (a run on the same day keeps the day's first list). A failed run rolls back,
    leaving the previous values (and their evidence) in place.
    """
    started = time.perf_counter()
    as_of = as_of or datetime.now(UTC)
    grains = tuple(grains)
    _check_settings(con, timezone, week_start, grains, min_n, as_of)
    resolved = resolve_metrics(overrides, min_n)
    enabled = [m for m in resolved if m.enabled]
    owners = {m.definition.id: m for m in resolved}
    facts_ids = list(dict.fromkeys(m.definition.facts for m in enabled))

    with _unordered_inserts(con), transaction(con):
        _set_variable(con, "timezone", "VARCHAR", timezone)
        _set_variable(con, "as_of", "TIMESTAMPTZ", as_of)
        con.execute(
            "SET VARIABLE as_of_local = getvariable('as_of') AT TIME ZONE getvariable('timezone')"
        )
        con.execute("SET VARIABLE as_of_day = CAST(getvariable('as_of_local') AS DATE)")
        con.execute(_sql("_previous_values.sql"))
        for table in (
            "metric_values",
            "metric_facts",
            "metric_definitions",
            "metric_runs",
            "metric_restatements",
        ):
            con.execute(f"DELETE FROM kpi.{table}")
        con.execute(
            "DELETE FROM scorecard.data_quality "
            "WHERE table_name IN ('metric_values', 'metric_facts')"
        )
        _set_variable(con, "week_offset", "INTEGER", WEEK_STARTS.index(week_start))
        _set_variable(con, "grains", "VARCHAR[]", list(grains))
        _set_variable(con, "computed_at", "TIMESTAMPTZ", datetime.now(UTC))
        # Shared rules first; the fact contract and shared views read each metric's settings
        # when queried; the evidence views are replaced with the values they explain.
        con.execute(_sql("_macros.sql"))
        cost_currency = _cost_currency(con)
        _set_variable(con, "cost_currency", "VARCHAR", cost_currency)
        left_out_costs = con.execute(
            f"INSERT INTO scorecard.data_quality BY NAME {_sql('_left_out_costs.sql')} "
            "RETURNING source || ': ' || problem"
        ).fetchall()
        con.execute(_sql("_facts_input.sql"))
        shared_cost_providers = con.execute(
            f"INSERT INTO scorecard.data_quality BY NAME {_sql('_shared_cost_providers.sql')} "
            "RETURNING source || ': ' || problem"
        ).fetchall()
        for facts_id in facts_ids:
            _store_facts(con, facts_id, owners[facts_id])
        _store_specs(con, enabled)
        con.execute(_sql("_period_sums.sql"))
        metric_values = _sql("_metric_values.sql")
        for facts_id in facts_ids:
            _set_variable(con, "batch_facts_id", "VARCHAR", facts_id)
            con.execute(_sql("_batch.sql"))
            con.execute(f"INSERT INTO kpi.metric_values BY NAME {metric_values}")
        con.execute(_sql("_evidence.sql"))
        con.execute(f"INSERT INTO scorecard.data_quality BY NAME {_sql('_quarantine.sql')}")
        quarantined = quarantined_values(con)
        counts = con.execute(
            "SELECT metric_id, count(*), count(*) FILTER (WHERE value IS NULL) "
            "FROM kpi.metric_values GROUP BY metric_id"
        ).fetchall()
        fact_rows = con.execute("SELECT count(*) FROM kpi.metric_facts").fetchall()[0][0]
        rows_by_metric = {m.definition.id: 0 for m in enabled} | {c[0]: c[1] for c in counts}
        seconds = time.perf_counter() - started
        con.execute(
            "INSERT INTO kpi.metric_runs (computed_at, as_of, timezone, week_start, metrics, "
            "value_rows, seconds, cost_currency) "
            "VALUES (getvariable('computed_at'), ?, ?, ?, ?, ?, ?, ?)",
            [
                as_of,
                timezone,
                week_start,
                len(enabled),
                sum(rows_by_metric.values()),
                seconds,
                cost_currency,
            ],
        )
        restated = con.execute(
            f"INSERT INTO kpi.metric_restatements BY NAME {_sql('_restatements.sql')}"
        ).fetchall()[0][0]
    return KpiRunSummary(
        metrics=tuple(m.definition.id for m in enabled),
        disabled=tuple(m.definition.id for m in resolved if not m.enabled),
        rows=sum(rows_by_metric.values()),
        rows_by_metric=rows_by_metric,
        fact_rows=fact_rows,
        seconds=time.perf_counter() - started,
        timezone=timezone,
        week_start=week_start,
        as_of=as_of,
        null_rows_by_metric={c[0]: c[2] for c in counts},
        quarantined=tuple(tuple(row) for row in quarantined),
        restated=restated,
        cost_currency=cost_currency,
        left_out_costs=tuple(row[0] for row in left_out_costs),
        shared_cost_providers=tuple(row[0] for row in shared_cost_providers),
    )
