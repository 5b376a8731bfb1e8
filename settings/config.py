"""scorecard.yaml: parsed, `${ENV}`-interpolated and validated, with errors a person can act on.

Every error names the file, the key path and what was expected, and never echoes an interpolated
value (it may be a secret).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from connectors.http import is_loopback
from connectors.registry import CONNECTOR_MODULES, SOURCE_NAMES
from transforms.signals import DEFAULT_BASELINE_PERIODS, MIN_BASELINE_PERIODS

DEFAULT_CONFIG = "scorecard.yaml"
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
# The month and weekday names cron (and the scheduler) accept in place of their numbers.
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_NAMES = {
    3: {month: number for number, month in enumerate(_MONTHS, 1)},
    4: {day: number for number, day in enumerate(_DAYS)},
}
DEFAULT_SCORECARD = "default"
GRAINS = ("week", "month", "quarter")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """The scorecard definition is invalid; the message says where and what was expected."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Calendar(_Strict):
    timezone: str = "UTC"
    week_start: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)


class Schedule(_Strict):
    cron: str = "0 2 * * *"
    timezone: str | None = None  # defaults to the calendar's
    # A run of the nightly job still going after this long is stopped (null: never), so a hung
    # run cannot hold the one run slot and the warehouse's writer lock night after night.
    max_runtime_hours: float | None = Field(default=20.0, gt=0)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class SourceConfig(_Strict):
    enabled: bool = True
    full_refresh: bool = False
    # How often streams whose source cannot report deletions are read whole to remove them
    # (connector default: weekly for Jira, Freshservice and ServiceNow without its deletion log);
    # 0: never.
    refresh_every_days: float | None = Field(default=None, ge=0)


class Notifications(_Strict):
    webhook_url: str | None = None
    # One message per successful nightly run: what loaded, what was quarantined, status changes.
    success_summary: bool = False

    @field_validator("webhook_url")
    @classmethod
    def _encrypted(cls, value: str | None) -> str | None:
        """The URL's path is its token: it travels encrypted, or stays on this machine. The
        error shows the scheme and host only."""
        if not value or not value.strip():
            return None
        parts = urlsplit(value.strip())
        where = f"{parts.scheme}://{parts.hostname}" if parts.hostname else "a URL without a host"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an https:// URL, got {where}")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError(
                f"expected an https:// URL (plain http only to this machine), got {where}"
            )
        return value.strip()


class KpiSettings(_Strict):
    min_n: int = Field(default=5, ge=1)


class GoalVersion(_Strict):
    """Goals from an effective date on: earlier periods keep the goals they were scored with."""

    effective: date
    threshold: float | None = None
    target: float | None = None
    stretch: float | None = None
    band: tuple[float, float] | None = None
    weight: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _goals_in_order(self) -> GoalVersion:
        _raise_goal_problems(self, "GoalVersion")
        return self


