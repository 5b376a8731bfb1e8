"""The KPI runner: every metric of transforms/metrics/catalogue.yaml, computed in SQL.

Each metric's SQL file lists the records it considers (one row per incident, change, cost row or
manual input, with its role and contribution). The runner stores those facts in kpi.metric_facts,
placed in their week, month and quarter in the scorecard's time zone, and aggregates them into
kpi.metric_values, so every value can be traced back to its records through kpi.metric_evidence.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

METRICS_DIR = Path(__file__).parent / "metrics"
CATALOGUE_PATH = METRICS_DIR / "catalogue.yaml"
INPUTS_PATH = METRICS_DIR / "inputs.yaml"

GRAINS = ("week", "month", "quarter")
WEEK_STARTS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STATISTICS = ("ratio", "median", "p90", "sum", "per_week", "days_per_week", "cumulative_ratio")
DIMENSIONS = (
    "service",
    "assignment_group",
    "priority",
    "source",
    "provider",
    "service_category",
    "initiative",
)
PARAM_TYPES = ("strings", "ints", "bool", "int", "string", "choice")
# Variable names become SQL identifiers in SET VARIABLE, so only plain names are allowed.
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ParamSpec:
    """A setting of a metric that scorecard.yaml may override."""

    name: str
    type: str
    default: Any
    meaning: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricDefinition:
    """One catalogue entry: what the metric means and how it is computed."""

    id: str
    name: str
    perspective: str
    unit: str
    direction: str
    statistic: str
    scale: float
    facts: str
    numerator: str
    denominator: str
    rules: tuple[str, ...]
    sources: tuple[str, ...]
    dimensions: tuple[str, ...]
    min_n: int | None
    noun: str
    numerator_noun: str | None
    numerator_required: bool
    params: Mapping[str, ParamSpec]

    @property
    def sql_path(self) -> Path:
        return METRICS_DIR / f"{self.facts}.sql"


@dataclass(frozen=True)
class InputDefinition:
    """A manual input the KPIs read from core.measures."""

    id: str
    unit: str
    aggregation: str
    dimension: str
    meaning: str
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedMetric:
    """A catalogue entry after the scorecard's overrides: enabled or not, its min_n and params."""

    definition: MetricDefinition
    enabled: bool
    min_n: int
    params: Mapping[str, Any]


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


class CatalogueError(ValueError):
    """The catalogue files themselves are inconsistent (a bug in this repository, not in config)."""


def _param_spec(metric_id: str, name: str, raw: Mapping[str, Any]) -> ParamSpec:
    if not _IDENTIFIER.match(name) or raw.get("type") not in PARAM_TYPES:
        raise CatalogueError(f"{CATALOGUE_PATH}: metric {metric_id} param {name} is malformed")
    return ParamSpec(
        name=name,
        type=raw["type"],
        default=raw["default"],
        meaning=raw.get("meaning", ""),
        choices=tuple(raw.get("choices", ())),
    )


def _definition(raw: Mapping[str, Any]) -> MetricDefinition:
    metric_id = raw["id"]
    definition = MetricDefinition(
        id=metric_id,
        name=raw["name"],
        perspective=raw["perspective"],
        unit=raw["unit"],
        direction=raw["direction"],
        statistic=raw["statistic"],
        scale=float(raw.get("scale", 1)),
        facts=raw["facts"],
        numerator=raw["numerator"],
        denominator=raw["denominator"],
        rules=tuple(raw.get("rules", ())),
        sources=tuple(raw["sources"]),
        dimensions=tuple(raw.get("dimensions", ())),
        min_n=raw.get("min_n"),
        noun=raw["noun"],
        numerator_noun=raw.get("numerator_noun"),
        numerator_required=bool(raw.get("numerator_required", False)),
        params={
            name: _param_spec(metric_id, name, spec)
            for name, spec in (raw.get("params") or {}).items()
        },
    )
    problems = []
    if not all(isinstance(rule, str) for rule in definition.rules):
        problems.append("every rule must be a string (quote rules that contain ': ')")
    if definition.statistic not in STATISTICS:
        problems.append(f"statistic {definition.statistic!r} is not one of {STATISTICS}")
    if not definition.sql_path.is_file():
        problems.append(f"SQL file {definition.sql_path} is missing")
    if unknown := set(definition.dimensions) - set(DIMENSIONS):
        problems.append(f"unknown dimensions {sorted(unknown)}")
    if problems:
        raise CatalogueError(f"{CATALOGUE_PATH}: metric {metric_id}: " + "; ".join(problems))
    return definition


