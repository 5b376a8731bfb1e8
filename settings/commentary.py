"""Owners' commentary and decisions per metric and period, read from a CSV or YAML file.

The file is the monthly review's minutes: why a metric moved and what was decided. It is validated
like scorecard.yaml, every problem naming the file, the line and the key, so an owner can fix it
before the nightly run. A decision closes the metric's actions that stood at its period: opened on
or before it and not resolved by then.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import yaml

from settings.config import WEEKDAYS, ConfigError, Settings, yaml_problem

KEYS = ("scorecard", "metric", "period", "commentary", "decision", "author")
_PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Comment:
    scorecard_id: str
    metric_id: str
    period_start: date
    commentary: str | None
    decision: str | None
    author: str | None
    line: int


def load_commentary(path: str | Path, settings: Settings) -> list[Comment]:
    """Every entry of the file, or ConfigError listing every problem as file:line: key: message."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{file}: commentary file not found (set by commentary in the config)")
    rows = _csv_rows(file) if file.suffix.lower() == ".csv" else _yaml_rows(file)
    cards = settings.scorecard_metrics()
    comments, problems, seen = [], [], {}
    for line, row in rows:
        where = f"{file}:{line}"
        found = [
            f"{where}: {key}: unknown key (expected {', '.join(KEYS)})"
            for key in row
            if key not in KEYS
        ]
        card = (row.get("scorecard") or settings.scorecard_id).strip()
        metric = (row.get("metric") or "").strip()
        if card not in cards:
            found.append(
                f"{where}: scorecard: unknown scorecard {card!r}; known: {', '.join(cards)}"
            )
        if not metric:
            found.append(f"{where}: metric: required key is missing")
        elif card in cards and metric not in cards[card]:
            found.append(f"{where}: metric: {metric!r} is not on scorecard {card!r}")
        elif card in cards and cards[card][metric].get("enabled") is False:
            found.append(
                f"{where}: metric: {metric!r} is disabled (enabled: false), so it is not scored "
                "and its commentary would show nowhere"
            )
        period = _period(row.get("period"))
        if period is None:
            found.append(
                f"{where}: period: expected YYYY-MM or YYYY-MM-DD (the period's first day)"
            )
        elif metric in cards.get(card, {}):
            grain = cards[card][metric].get("grain", "month")
            start = period_containing(period, grain, settings.calendar.week_start)
            if start != period:
                found.append(
                    f"{where}: period: {period} does not start a {grain}; {metric} is scored "
                    f"per {grain}, so this period would never show (the {grain} holding it "
                    f"starts {start})"
                )
        text = {
            key: (row.get(key) or "").strip() or None
            for key in ("commentary", "decision", "author")
        }
        if not text["commentary"] and not text["decision"]:
            found.append(f"{where}: commentary: give a commentary, a decision or both")
        key = (card, metric, period)
        if not found and key in seen:
            found.append(
                f"{where}: period: {metric} {period} already commented on line {seen[key]}"
            )
        seen.setdefault(key, line)
        problems += found
        if not found:
            comments.append(
                Comment(
                    card, metric, period, text["commentary"], text["decision"], text["author"], line
                )
            )
    if problems:
        raise ConfigError("\n".join(problems))
    return comments


def commentary_problems(settings: Settings) -> list[str]:
    """The commentary file's problems, one per line, for the configuration check."""
    if not settings.commentary:
        return []
    try:
        load_commentary(settings.commentary, settings)
    except ConfigError as exc:
        return str(exc).splitlines()
    return []


def commentary_table(comments: list[Comment]) -> pa.Table:
    """The entries as the table scoring joins beside each figure."""
    return pa.Table.from_pylist(
        [
            {
                "scorecard_id": c.scorecard_id,
                "metric_id": c.metric_id,
                "period_start": c.period_start,
                "commentary": c.commentary,
                "decision": c.decision,
                "author": c.author,
            }
            for c in comments
        ],
        schema=pa.schema(
            [
                ("scorecard_id", pa.string()),
                ("metric_id", pa.string()),
                ("period_start", pa.date32()),
                ("commentary", pa.string()),
                ("decision", pa.string()),
                ("author", pa.string()),
            ]
        ),
    )


def period_containing(day: date, grain: str, week_start: str) -> date:
    """The first day of the week, month or quarter (calendar quarters) holding `day`."""
    if grain == "week":
        return day - timedelta(days=(day.weekday() - WEEKDAYS.index(week_start)) % 7)
    month = day.month if grain == "month" else day.month - (day.month - 1) % 3
    return date(day.year, month, 1)


def _period(value: object) -> date | None:
    if isinstance(value, date):
        return value
    match = _PERIOD.match(str(value or "").strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3] or 1))
    except ValueError:
        return None


def _text(file: Path) -> str:
    """The file's text: UTF-8, with or without the byte-order mark Excel writes."""
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: not UTF-8 text (byte {exc.start + 1}): save it as UTF-8 "
            "(in Excel: Save As, CSV UTF-8)"
        ) from None


def _csv_rows(file: Path) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(_text(file), newline=""))
    return [(reader.line_num, {k: v for k, v in row.items() if k is not None}) for row in reader]


def _yaml_rows(file: Path) -> list[tuple[int, dict[str, str | None]]]:
    """Entries of a YAML list with the line each starts on (the composed nodes keep it); a null
    value (`null`, `~`, nothing) is None, as an empty CSV cell."""
    try:
        root = yaml.compose(_text(file))
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(file, exc)) from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise ConfigError(f"{file}:{root.start_mark.line + 1}: expected a list of entries")
    rows = []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise ConfigError(f"{file}:{line}: expected an entry with keys {', '.join(KEYS)}")
        entry: dict[str, str | None] = {}
        for key, value in item.value:
            if str(key.value) in entry:
                raise ConfigError(
                    f"{file}:{key.start_mark.line + 1}: {key.value}: given twice in one entry; "
                    "keep one, as only the last would count"
                )
            if not isinstance(value, yaml.ScalarNode):
                raise ConfigError(
                    f"{file}:{value.start_mark.line + 1}: {key.value}: expected text, not a "
                    f"{'list' if isinstance(value, yaml.SequenceNode) else 'mapping'} (write "
                    "several points as one text: a '|' block keeps their lines)"
                )
            entry[str(key.value)] = None if value.tag == _NULL else str(value.value)
        rows.append((line, entry))
    return rows