class MetricConfig(BaseModel):
    """Where a metric sits on the scorecard and its goals; KPI parameters are checked by the KPI
    runner, which knows them."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    name: str | None = None
    perspective: str | None = None
    objective: str | None = None
    owner: str | None = None
    grain: Literal["week", "month", "quarter"] = "month"
    threshold: float | None = None
    target: float | None = None
    stretch: float | None = None
    baseline: float | None = None
    band: tuple[float, float] | None = None
    weight: float = Field(default=1.0, gt=0)
    critical: bool = False
    min_n: int | None = Field(default=None, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)
    # Later goals, each from its effective date; the keys above hold until the first of them.
    goals: list[GoalVersion] = Field(default_factory=list)
    # From this date on the metric keeps its history but is no longer scored or reported.
    retired: date | None = None
    # The date the target should be reached by: on_track compares with the straight line to it.
    target_date: date | None = None

    @model_validator(mode="after")
    def _goals_in_order(self) -> MetricConfig:
        """Goals that cannot be scored honestly are refused here, naming the key to fix."""
        _raise_goal_problems(self, "MetricConfig")
        dates = [version.effective for version in self.goals]
        if dates != sorted(set(dates)):
            raise ValueError("goals: effective dates must be distinct and in ascending order")
        return self


def _raise_goal_problems(goals: Any, title: str) -> None:
    problems = [
        InitErrorDetails(type=PydanticCustomError(kind, message), loc=(key,), input=None)
        for key, kind, message in goal_problems(goals)
    ]
    if problems:
        raise ValidationError.from_exception_data(title, problems)


class ScorecardConfig(_Strict):
    """A further scorecard (e.g. a pilot): its metrics overlay the top-level ones of the same id."""

    name: str | None = None
    owner: str | None = None
    metrics: dict[str, MetricConfig] = Field(default_factory=dict)


class InitiativeConfig(_Strict):
    """A funded piece of work and the objectives and metrics it is meant to move."""

    name: str | None = None
    owner: str | None = None
    budget: float | None = Field(default=None, ge=0)
    status: Literal["proposed", "active", "on_hold", "done", "cancelled"] = "active"
    start: date | None = None
    end: date | None = None
    scorecard: str | None = None  # the default scorecard
    objectives: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    # Periods after which metrics that have not moved raise a governance warning.
    review_periods: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> InitiativeConfig:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class ActionSettings(_Strict):
    """Days after the period that opened an action until it is due, per cadence."""

    due_days: dict[Literal[GRAINS], NonNegativeInt] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"week": 7, "month": 14, "quarter": 30}
    )


class SignalSettings(_Strict):
    """How the XmR chart's limits are locked (transforms/scorecard/signals.sql)."""

    # The first this many complete periods with a value: their mean and mean moving range fix the
    # centre line and natural process limits.
    baseline_periods: int = DEFAULT_BASELINE_PERIODS

    @field_validator("baseline_periods")
    @classmethod
    def _enough_for_a_moving_range(cls, value: int) -> int:
        if value < MIN_BASELINE_PERIODS:
            raise ValueError(
                f"{value} periods cannot lock XmR limits; at least {MIN_BASELINE_PERIODS} are "
                f"needed (one moving range), {DEFAULT_BASELINE_PERIODS} or more recommended"
            )
        return value


GOAL_KEYS = ("threshold", "target", "stretch", "band", "weight")


def goals_after(goals: Mapping[str, Any], version: Mapping[str, Any]) -> dict[str, Any]:
    """The goals in force once a goal version (or a scorecard's overlay) takes effect.

    One that names threshold and target, or a band, replaces how the metric is scored whole: a
    stretch or band kept from before could lie behind the new target or override it. Each is
    checked on its own (goal_problems), so what it leaves in force holds too.
    """
    given = {key: version[key] for key in GOAL_KEYS if version.get(key) is not None}
    if "threshold" in given or "target" in given or "band" in given:
        goals = {**goals, "threshold": None, "target": None, "stretch": None, "band": None}
    return {**goals, **given}


def goal_problems(metric: Any) -> list[tuple[str, str, str]]:
    """(key, error type, message) for each way the goals contradict each other.

    Direction is the sign of target - threshold, so threshold == target has none; stretch must lie
    beyond target in that direction, and a band must be a real interval.
    """
    threshold, target, stretch, band = metric.threshold, metric.target, metric.stretch, metric.band
    if (threshold is None) != (target is None):
        key = "target" if target is None else "threshold"
        return [(key, "missing", "required key is missing")]
    problems = []
    if band is not None:
        low, high = (_number(edge) for edge in band)
        if band[0] >= band[1]:
            problems.append(("band", "band_order", f"low {low} is not below high {high}"))
        if threshold is not None or stretch is not None:
            problems.append(
                (
                    "band",
                    "band_with_goals",
                    "a metric is scored against a band or against threshold / target / stretch, "
                    "not both",
                )
            )
    if threshold is None or target is None:
        if stretch is not None and band is None:
            message = f"{_number(stretch)} needs a threshold and a target"
            problems.append(("stretch", "stretch_alone", message))
        return problems
    t, g = _number(threshold), _number(target)
    if threshold == target:
        message = (
            f"{g} equals threshold {t}; the order of threshold and target sets the direction, "
            "so they must differ"
        )
        problems.append(("target", "no_direction", message))
    elif stretch is not None and (stretch - target) * (target - threshold) <= 0:
        direction = "higher-is-better" if target > threshold else "lower-is-better"
        message = (
            f"{_number(stretch)} is not beyond target {g} in the direction {direction} "
            f"(threshold {t} -> target {g})"
        )
        problems.append(("stretch", "stretch_order", message))
    return problems