@cache
def load_catalogue() -> tuple[MetricDefinition, ...]:
    """All metric definitions, in catalogue order (grouped by perspective)."""
    raw = yaml.safe_load(CATALOGUE_PATH.read_text())
    definitions = tuple(_definition(entry) for entry in raw["metrics"])
    ids = [d.id for d in definitions]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{CATALOGUE_PATH}: duplicate metric ids")
    return definitions


@cache
def load_inputs() -> tuple[InputDefinition, ...]:
    """The manual input metric_ids core.measures is expected to hold."""
    raw = yaml.safe_load(INPUTS_PATH.read_text())
    return tuple(
        InputDefinition(
            id=entry["id"],
            unit=entry["unit"],
            aggregation=entry["aggregation"],
            dimension=entry["dimension"],
            meaning=entry["meaning"],
            used_by=tuple(entry["used_by"]),
        )
        for entry in raw["inputs"]
    )


def _checked_param(path: str, spec: ParamSpec, value: Any) -> Any:
    """Validate one override value against its spec; matching lists are compared in lower case."""

    def is_int(item: Any) -> bool:
        return isinstance(item, int) and not isinstance(item, bool)

    if spec.type == "strings":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{path}: expected a list of strings, got {value!r}")
        return [item.lower() for item in value]
    if spec.type == "ints":
        if not isinstance(value, list) or not all(is_int(item) for item in value):
            raise ValueError(f"{path}: expected a list of integers, got {value!r}")
        return list(value)
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected true or false, got {value!r}")
        return value
    if spec.type == "int":
        if not is_int(value):
            raise ValueError(f"{path}: expected an integer, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a string, got {value!r}")
    if spec.type == "choice" and value not in spec.choices:
        raise ValueError(f"{path}: expected one of {list(spec.choices)}, got {value!r}")
    return value


def resolve_metrics(
    overrides: Mapping[str, Mapping] | None, min_n: int
) -> tuple[ResolvedMetric, ...]:
    """Apply scorecard.yaml's `metrics:` mapping; a bad setting raises ValueError with its path."""
    catalogue = {d.id: d for d in load_catalogue()}
    overrides = overrides or {}
    if not isinstance(overrides, Mapping):
        raise ValueError("metrics: expected a mapping of metric id to settings")
    if unknown := sorted(set(overrides) - set(catalogue)):
        raise ValueError(
            f"metrics: unknown metric id(s) {unknown}; known ids: {', '.join(catalogue)}"
        )
    resolved = []
    for metric_id, definition in catalogue.items():
        settings = overrides.get(metric_id) or {}
        if not isinstance(settings, Mapping):
            raise ValueError(f"metrics.{metric_id}: expected a mapping, got {settings!r}")
        enabled = settings.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(
                f"metrics.{metric_id}.enabled: expected true or false, got {enabled!r}"
            )
        metric_min_n = settings.get(
            "min_n", definition.min_n if definition.min_n is not None else min_n
        )
        if not isinstance(metric_min_n, int) or isinstance(metric_min_n, bool) or metric_min_n < 0:
            raise ValueError(
                f"metrics.{metric_id}.min_n: expected a whole number >= 0, got {metric_min_n!r}"
            )
        params_override = settings.get("params") or {}
        if not isinstance(params_override, Mapping):
            raise ValueError(f"metrics.{metric_id}.params: expected a mapping")
        if unknown_params := sorted(set(params_override) - set(definition.params)):
            known = ", ".join(definition.params) or "none"
            raise ValueError(
                f"metrics.{metric_id}.params: unknown parameter(s) {unknown_params}; known: {known}"
            )
        params = {
            name: _checked_param(
                f"metrics.{metric_id}.params.{name}",
                spec,
                params_override.get(name, spec.default),
            )
            for name, spec in definition.params.items()
        }
        resolved.append(ResolvedMetric(definition, enabled, metric_min_n, params))
    return tuple(resolved)


