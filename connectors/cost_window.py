"""What the AWS and Azure cost APIs share: one `costs` stream of day x service x tag records,
read over a restated window (providers restate recent days, so each run re-reads a trailing
window before the cursor and replaces those days by key).

A provider that flags days whose amounts are not final yet (AWS's `Estimated`) keeps the earliest
such day it stored in the cursor, and the next window starts there if that is earlier: an
estimate older than the trailing window is read again until the provider calls it final.
Azure's Query API flags no day, so its cursor stays the plain day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from connectors.base import Record, Stream
from connectors.cost_allocation import Currency, TagKeys
from connectors.http import SourceError
from settings.clock import run_as_of
from settings.config import ConfigError
from warehouse.transaction import transaction

# A first load reaches back over a year, from the first of a month, and an estimate is not read
# again from earlier: Cost Explorer serves 13 months of daily costs (14 at most).
HISTORY_MONTHS = 13
DEFAULT_LOOKBACK_DAYS = 5
MAX_LOOKBACK_DAYS = 366
COSTS = Stream("costs", primary_key="key", cursor_field="date")


def history_start(today: date) -> date:
    """The first of the month HISTORY_MONTHS before today: the furthest back any window starts."""
    index = today.year * 12 + today.month - 1 - HISTORY_MONTHS
    return date(index // 12, index % 12 + 1, 1)


def cost_cursor(latest: str, estimated_from: str | None) -> str:
    """The cursor after a page: its latest day with costs and, when some day read so far in the
    run was not final yet, the earliest such day. Without one it is the plain day."""
    if estimated_from is None:
        return latest
    return json.dumps({"latest": latest, "estimated_from": estimated_from})


def read_cost_cursor(cursor: str, source: str) -> tuple[date, date | None]:
    """(latest day, earliest day stored as not final or None) from a stored cursor."""
    try:
        if not cursor.startswith("{"):
            return date.fromisoformat(cursor), None
        fields = json.loads(cursor)
        return date.fromisoformat(fields["latest"]), date.fromisoformat(fields["estimated_from"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(
            f"{source}: stored cursor of stream {COSTS.name} is not readable ({cursor!r}); run a "
            "full refresh of this source"
        ) from exc


def restated_window(
    cursor: str | None,
    lookback_days: int,
    start: date | None,
    today: date | None,
    source: str,
    until: date | None = None,
) -> tuple[date, date]:
    """[first day, the run's day): from the cursor minus the restatement window, or from the
    earliest day stored as not final when that is earlier, but never before history_start of
    today, the provider's clock (a cursor left by a source paused for over a year, or a night of
    long ago replayed, would ask for days the provider no longer serves, and be refused on every
    run); without a cursor, from `start` or history_start. The run's day is `until` (the UTC day
    of its as-of), never after today."""
    today = today or datetime.now(UTC).date()
    end = min(until, today) if until else today
    if cursor:
        latest, estimated_from = read_cost_cursor(cursor, source)
        first = latest - timedelta(days=lookback_days)
        if estimated_from is not None:
            first = min(first, estimated_from)
        return max(first, history_start(today)), end
    return start or history_start(today), end


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
        currency: Currency | None = None,
        until: date | None = None,
    ) -> None:
        self.tag_key = tag_key
        self.lookback_days = lookback_days
        self.start = start
        self.today = today
        self.until = until
        self.allocation = (tag_keys or TagKeys()).role_of(tag_key)
        self.currency = currency or Currency()

    def streams(self) -> list[Stream]:
        return [COSTS]

    def prepare(self, con: Any) -> None:
        """Store the currency settings staging converts this source's amounts with (the landing
        loop calls it before reading)."""
        with transaction(con):
            self.currency.store(con)

    def window(self, cursor: str | None) -> tuple[date, date]:
        return restated_window(
            cursor, self.lookback_days, self.start, self.today, self.name, self.until
        )

    def keyed(
        self, day: str, service: str, tag_value: str | None, currency: str | None = None
    ) -> Record:
        """The fields that identify a record: one per day, provider service and tag value, and
        per currency where the provider answers a row for each currency billed. No tag and an
        empty tag value make one key, as they make one untagged cost: a connector sums the rows
        of a key (summed_by_key)."""
        key = f"{day}|{service}|{tag_value or ''}"
        return {
            "key": f"{key}|{currency}" if currency is not None else key,
            "date": day,
            "tag_key": self.tag_key,
            "tag_value": tag_value or None,
            "allocation": self.allocation,
        }


def added(total: Any, amount: Any) -> Any:
    """Two amounts of one record key added exactly, as text; when either is not a finite number,
    that one, so data quality lists the record instead of a sum that quietly leaves it out."""
    first, second = _number(total), _number(amount)
    if first is None:
        return total
    if second is None:
        return amount
    return format(first + second, "f")


def _number(amount: Any) -> Decimal | None:
    try:
        number = Decimal(str(amount))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def summed_by_key(records: Iterable[Record], amounts: tuple[str, ...]) -> list[Record]:
    """One record per key, in the order keys first come, its `amounts` summed over every record
    answered with that key. A provider may answer two rows that make one key (Azure's untagged
    row and its row tagged with an empty value), and landing by key would keep only one of them;
    summing before landing keeps the key, so a day read again still replaces its records rather
    than adding to them."""
    merged: dict[str, Record] = {}
    for record in records:
        kept = merged.setdefault(record["key"], record)
        if kept is not record:
            merged[record["key"]] = {
                **kept,
                **{field: added(kept[field], record[field]) for field in amounts},
            }
    return list(merged.values())


def run_day(env: Mapping[str, str], source: str) -> date | None:
    """The UTC day of the run's instant (SCORECARD_AS_OF; a value without an offset is read in
    SCORECARD_TIMEZONE, else UTC), so a replayed night ends its window and its cursor on the days
    before its as-of, not on the days before the wall clock's; None (the current day when the
    window is asked for) without it."""
    if not (env.get("SCORECARD_AS_OF") or "").strip():
        return None
    try:
        moment = run_as_of(env, timezone=(env.get("SCORECARD_TIMEZONE") or "").strip() or "UTC")
    except (ConfigError, ZoneInfoNotFoundError) as exc:
        raise SourceError(f"{source}: SCORECARD_AS_OF is not readable: {exc}") from None
    return moment.astimezone(UTC).date()


def cost_settings(env: Mapping[str, str], source: str, prefix: str) -> dict[str, Any]:
    """<prefix>_TAG_KEY, <prefix>_LOOKBACK_DAYS, <prefix>_START, the FOCUS_TAG_* roles, the
    currency settings and the run's day, as keyword arguments of a DailyCostSource; a bad value
    is an error naming its variable."""
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
        "currency": Currency.from_env(env),
        "until": run_day(env, source),
    }
