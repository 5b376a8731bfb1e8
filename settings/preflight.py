"""Everything a nightly run would trip over, found before it starts and without calling a source.

`itsm-scorecard check-config` and the nightly job's first step both run `preflight`, so a problem
reads the same in the terminal and on the run page. Every problem is listed, not just the first;
each names the file and key path or the environment variable, and none echoes a value that may be
a secret (the connectors' and the config loader's messages already hold to that).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from connectors.emulators.demo import demo_sources
from connectors.files import expand_paths, split_patterns
from connectors.http import RETRY_DELAYS, SourceError, require_safe_url, retry_delay
from connectors.registry import PATH_VARIABLES, URL_VARIABLES, source_from_env
from settings.clock import run_as_of
from settings.commentary import commentary_problems
from settings.config import (
    DEFAULT_CONFIG,
    ConfigError,
    Settings,
    check_timezone,
    enabled_sources,
    interpolate,
    load_settings,
    read_yaml,
)
from settings.governance import governance_findings
from transforms.catalogue import load_catalogue, resolve_metrics, unknown_metric_message
from warehouse.postgres import publishing
from warehouse.postgres import settings_problems as publish_settings_problems
from warehouse.store import DEFAULT_WAREHOUSE, Warehouse, memory_limit_problem

# Connectors stop at the first variable they miss ("X is not set"); to list them all, the check
# asks again with a stand-in for each one already reported.
_NOT_SET = re.compile(r"\b([A-Z][A-Z0-9_]+) is not set")
_MAX_ASKS = 10
_STAND_IN_URL = "https://stand-in.invalid"


@dataclass
class Preflight:
    """The outcome of the check: what would run, and every problem that would stop it."""

    settings: Settings | None = None
    sources: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Scorecard design findings: shown, never blocking (settings/governance.py).
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        count = len(self.problems)
        lines = [f"configuration has {count} problem{'s' if count > 1 else ''}; nothing was run:"]
        return "\n".join(lines + [f"  {problem}" for problem in self.problems])

    def add(self, problem: str) -> None:
        for line in problem.splitlines():
            if line.strip() and line not in self.problems:
                self.problems.append(line)


def preflight(
    path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None
) -> Preflight:
    """Check the scorecard definition, the sources' settings, the clock and the warehouse folder."""
    env = dict(os.environ if env is None else env)
    result = Preflight()
    zone = env.get("SCORECARD_TIMEZONE", "").strip()
    if zone:
        try:
            check_timezone(zone)
        except ValueError as exc:
            result.add(f"SCORECARD_TIMEZONE: {exc}")
            env.pop("SCORECARD_TIMEZONE")  # still check the file's own calendar.timezone
    file = Path(path or env.get("SCORECARD_CONFIG") or DEFAULT_CONFIG)
    try:
        result.settings = load_settings(path, env)
    except ConfigError as exc:
        result.add(str(exc))
    metrics = result.settings or metrics_section(file, env)
    if metrics is not None:
        for problem in metric_problems(metrics, str(file)):
            result.add(problem)
    if result.settings is not None:
        for problem in reference_problems(result.settings, str(file)):
            result.add(problem)
        for problem in direction_problems(result.settings, str(file)):
            result.add(problem)
        result.problems += [
            p for p in commentary_problems(result.settings) if p not in result.problems
        ]
        result.warnings = [str(finding) for finding in governance_findings(result.settings)]
    if result.settings is not None or env.get("SCORECARD_SOURCES", "").strip():
        try:
            result.sources = enabled_sources(result.settings or Settings(), env)
        except ConfigError as exc:
            result.add(str(exc))
    try:
        run_as_of(env)
    except ConfigError as exc:
        clock_problem = str(exc)
        # The cost API sources read it too; the one line below says what is wrong with it.
        env.pop("SCORECARD_AS_OF")
    else:
        clock_problem = None
    for source in result.sources:
        for problem in source_problems(source, env):
            result.add(problem)
    if clock_problem:
        result.add(clock_problem)
    files = warehouse_files(env)
    for variable, database in files.items():
        if problem := folder_problem(variable, database):
            result.add(problem)
    try:
        Warehouse.at(files["SCORECARD_WAREHOUSE"], files.get("SCORECARD_WORK_DATABASE"))
    except ValueError as exc:
        result.add(f"SCORECARD_WORK_DATABASE: {exc}")
    if (limit := env.get("SCORECARD_MEMORY_LIMIT")) and (problem := memory_limit_problem(limit)):
        result.add(problem)
    if publishing(env):
        for problem in publish_settings_problems(env):
            result.add(problem)
    for variable in RETRY_DELAYS:
        try:
            retry_delay(env, variable)
        except SourceError as exc:
            result.add(str(exc))
    return result