def _sql(name: str) -> str:
    return (METRICS_DIR / name).read_text()


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


def _store_facts(con: duckdb.DuckDBPyConnection, facts_id: str, owner: ResolvedMetric) -> None:
    """Run one metric SQL file and store its facts, placed in their periods."""
    for name, value in owner.params.items():
        _set_variable(con, name, _SQL_TYPES[owner.definition.params[name].type], value)
    _set_variable(con, "facts_id", "VARCHAR", facts_id)
    path = owner.definition.sql_path
    try:
        source = _facts_source(con, path.read_text())
        con.execute(f"CREATE OR REPLACE TEMP VIEW metric_facts_source AS {source}")
        con.execute(f"INSERT INTO kpi.metric_facts BY NAME {_sql('_store_facts.sql')}")
    except (duckdb.Error, ValueError) as exc:
        raise RuntimeError(f"KPI facts {facts_id} ({path}) failed: {exc}") from exc


def _store_specs(con: duckdb.DuckDBPyConnection, metrics: Sequence[ResolvedMetric]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE metric_specs (metric_id VARCHAR, facts_id VARCHAR, "
        "statistic VARCHAR, scale DOUBLE, unit VARCHAR, min_n INTEGER, dimensions VARCHAR[], "
        "noun VARCHAR, numerator_noun VARCHAR, numerator_required BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO metric_specs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ]
            for m in metrics
        ],
    )
    con.executemany(
        "INSERT INTO kpi.metric_definitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

    A failed run rolls back, leaving the previous values (and their evidence) in place.
    """
    started = time.perf_counter()
    as_of = as_of or datetime.now(UTC)
    grains = tuple(grains)
    _check_settings(con, timezone, week_start, grains, min_n, as_of)
    resolved = resolve_metrics(overrides, min_n)
    enabled = [m for m in resolved if m.enabled]
    owners = {m.definition.id: m for m in resolved}
    facts_ids = list(dict.fromkeys(m.definition.facts for m in enabled))

    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("metric_values", "metric_facts", "metric_definitions", "metric_runs"):
            con.execute(f"DELETE FROM kpi.{table}")
        _set_variable(con, "timezone", "VARCHAR", timezone)
        _set_variable(con, "as_of", "TIMESTAMPTZ", as_of)
        con.execute(
            "SET VARIABLE as_of_day = "
            "CAST(getvariable('as_of') AT TIME ZONE getvariable('timezone') AS DATE)"
        )
        _set_variable(con, "week_offset", "INTEGER", WEEK_STARTS.index(week_start))
        _set_variable(con, "grains", "VARCHAR[]", list(grains))
        _set_variable(con, "computed_at", "TIMESTAMPTZ", datetime.now(UTC))
        # The fact contract and the shared views read each metric's settings when queried.
        con.execute(_sql("_facts_input.sql"))
        for facts_id in facts_ids:
            _store_facts(con, facts_id, owners[facts_id])
        _store_specs(con, enabled)
        con.execute(f"INSERT INTO kpi.metric_values BY NAME {_sql('_metric_values.sql')}")
        counts = con.execute(
            "SELECT metric_id, count(*), count(*) FILTER (WHERE value IS NULL) "
            "FROM kpi.metric_values GROUP BY metric_id"
        ).fetchall()
        fact_rows = con.execute("SELECT count(*) FROM kpi.metric_facts").fetchall()[0][0]
        rows_by_metric = {m.definition.id: 0 for m in enabled} | {c[0]: c[1] for c in counts}
        seconds = time.perf_counter() - started
        con.execute(
            "INSERT INTO kpi.metric_runs VALUES (getvariable('computed_at'), ?, ?, ?, ?, ?, ?)",
            [as_of, timezone, week_start, len(enabled), sum(rows_by_metric.values()), seconds],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
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
    )
