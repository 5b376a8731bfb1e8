"""The demo organisation every emulator shares, so tickets and costs meet on the same services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DEMO_SEED = 20240101
HISTORY_DAYS = 450  # about fifteen months: a year of trend plus a baseline window


@dataclass(frozen=True)
class Service:
    name: str
    team: str
    cost_centre: str
    load: float  # relative ticket volume


SERVICES = (
    Service("Email", "Messaging Ops", "CC-100", 1.0),
    Service("Payroll", "Business Apps", "CC-200", 0.5),
    Service("Customer Portal", "Web Platform", "CC-300", 1.4),
    Service("Data Warehouse", "Data Platform", "CC-400", 0.6),
    Service("VPN", "Network Ops", "CC-100", 0.8),
    Service("Identity", "Security Ops", "CC-500", 0.4),
)

TEAMS = tuple(sorted({s.team for s in SERVICES} | {"Service Desk"}))


def demo_as_of(today: date | None = None) -> datetime:
    """The demo's "now": midnight UTC of the run's day (SCORECARD_AS_OF, else today), so the same
    day always serves the same data and a backfill sees the data of its own day."""
    from settings.clock import run_as_of

    day = today or run_as_of().astimezone(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def history_start(as_of: datetime) -> datetime:
    return as_of - timedelta(days=HISTORY_DAYS)


def seasonal_load(day: date) -> float:
    """Busier on weekdays, at month start and in January and September."""
    weekday = 1.0 if day.weekday() < 5 else 0.35
    month = {1: 1.25, 9: 1.2, 8: 0.8, 12: 0.85}.get(day.month, 1.0)
    month_start = 1.2 if day.day <= 3 else 1.0
    return weekday * month * month_start
