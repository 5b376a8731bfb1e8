"""Is the scorecard itself well designed? Findings are warnings, never errors: they are shown by
`itsm-scorecard check-config` and published in scorecard.data_quality (source 'scorecard')."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from settings.commentary import period_containing
from settings.config import Settings
from transforms.catalogue import load_catalogue

MAX_METRICS_PER_OBJECTIVE = 3
MAX_METRICS = 20


@dataclass(frozen=True)
class Finding:
    scorecard_id: str
    record_key: str  # '<scorecard_id>/<what>', so data_quality exposes the scorecard id
    field: str
    problem: str
    value: str | None = None

    def __str__(self) -> str:
        detail = f" ({self.value})" if self.value else ""
        return f"{self.record_key}: {self.field}: {self.problem}{detail}"


def _as_date(value: date | str | None) -> date | None:
    """A date of the config as given (a date, or ISO text when the mapping was not validated)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _in_use(metric: dict[str, Any], today: date) -> bool:
    """Enabled and not retired by `today`: a retirement planned for later leaves it in use."""
    retired = _as_date(metric.get("retired"))
    return bool(metric.get("enabled", True)) and (retired is None or retired > today)


def governance_findings(settings: Settings, today: date | None = None) -> list[Finding]:
    """Design checks from the Balanced Scorecard practice, per scorecard of the config, on the
    metrics in use on `today` (default: the current date)."""
    today = today or date.today()
    findings = []
    owners = settings.scorecard_owners()
    initiatives = settings.initiatives
    for card, metrics in settings.scorecard_metrics().items():
        active = {k: m for k, m in metrics.items() if _in_use(m, today)}
        if not owners.get(card):
            findings.append(Finding(card, card, "owner", "scorecard has no owner"))
        if len(active) > MAX_METRICS:
            findings.append(
                Finding(
                    card,
                    f"{card}/metrics",
                    "metrics",
                    f"more than {MAX_METRICS} metrics",
                    str(len(active)),
                )
            )
        per_objective = Counter(m["objective"] for m in active.values() if m.get("objective"))
        for objective, count in sorted(per_objective.items()):
            if count > MAX_METRICS_PER_OBJECTIVE:
                problem = f"more than {MAX_METRICS_PER_OBJECTIVE} metrics for one objective"
                findings.append(
                    Finding(card, f"{card}/objectives/{objective}", "metrics", problem, str(count))
                )
        for metric_id, metric in active.items():
            key = f"{card}/metrics/{metric_id}"
            if not metric.get("objective"):
                findings.append(Finding(card, key, "objective", "metric that no objective uses"))
            if not metric.get("owner"):
                findings.append(Finding(card, key, "owner", "metric has no owner"))
            if finding := _unknown_perspective(card, key, metric.get("perspective")):
                findings.append(finding)
        objectives = sorted(per_objective)
        for objective in objectives:
            owners_of = {m.get("owner") for m in active.values() if m.get("objective") == objective}
            if owners_of == {None}:
                findings.append(
                    Finding(
                        card, f"{card}/objectives/{objective}", "owner", "objective has no owner"
                    )
                )
        for key, initiative in initiatives.items():
            if initiative.scorecard != card:
                continue
            traced = set(initiative.objectives) & set(objectives) | {
                active[m]["objective"]
                for m in initiative.metrics
                if m in active and active[m].get("objective")
            }
            if not traced:
                findings.append(
                    Finding(
                        card,
                        f"{card}/initiatives/{key}",
                        "objectives",
                        "initiative traces to no objective",
                    )
                )
            if not initiative.owner:
                findings.append(
                    Finding(card, f"{card}/initiatives/{key}", "owner", "initiative has no owner")
                )
        findings += _goals_mid_period(card, metrics, settings.calendar.week_start)
    return findings


def _unknown_perspective(card: str, key: str, perspective: str | None) -> Finding | None:
    """A perspective the catalogue does not name: allowed (a scorecard may add its own), but a
    misspelt one would roll up as a perspective of its own beside the one it was meant for."""
    known = sorted({definition.perspective for definition in load_catalogue()})
    if perspective is None or perspective in known:
        return None
    close = difflib.get_close_matches(perspective, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    problem = (
        f"perspective {perspective!r} is not one of the catalogue's ({', '.join(known)}); "
        f"{hint}it rolls up as a perspective of its own"
    )
    return Finding(card, key, "perspective", problem)


def _goals_mid_period(card: str, metrics: dict[str, dict], week_start: str) -> list[Finding]:
    """Goal versions effective after their period began: scoring keeps a period's goals whole,
    so such a version applies from the next period, which the owner may not expect."""
    findings = []
    for metric_id, metric in metrics.items():
        grain = metric.get("grain", "month")
        for version in metric.get("goals") or ():
            effective = _as_date(version["effective"])
            start = period_containing(effective, grain, week_start)
            if start == effective:
                continue
            after = period_containing(
                start + timedelta(days=7 if grain == "week" else 95 if grain == "quarter" else 32),
                grain,
                week_start,
            )
            findings.append(
                Finding(
                    card,
                    f"{card}/metrics/{metric_id}",
                    "goals",
                    f"effective in the middle of a {grain}: they apply from the next {grain}, "
                    f"{after}; the {grain} starting {start} keeps the goals before them",
                    str(effective),
                )
            )
    return findings