def _number(value: float) -> str:
    """A goal as the user wrote it: 25, not 25.0."""
    return str(int(value)) if value.is_integer() else repr(value)


class Settings(_Strict):
    name: str = "IT Balanced Scorecard"
    calendar: Calendar = Field(default_factory=Calendar)
    schedule: Schedule = Field(default_factory=Schedule)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    notifications: Notifications = Field(default_factory=Notifications)
    kpi: KpiSettings = Field(default_factory=KpiSettings)
    # The default scorecard: its id, owner and metrics (the top-level metrics section).
    scorecard_id: str = DEFAULT_SCORECARD
    owner: str | None = None
    metrics: dict[str, MetricConfig] = Field(default_factory=dict)
    scorecards: dict[str, ScorecardConfig] = Field(default_factory=dict)
    initiatives: dict[str, InitiativeConfig] = Field(default_factory=dict)
    actions: ActionSettings = Field(default_factory=ActionSettings)
    signals: SignalSettings = Field(default_factory=SignalSettings)
    # Owners' commentary and decisions per metric and period (CSV or YAML; templates/commentary/).
    commentary: str | None = None

    @model_validator(mode="after")
    def _known_scorecards(self) -> Settings:
        if self.scorecard_id in self.scorecards:
            raise ValueError(f"scorecards.{self.scorecard_id}: is the default scorecard's id")
        known = {self.scorecard_id, *self.scorecards}
        for key, initiative in self.initiatives.items():
            initiative.scorecard = initiative.scorecard or self.scorecard_id
            if initiative.scorecard not in known:
                raise ValueError(
                    f"initiatives.{key}.scorecard: unknown scorecard {initiative.scorecard!r}; "
                    f"known: {', '.join(sorted(known))}"
                )
        return self

    @model_validator(mode="after")
    def _overlays_set_no_kpi_parameters(self) -> Settings:
        """KPI values are computed once and shared by every scorecard, so a further scorecard's
        metric cannot change how they are computed."""
        for key, card in self.scorecards.items():
            for metric_id, metric in card.metrics.items():
                for name in ("params", "min_n"):
                    if name in metric.model_fields_set:
                        raise ValueError(
                            f"scorecards.{key}.metrics.{metric_id}.{name}: KPI values are "
                            f"computed once for every scorecard; set {name} under "
                            f"metrics.{metric_id} instead"
                        )
        return self

    def _overlaid(self, metric_id: str, metric: MetricConfig) -> MetricConfig:
        """The top-level metric with the scorecard's keys laid over it; goals as goals_after
        lays a goal version over earlier goals."""
        base = self.metrics.get(metric_id)
        inherited = base.model_dump(exclude_unset=True) if base else {}
        given = metric.model_dump(exclude_unset=True)
        goals = goals_after({k: inherited.get(k) for k in GOAL_KEYS}, given)
        overlaid = {k: v for k, v in {**inherited, **given}.items() if k not in GOAL_KEYS}
        if given.keys() & {"threshold", "target", "band"} and "goals" not in given:
            # The scorecard scores the metric its own way: the top-level goal versions change
            # the top-level goals, not these.
            overlaid.pop("goals", None)
        return MetricConfig.model_validate(
            overlaid | {k: v for k, v in goals.items() if v is not None}
        )

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: dict[str, SourceConfig]) -> dict[str, SourceConfig]:
        for name in value:
            check_source_name(name)
        return value

    @property
    def schedule_timezone(self) -> str:
        return self.schedule.timezone or self.calendar.timezone

    def full_refresh(self, source: str) -> bool:
        return source in self.sources and self.sources[source].full_refresh

    def refresh_every(self, source: str) -> timedelta | None:
        """The configured interval of whole reads, if any (None: the connector's default)."""
        days = self.sources[source].refresh_every_days if source in self.sources else None
        return None if days is None else timedelta(days=days)

    def metric_overrides(self) -> dict[str, dict[str, Any]]:
        """The metrics section as plain mappings, for the KPI runner."""
        return {k: v.model_dump(exclude_none=True) for k, v in self.metrics.items()}

    def scorecard_owners(self) -> dict[str, str | None]:
        return {
            self.scorecard_id: self.owner,
            **{key: card.owner for key, card in self.scorecards.items()},
        }

    def scorecard_metrics(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Each scorecard's metrics as plain mappings; a further scorecard's entry overlays the
        top-level metric of the same id, key by key."""
        cards = {self.scorecard_id: self.metric_overrides()}
        for key, card in self.scorecards.items():
            cards[key] = {
                metric_id: self._overlaid(metric_id, metric).model_dump(exclude_none=True)
                for metric_id, metric in card.metrics.items()
            }
        return cards


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (expected an IANA name such as 'Europe/Berlin')"
        ) from None
    return value


def check_cron(value: str) -> str:
    fields = value.split()
    problem = None
    if len(fields) != 5:
        problem = f"has {len(fields)} fields"
    else:
        for index, (given, (low, high)) in enumerate(zip(fields, _CRON_RANGES, strict=True)):
            names = _CRON_NAMES.get(index, {})
            text = re.sub(
                "[A-Za-z]+", lambda m, names=names: str(names.get(m[0].lower(), m[0])), given
            )
            numbers = [int(n) for n in re.findall(r"\d+", text.split("/")[0])]
            if not _CRON_FIELD.match(text) or any(n < low or n > high for n in numbers):
                allowed = f"{low}-{high}" + (" or names such as MON, JAN" if names else "")
                problem = f"field {given!r} is not valid (allowed {allowed})"
                break
            if re.search(r"/0+(?!\d)", text):
                problem = f"field {given!r} steps by 0"
                break
        else:
            # What the scheduler itself refuses, e.g. a day the month never has ('0 2 30 2 *'),
            # would stop the code location from loading: ask its own check (imported here, so
            # reading the settings does not load Dagster).
            from dagster._utils.schedules import is_valid_cron_string

            if not is_valid_cron_string(value):
                problem = "is refused by the scheduler (a date that never comes?)"
    if problem:
        raise ValueError(
            f"cron expression {value!r} {problem}; expected 5 fields 'minute hour day month "
            "weekday', e.g. '0 2 * * *'"
        )
    return value


def check_source_name(name: str) -> str:
    if name not in SOURCE_NAMES:
        raise ValueError(f"unknown source {name!r}; known sources: {', '.join(SOURCE_NAMES)}")
    return name


def interpolate(value: Any, env: Mapping[str, str], path: str, file: str) -> Any:
    """Replace ${NAME} and ${NAME:-default} in every string of the document."""
    if isinstance(value, dict):
        return {
            k: interpolate(v, env, f"{path}.{k}" if path else str(k), file)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate(v, env, f"{path}[{i}]", file) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match[1], match[2]
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"{file}: {path}: environment variable {name} is not set")

    return _ENV_REFERENCE.sub(substitute, value)


def load_settings(
    path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read SCORECARD_CONFIG (default scorecard.yaml); a missing default file means all defaults."""
    env = os.environ if env is None else env
    explicit = path or env.get("SCORECARD_CONFIG")
    file = Path(explicit or DEFAULT_CONFIG)
    if not file.exists():
        if explicit:
            given = "given on the command line" if path else "set by SCORECARD_CONFIG"
            raise ConfigError(f"{file}: configuration file not found ({given})")
        document: Any = {}
    else:
        document = read_yaml(file) or {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"{file}: expected a mapping at the top level, got {type(document).__name__}"
        )
    document = interpolate(document, env, "", str(file))
    if timezone := env.get("SCORECARD_TIMEZONE", "").strip():
        # Checked here, so a bad value is blamed on the variable, not on the file it overrides.
        try:
            check_timezone(timezone)
        except ValueError as exc:
            raise ConfigError(f"SCORECARD_TIMEZONE: {exc}") from None
        document.setdefault("calendar", {})
        document["calendar"] = {**(document["calendar"] or {}), "timezone": timezone}
    try:
        return Settings.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(file))) from None


