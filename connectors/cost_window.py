"""Which days a cost API is asked for: providers restate recent days, so each run re-reads a
trailing window before the cursor and replaces those days by key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

HISTORY_MONTHS = 13  # a first load reaches back over a year, from the first of a month


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
