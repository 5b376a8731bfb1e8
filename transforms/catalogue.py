"""The metric catalogue: what each KPI means (catalogue.yaml, inputs.yaml) and how scorecard.yaml
may redefine it. Read by the KPI runner, the metric dictionary, the checks and the config checker.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

METRICS_DIR = Path(__file__).parent / "metrics"
CATALOGUE_PATH = METRICS_DIR / "catalogue.yaml"
INPUTS_PATH = METRICS_DIR / "inputs.yaml"

STATISTICS = (
    "ratio",
    "median",
    "p90",
    "sum",
    "per_week",
    "days_per_week",
    "cumulative_ratio",
    "lowest_ratio",
)
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
    # The possible values (None = unbounded on that side); a value outside is quarantined.
    value_range: tuple[float | None, float | None] | None = None
    # lowest_ratio only: the dimension whose lowest value the metric reports.
    worst_of: str | None = None
    # The numerator's inputs must span every day of a complete period (e.g. a month's cost).
    numerator_covers_period: bool = False
    # The denominator's inputs must span every day of the period (a stock such as headcount,
    # whose missing month is not zero).
    denominator_covers_period: bool = False

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


def _value_range(metric_id: str, raw: Any) -> tuple[float | None, float | None] | None:
    if raw is None:
        return None
    bounds_ok = isinstance(raw, list) and len(raw) == 2
    if not bounds_ok or not all(b is None or isinstance(b, int | float) for b in raw):
        raise CatalogueError(f"{CATALOGUE_PATH}: metric {metric_id}: range must be [low, high]")
    low, high = raw
    return (None if low is None else float(low), None if high is None else float(high))


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
        value_range=_value_range(metric_id, raw.get("range")),
        worst_of=raw.get("worst_of"),
        numerator_covers_period=bool(raw.get("numerator_covers_period", False)),
        denominator_covers_period=bool(raw.get("denominator_covers_period", False)),
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
    if (definition.statistic == "lowest_ratio") != (definition.worst_of in DIMENSIONS):
        problems.append("statistic lowest_ratio needs worst_of naming a dimension, and only it")
    if problems:
        raise CatalogueError(f"{CATALOGUE_PATH}: metric {metric_id}: " + "; ".join(problems))
    return definition


@cache
def load_catalogue() -> tuple[MetricDefinition, ...]:
    """All metric definitions, in catalogue order (grouped by perspective)."""
    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    definitions = tuple(_definition(entry) for entry in raw["metrics"])
    ids = [d.id for d in definitions]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"{CATALOGUE_PATH}: duplicate metric ids")
    return definitions


@cache
def load_inputs() -> tuple[InputDefinition, ...]:
    """The manual input metric_ids core.measures is expected to hold."""
    raw = yaml.safe_load(INPUTS_PATH.read_text(encoding="utf-8"))
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


def _lower_as_sql(text: str) -> str:
    """Lower case as DuckDB's lower() gives it, which the metric SQL compares these names with.

    DuckDB maps each letter on its own; Python's str.lower does not for two: "İ" (Turkish) becomes
    "i" plus a combining dot, and a word-final "Σ" becomes "ς". A committed service named "İK
    Portalı" or "ΤΑΜΕΙΟΣ" would then match no record.
    """
    return "".join(letter.lower()[0] for letter in text)


def _checked_param(path: str, spec: ParamSpec, value: Any) -> Any:
    """Validate one override value against its spec; the names a metric matches records by (a list
    of states, a survey) are compared in lower case, as staging stores them."""

    def is_int(item: Any) -> bool:
        return isinstance(item, int) and not isinstance(item, bool)

    if spec.type == "strings":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{path}: expected a list of strings, got {value!r}")
        return [_lower_as_sql(item) for item in value]
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
    return _lower_as_sql(value) if spec.type == "string" else value


def resolve_metrics(
    overrides: Mapping[str, Mapping] | None, min_n: int
) -> tuple[ResolvedMetric, ...]:
    """Apply scorecard.yaml's `metrics:` mapping; a bad setting raises ValueError with its path."""
    catalogue = {d.id: d for d in load_catalogue()}
    overrides = overrides or {}
    if not isinstance(overrides, Mapping):
        raise ValueError("metrics: expected a mapping of metric id to settings")
    if unknown := sorted(set(overrides) - set(catalogue)):
        raise ValueError("; ".join(unknown_metric_message(metric_id) for metric_id in unknown))
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


def unknown_metric_message(metric_id: str) -> str:
    """Why `metric_id` is refused, naming the closest known id (or all of them) to fix a typo."""
    known = [d.id for d in load_catalogue()]
    if close := difflib.get_close_matches(metric_id, known, n=1):
        return f"metrics: unknown metric id {metric_id!r} (did you mean {close[0]!r}?)"
    return f"metrics: unknown metric id {metric_id!r}; known ids: {', '.join(known)}"
