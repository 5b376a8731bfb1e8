"""What the AWS and Azure cost APIs share: one `costs` stream of day x service x tag records,
read over a restated window (providers restate recent days, so each run re-reads a trailing
window before the cursor and replaces those days by key)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.base import Record, Stream
from connectors.cost_allocation import TagKeys
from connectors.http import SourceError

HISTORY_MONTHS = 13  # a first load reaches back over a year, from the first of a month
DEFAULT_LOOKBACK_DAYS = 5
MAX_LOOKBACK_DAYS = 366
COSTS = Stream("costs", primary_key="key", cursor_field="date")


def restated_window(
    cursor: str | None, lookback_days: int, start: date | None, today: date | None
) -> tuple[date, date]:
    """[first day, today): from the cursor minus the restatement window, or the history start."""
    today = today or datetime.now(UTC).date()
    if cursor:
        return date.fromisoformat(cursor) - timedelta(days=lookback_days), today
    if start:
        return start, today
    index = today.year * 12 + today.month - 1 - HISTORY_MONTHS
    return date(index // 12, index % 12 + 1, 1), today


class DailyCostSource:
    """Base of the cost API sources: the stream, its window and the key every record carries."""

    name: str

    def __init__(
        self,
        tag_key: str,
        lookback_days: int,
        start: date | None,
        tag_keys: TagKeys | None,
        today: date | None,
    ) -> None:
        self.tag_key = tag_key
        self.lookback_days = lookback_days
        self.start = start
        self.today = today
        self.allocation = (tag_keys or TagKeys()).role_of(tag_key)

    def streams(self) -> list[Stream]:
        return [COSTS]

    def window(self, cursor: str | None) -> tuple[date, date]:
        return restated_window(cursor, self.lookback_days, self.start, self.today)

    def keyed(self, day: str, service: str, tag_value: str | None) -> Record:
        """The fields that identify a record: one per day, provider service and tag value."""
        return {
            "key": f"{day}|{service}|{tag_value or ''}",
            "date": day,
            "tag_key": self.tag_key,
            "tag_value": tag_value or None,
            "allocation": self.allocation,
        }


def cost_settings(env: Mapping[str, str], source: str, prefix: str) -> dict[str, Any]:
    """<prefix>_TAG_KEY, <prefix>_LOOKBACK_DAYS, <prefix>_START and the FOCUS_TAG_* roles, as
    keyword arguments of a DailyCostSource; a bad value is an error naming its variable."""
    lookback_text = (env.get(f"{prefix}_LOOKBACK_DAYS") or "").strip()
    start_text = (env.get(f"{prefix}_START") or "").strip()
    try:
        lookback = int(lookback_text) if lookback_text else DEFAULT_LOOKBACK_DAYS
    except ValueError:
        lookback = -1
    if not 0 <= lookback <= MAX_LOOKBACK_DAYS:
        raise SourceError(
            f"{source}: {prefix}_LOOKBACK_DAYS={lookback_text!r} must be a whole number of days "
            f"from 0 to {MAX_LOOKBACK_DAYS}"
        )
    try:
        start = date.fromisoformat(start_text) if start_text else None
    except ValueError as exc:
        raise SourceError(
            f"{source}: {prefix}_START={start_text!r} is not a date (YYYY-MM-DD)"
        ) from exc
    return {
        "tag_key": (env.get(f"{prefix}_TAG_KEY") or "").strip() or "service",
        "lookback_days": lookback,
        "start": start,
        "tag_keys": TagKeys.from_env(env),
    }