def read_yaml(file: Path) -> Any:
    """The file's YAML document. What PyYAML would take silently (a key given twice in one
    mapping: the last wins) or fail on without saying where (a date the calendar does not have,
    2026-02-30) is a ConfigError naming the file, line and key path, each problem on a line."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: not UTF-8 text (byte {exc.start + 1} reads {exc.object[exc.start]:#04x}); "
            "save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read: {exc.strerror or exc}") from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if problems := _node_problems(loader, root, ""):
            raise ConfigError("\n".join(f"{file}:{problem}" for problem in problems))
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(file, exc)) from None
    finally:
        loader.dispose()


def yaml_problem(file: Path, exc: yaml.YAMLError) -> str:
    """A YAML error as one problem on one line, at its line: PyYAML's own message spans several
    (with a snippet of the file), which a list of problems would count as several."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{file}:{mark.line + 1}" if mark else str(file)
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    what = "; ".join(part for part in parts if part) or " ".join(str(exc).split())
    return f"{where}: not valid YAML: {what}"


def _node_problems(loader: yaml.SafeLoader, node: yaml.Node, path: str) -> list[str]:
    if isinstance(node, yaml.SequenceNode):
        return [
            problem
            for i, item in enumerate(node.value)
            for problem in _node_problems(loader, item, f"{path}[{i}]")
        ]
    if isinstance(node, yaml.MappingNode):
        problems, first_lines = [], {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                key_node, yaml.ScalarNode
            ):
                problems += _node_problems(loader, value_node, path)
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            where = f"{path}.{key}" if path else key
            if key in first_lines:
                problems.append(
                    f"{line}: {where}: given twice (first on line {first_lines[key]}); "
                    "keep one, as only the last would count"
                )
            first_lines.setdefault(key, line)
            problems += _node_problems(loader, value_node, where)
        return problems
    if node.tag == "tag:yaml.org,2002:timestamp":
        try:
            loader.construct_yaml_timestamp(node)
        except ValueError as exc:
            return [f"{node.start_mark.line + 1}: {path}: {node.value!r} is not a date ({exc})"]
    return []


