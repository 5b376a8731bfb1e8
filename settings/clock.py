"""The run's "now": SCORECARD_AS_OF for reproducible runs and backfills, else the current time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from settings.config import ConfigError


def run_as_of(
    env: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    default: datetime | None = None,
) -> datetime:
    """SCORECARD_AS_OF as a time-zone-aware instant; without it `default` (a scheduled run's
    tick), else the current time.

    A value without an offset is a wall-clock time in `timezone` (the calendar's), so
    `2026-12-01` is the start of December 1st where the scorecard's months begin, not in UTC.
    """
    env = os.environ if env is None else env
    text = env.get("SCORECARD_AS_OF", "").strip()
    if not text:
        return default or datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"SCORECARD_AS_OF: {text!r} is not an ISO timestamp; "
            "expected e.g. 2026-12-01 or 2026-12-01T02:00:00+01:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def run_day(env: Mapping[str, str] | None = None, timezone: str = "UTC") -> str:
    """The run's calendar day in `timezone` (ISO), as the reports date it."""
    return run_as_of(env, timezone).astimezone(ZoneInfo(timezone)).date().isoformat()