def metric_problems(settings: Settings, file: str) -> list[str]:
    """Each metric's id and params as the KPI step will resolve them, one metric at a time so
    that every bad metric is reported, each under its own key path."""
    problems = []
    for metric_id, overrides in settings.metric_overrides().items():
        try:
            resolve_metrics({metric_id: overrides}, settings.kpi.min_n)
        except ValueError as exc:
            message = str(exc)
            if message.startswith("metrics: "):
                message = f"metrics.{metric_id}: " + message.removeprefix("metrics: ")
            problems.append(f"{file}: {message}")
    return problems


def reference_problems(settings: Settings, file: str) -> list[str]:
    """Metric ids named outside the metrics section: a further scorecard's entry must be a known
    KPI, and an initiative's metric one its scorecard scores, or they would silently show
    nothing (no status on the pilot, no progress for the initiative)."""
    problems = []
    for card, scorecard in settings.scorecards.items():
        for metric_id in scorecard.metrics:
            if metric_id not in known_metric_ids():
                message = unknown_metric_message(metric_id).removeprefix("metrics: ")
                problems.append(f"{file}: scorecards.{card}.metrics.{metric_id}: {message}")
    cards = settings.scorecard_metrics()
    for key, initiative in settings.initiatives.items():
        scored = cards.get(initiative.scorecard or settings.scorecard_id, {})
        for i, metric_id in enumerate(initiative.metrics):
            if metric_id not in scored:
                close = difflib.get_close_matches(metric_id, scored, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    f"{file}: initiatives.{key}.metrics[{i}]: {metric_id!r} is not a metric of "
                    f"scorecard {initiative.scorecard!r}{hint}"
                )
    for card, metrics in cards.items():
        where = "metrics" if card == settings.scorecard_id else f"scorecards.{card}.metrics"
        problems += [f"{file}: {where}: {problem}" for problem in objective_problems(metrics)]
    return problems


def direction_problems(settings: Settings, file: str) -> list[str]:
    """Goals whose order contradicts what the metric measures: the order of threshold and target
    sets the direction it is scored in, so a resolution time given 4 -> 8 would score slower
    resolution as better. Checked where threshold and target are given: the metric, each goal
    version and each scorecard's overlay."""
    directions = {d.id: d.direction for d in load_catalogue()}
    entries = [("metrics", metric_id, m) for metric_id, m in settings.metrics.items()] + [
        (f"scorecards.{card}.metrics", metric_id, m)
        for card, scorecard in settings.scorecards.items()
        for metric_id, m in scorecard.metrics.items()
    ]
    problems = []
    for where, metric_id, metric in entries:
        better = directions.get(metric_id)
        if better not in ("higher", "lower"):
            continue
        versions = [(f"{where}.{metric_id}", metric)] + [
            (f"{where}.{metric_id}.goals[{i}]", version) for i, version in enumerate(metric.goals)
        ]
        for key, goals in versions:
            threshold, target = goals.threshold, goals.target
            if threshold is None or target is None or threshold == target:
                continue
            if (target > threshold) == (better == "higher"):
                continue
            scored = "higher" if target > threshold else "lower"
            problems.append(
                f"{file}: {key}: threshold {threshold:g} -> target {target:g} scores {scored} "
                f"values as better, but {metric_id} is better {better} (docs/metrics.md); "
                f"give the threshold {'below' if better == 'higher' else 'above'} the target "
                "and the stretch beyond it"
            )
    return problems