def _describe(exc: ValidationError, file: str) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{file}: {key}: {message}")
    return "\n".join(lines)


def enabled_sources(settings: Settings, env: Mapping[str, str] | None = None) -> list[str]:
    """SCORECARD_SOURCES wins; else sources enabled in the file; with neither, the demo."""
    env = os.environ if env is None else env
    override = env.get("SCORECARD_SOURCES", "").strip()
    if override:
        names = [n.strip() for n in override.split(",") if n.strip()]
        if not names:
            raise ConfigError(
                f"SCORECARD_SOURCES: {override!r} names no source; list sources (e.g. "
                "'servicenow,focus') or leave it unset to use scorecard.yaml's"
            )
        for name in names:
            try:
                check_source_name(name)
            except ValueError as exc:
                raise ConfigError(f"SCORECARD_SOURCES: {exc}") from None
        return _with_connectors(list(dict.fromkeys(names)), "SCORECARD_SOURCES")
    names = [name for name, source in settings.sources.items() if source.enabled]
    return _with_connectors(names, "sources") or ["demo"]


def _demo_alone(names: list[str], where: str) -> list[str]:
    """The demo replaces every source with its emulators: beside a real one, that one would be
    dropped unread."""
    if "demo" in names and len(names) > 1:
        others = ", ".join(n for n in names if n != "demo")
        raise ConfigError(
            f"{where}: demo runs the built-in demo sources alone, so {others} would not be "
            "read; list either demo or your sources"
        )
    return names


def _with_connectors(names: list[str], where: str) -> list[str]:
    """Names the contract reserves for connectors still to come are refused before a run starts."""
    _demo_alone(names, where)
    missing = [n for n in names if n != "demo" and n not in CONNECTOR_MODULES]
    if missing:
        raise ConfigError(
            f"{where}: no connector for {', '.join(missing)} in this release; "
            f"available: {', '.join(CONNECTOR_MODULES)}, demo"
        )
    return names