def objective_problems(metrics: Mapping[str, Mapping]) -> list[str]:
    """An objective named under two perspectives of one scorecard. Roll-ups, initiatives and the
    governance checks know an objective by its name, so the two would merge into one score."""
    default = {definition.id: definition.perspective for definition in load_catalogue()}
    perspectives: dict[str, dict[str, list[str]]] = {}
    for metric_id, metric in metrics.items():
        if metric.get("objective") and metric.get("enabled", True):
            perspective = metric.get("perspective") or default.get(metric_id, "(none)")
            under = perspectives.setdefault(metric["objective"], {})
            under.setdefault(perspective, []).append(metric_id)
    return [
        f"objective {objective!r} is under more than one perspective: "
        + ", ".join(f"{name} ({', '.join(sorted(ids))})" for name, ids in sorted(under.items()))
        + "; an objective rolls up within one perspective, so name the objectives apart"
        for objective, under in perspectives.items()
        if len(under) > 1
    ]


def known_metric_ids() -> set[str]:
    return {definition.id for definition in load_catalogue()}


def metrics_section(file: Path, env: Mapping[str, str]) -> Settings | None:
    """The file's metrics and kpi sections alone, when an error elsewhere stopped the file from
    loading, so that metric problems are listed with it; None if they do not parse either."""
    try:
        document = read_yaml(file) or {}
        section = {key: document[key] for key in ("metrics", "kpi") if key in document}
        return Settings.model_validate(interpolate(section, env, "", str(file)))
    except (OSError, yaml.YAMLError, TypeError, ConfigError, ValidationError):
        return None


def source_problems(source: str, env: Mapping[str, str]) -> list[str]:
    """What the source's connector refuses in its settings, plus URLs and globs it reads later."""
    if source == "demo":
        try:
            demo_sources(env)
        except ValueError as exc:
            return [str(exc)]
        return []
    problems = []
    probe = dict(env)
    for variable in URL_VARIABLES.get(source, ()):
        if env.get(variable, "").strip():
            try:
                require_safe_url(env[variable].strip(), source)
            except SourceError as exc:
                problems.append(f"{variable}: {exc}")
                probe[variable] = _STAND_IN_URL  # reported; let the connector check the rest
    stood_in: set[str] = set()
    for _ in range(_MAX_ASKS):
        try:
            source_from_env(source, probe)
            break
        except SourceError as exc:
            problems.append(str(exc))
            missing = _NOT_SET.search(str(exc))
            if not missing or missing[1] in stood_in:
                break
            stood_in.add(missing[1])
            urls = URL_VARIABLES.get(source, ())
            probe[missing[1]] = _STAND_IN_URL if missing[1] in urls else "stand-in"
    if variable := PATH_VARIABLES.get(source):
        for pattern in split_patterns(env.get(variable, "")):
            try:
                expand_paths(source, variable, [pattern])
            except SourceError as exc:
                problems.append(str(exc))
    return list(dict.fromkeys(problems))


def warehouse_files(env: Mapping[str, str]) -> dict[str, Path]:
    """The published warehouse and the working file beside it (or where it is configured)."""
    published = Path(env.get("SCORECARD_WAREHOUSE") or DEFAULT_WAREHOUSE).expanduser()
    files = {"SCORECARD_WAREHOUSE": published}
    if env.get("SCORECARD_WORK_DATABASE"):
        files["SCORECARD_WORK_DATABASE"] = Path(env["SCORECARD_WORK_DATABASE"]).expanduser()
    return files


def folder_problem(variable: str, database: Path) -> str | None:
    """Why the run could not write `database`: its folder cannot be created or written."""
    if database.is_dir():
        return f"{variable}: {database} is a folder; expected the path of a DuckDB file"
    if database.exists() and not os.access(database, os.W_OK):
        return f"{variable}: {database} is not writable by this user"
    folder = database.absolute().parent
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{variable}: cannot create the folder {folder}: {existing} is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        action = "write in" if existing == folder else "create folders in"
        return f"{variable}: this user cannot {action} {existing}"
    return None
