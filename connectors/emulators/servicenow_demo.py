"""Deterministic ServiceNow history for the demo organisation (catalogue.SERVICES and TEAMS).

Each calendar day is generated from its own seed, and every record is generated whole (its
resolution, closure, SLA outcome) before events after `as_of` are hidden; so a given day's
records look the same in every later demo, only further along in their life. Numbers and
sys_ids derive from the opening date, not from a running count over the sliding window.
A few records are deliberately broken so the data-quality table has something to show.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from connectors.emulators.catalogue import (
    DEMO_SEED,
    SERVICES,
    TEAMS,
    Service,
    history_start,
    seasonal_load,
)
from connectors.emulators.servicenow_tables import TIME_FORMAT, MemoryTable, Record

_EPOCH = date(2000, 1, 1)
_HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 10, 12, 13, 12, 10, 7, 4, 3, 2, 2, 1, 1]
_LINK_MARGIN_DAYS = 12  # generated before the window so links at its start are stable
# impact x urgency -> priority, as ServiceNow's default priority lookup
_PRIORITY = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3}
_PRIORITY |= {(2, 3): 4, (3, 2): 4, (3, 3): 5}
_RESOLUTION_MEDIAN_HOURS = {1: 3.0, 2: 9.0, 3: 26.0, 4: 52.0, 5: 110.0}
_RESOLUTION_TARGET_HOURS = {1: 4, 2: 12, 3: 48, 4: 120, 5: 240}
_RESPONSE_TARGET_HOURS = {1: 0.25, 2: 0.5, 3: 2, 4: 4, 5: 8}
_CATALOGUE = (
    ("Mailbox", "Email"),
    ("VPN token", "VPN"),
    ("Access request", "Identity"),
    ("Payroll change", "Payroll"),
    ("Report access", "Data Warehouse"),
    ("Portal account", "Customer Portal"),
    ("Laptop", ""),
)
_BAD_KINDS = ("unparseable_date", "resolved_before_opened", "unknown_state")


def sys_id(table: str, key: str) -> str:
    return hashlib.md5(f"{table}:{key}".encode()).hexdigest()


def _stamp(moment: datetime | None, as_of: datetime) -> str:
    return moment.strftime(TIME_FORMAT) if moment is not None and moment <= as_of else ""


def _number(prefix: str, day: date, index: int) -> str:
    return f"{prefix}{(day - _EPOCH).days * 100 + index:07d}"


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _moment(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(24), _HOUR_WEIGHTS)[0]
    start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(3600))


@dataclass
class _History:
    as_of: datetime
    tables: dict[str, list[Record]] = field(default_factory=dict)
    recent_changes: list[tuple[datetime, str, str]] = field(default_factory=list)

    def add(self, table: str, record: Record) -> None:
        self.tables.setdefault(table, []).append(record)

    def updated(self, *moments: datetime | None) -> str:
        return max(m for m in moments if m is not None and m <= self.as_of).strftime(TIME_FORMAT)


def demo_tables(as_of: datetime) -> dict[str, MemoryTable]:
    """Every table of the demo instance, keyed by table name."""
    return {name: MemoryTable.of(name, rows) for name, rows in demo_records(as_of).items()}


def demo_records(as_of: datetime) -> dict[str, list[Record]]:
    history = _History(as_of)
    _reference_tables(history)
    first = history_start(as_of).date()
    for day in _days(first - timedelta(days=_LINK_MARGIN_DAYS), as_of.date()):
        rng = random.Random(f"{DEMO_SEED}:servicenow:{day.isoformat()}")
        emit = day >= first
        _changes(history, rng, day, emit)
        _incidents(history, rng, day, emit)
        _requests(history, rng, day, emit)
        _outages(history, rng, day, emit)
    return history.tables


def _days(first: date, end: date) -> Iterator[date]:
    day = first
    while day < end:
        yield day
        day += timedelta(days=1)


def _reference_tables(history: _History) -> None:
    created = "2020-01-01 00:00:00"
    base = {"sys_created_on": created, "sys_updated_on": created, "sys_mod_count": "0"}
    for team in TEAMS:
        history.add("sys_user_group", {**base, "sys_id": sys_id("group", team), "name": team})
    for service in SERVICES:
        record = {**base, "sys_id": sys_id("service", service.name), "name": service.name}
        history.add("cmdb_ci_service", record)
    history.add("cmdb_ci", {**base, "sys_id": sys_id("ci", "none"), "name": "Unnamed CI"})
    for priority, hours in _RESOLUTION_TARGET_HOURS.items():
        for kind in ("Response", "Resolution"):
            name = f"P{priority} {kind}"
            target = hours if kind == "Resolution" else _RESPONSE_TARGET_HOURS[priority]
            history.add(
                "contract_sla",
                {**base, "sys_id": sys_id("sla", name), "name": f"{name} ({target:g} h)"},
            )
    for item, _ in _CATALOGUE:
        history.add("sc_cat_item", {**base, "sys_id": sys_id("item", item), "name": item})


def _service(rng: random.Random) -> Service:
    return rng.choices(SERVICES, [s.load for s in SERVICES])[0]


def _changes(history: _History, rng: random.Random, day: date, emit: bool) -> None:
    as_of = history.as_of
    weekday = 1.0 if day.weekday() < 5 else 0.2
    for index in range(_poisson(rng, 2.2 * weekday)):
        number = _number("CHG", day, index)
        service = _service(rng)
        kind = rng.choices(("standard", "normal", "emergency"), (50, 40, 10))[0]
        opened = _moment(rng, day)
        lead = timedelta(hours=2) if kind == "emergency" else timedelta(days=rng.uniform(1, 6))
        planned_start = opened + lead
        planned_end = planned_start + timedelta(hours=rng.choice((1, 2, 2, 4)))
        work_start = planned_start + timedelta(minutes=rng.randrange(-10, 30))
        work_end = planned_end + timedelta(minutes=rng.randrange(-30, 90))
        failed_odds = 0.15 if kind == "emergency" else 0.06
        close_code = rng.choices(
            ("successful", "successful_issues", "unsuccessful"),
            (1 - failed_odds - 0.05, 0.05, failed_odds),
        )[0]
        canceled = rng.random() < 0.04
        closed = work_end + timedelta(hours=rng.uniform(2, 48))
        if canceled:
            work_start = work_end = None
            closed = planned_start - timedelta(hours=1)
        if canceled and closed <= as_of:
            state = "4"
        elif closed <= as_of:
            state = "3"
        elif work_end and work_end <= as_of:
            state = "0"
        elif work_start and work_start <= as_of:
            state = "-1"
        elif opened + timedelta(hours=4) <= as_of:
            state = "-2"
        else:
            state = "-4"
        change_sys_id = sys_id("change_request", number)
        if not canceled and work_end is not None:
            history.recent_changes.append((work_end, service.name, change_sys_id))
        # Built even when not emitted: the day's random stream must not depend on the window.
        record = {
            "sys_id": change_sys_id,
            "number": number,
            "sys_created_on": _stamp(opened, as_of),
            "sys_updated_on": history.updated(opened, work_start, work_end, closed),
            "sys_mod_count": str(rng.randrange(3, 12)),
            "short_description": f"{kind.title()} change to {service.name}",
            "state": state,
            "type": kind,
            "risk": rng.choices(("1", "2", "3", "4"), (2, 8, 30, 60))[0],
            "opened_at": _stamp(opened, as_of),
            "start_date": planned_start.strftime(TIME_FORMAT),
            "end_date": planned_end.strftime(TIME_FORMAT),
            "work_start": _stamp(work_start, as_of),
            "work_end": _stamp(work_end, as_of),
            "closed_at": _stamp(closed, as_of),
            "close_code": close_code if state == "3" else "",
            "assignment_group": sys_id("group", service.team),
            "business_service": sys_id("service", service.name),
            "cmdb_ci": "",
            "contact_type": "",
            "priority": "4",
            "production_system": "true" if rng.random() < 0.85 else "false",
        }
        if day.toordinal() % 211 == 0 and index == 0 and state == "3":
            record["close_code"] = "rolled_back_partially"  # deliberately unknown
        if emit:
            history.add("change_request", record)


def _cause(history: _History, rng: random.Random, opened: datetime, service: str) -> str:
    """A change to the same service that ended within the three days before the incident."""
    window = opened - timedelta(days=3)
    history.recent_changes = [c for c in history.recent_changes if c[0] >= window - timedelta(1)]
    candidates = [c for c in history.recent_changes if c[1] == service and window <= c[0] < opened]
    return rng.choice(candidates)[2] if candidates and rng.random() < 0.04 else ""


def _incidents(history: _History, rng: random.Random, day: date, emit: bool) -> None:
    as_of = history.as_of
    for index in range(_poisson(rng, 7.0 * seasonal_load(day))):
        number = _number("INC", day, index)
        service = _service(rng)
        impact = rng.choices((1, 2, 3), (5, 45, 50))[0]
        urgency = rng.choices((1, 2, 3), (8, 62, 30))[0]
        priority = _PRIORITY[(impact, urgency)]
        opened = _moment(rng, day)
        hours = _RESOLUTION_MEDIAN_HOURS[priority] * math.exp(rng.gauss(0, 0.9))
        resolved = opened + timedelta(hours=hours)
        reopened = rng.random() < 0.04
        if reopened:
            resolved += timedelta(hours=rng.uniform(24, 96))
        closed = resolved + timedelta(days=3)
        canceled = rng.random() < 0.02
        caused_by = _cause(history, rng, opened, service.name)
        fixed_by = (
            rng.choice(history.recent_changes)[2]
            if rng.random() < 0.02 and history.recent_changes
            else ""
        )
        if canceled:
            resolved, closed = None, opened + timedelta(hours=rng.uniform(1, 24))
        if canceled and closed <= as_of:
            state = "8"
        elif closed and closed <= as_of:
            state = "7"
        elif resolved and resolved <= as_of:
            state = "6"
        elif opened + timedelta(hours=1) > as_of:
            state = "1"
        else:
            state = "3" if rng.random() < 0.2 else "2"
        incident_id = sys_id("incident", number)
        team = service.team if rng.random() < 0.7 else "Service Desk"
        made_sla = resolved is not None and hours <= _RESOLUTION_TARGET_HOURS[priority]
        security = rng.random() < 0.03
        record = {
            "sys_id": incident_id,
            "number": number,
            "sys_created_on": _stamp(opened, as_of),
            "sys_updated_on": history.updated(opened, resolved, closed),
            "sys_mod_count": str(rng.randrange(2, 15)),
            "short_description": f"{service.name} problem",
            "state": state,
            "impact": str(impact),
            "urgency": str(urgency),
            "priority": str(priority),
            "opened_at": _stamp(opened, as_of),
            "resolved_at": _stamp(resolved, as_of),
            "closed_at": _stamp(closed, as_of),
            "category": "security"
            if security
            else rng.choices(("software", "hardware", "network", "database", "inquiry"))[0],
            "assignment_group": sys_id("group", team),
            "business_service": sys_id("service", service.name),
            "cmdb_ci": "",
            "contact_type": rng.choices(
                ("phone", "email", "self-service", "chat", "walk-in"), (35, 25, 28, 10, 2)
            )[0],
            "caused_by": caused_by,
            "rfc": fixed_by,
            "reopen_count": "1" if reopened else "0",
            "reassignment_count": str(rng.choices((0, 1, 2, 3), (55, 30, 10, 5))[0]),
            "made_sla": "true" if made_sla or state in ("1", "2", "3") else "false",
            "close_code": "Solved (Permanently)" if state in ("6", "7") else "",
        }
        if emit and index == 0 and day.toordinal() % 97 == 0:
            _break(record, _BAD_KINDS[day.toordinal() // 97 % len(_BAD_KINDS)])
        if emit:
            history.add("incident", record)
            _slas(history, rng, record, opened, resolved, priority, canceled)


def _break(record: Record, kind: str) -> None:
    """Deliberately bad input, so data quality has something to count."""
    if kind == "unparseable_date":
        record["opened_at"] = "31/02/2024 25:61"
    elif kind == "resolved_before_opened" and record["resolved_at"]:
        opened = datetime.strptime(record["opened_at"], TIME_FORMAT)
        record["resolved_at"] = (opened - timedelta(hours=5)).strftime(TIME_FORMAT)
    else:
        record["state"] = "12"


def _slas(
    history: _History,
    rng: random.Random,
    incident: Record,
    opened: datetime,
    resolved: datetime | None,
    priority: int,
    canceled: bool,
) -> None:
    as_of = history.as_of
    responded = opened + timedelta(hours=rng.expovariate(1 / _RESPONSE_TARGET_HOURS[priority]))
    if resolved is not None:
        responded = min(responded, resolved)
    clocks = (
        ("Response", responded, _RESPONSE_TARGET_HOURS[priority]),
        ("Resolution", resolved, _RESOLUTION_TARGET_HOURS[priority]),
    )
    for kind, ended, target in clocks:
        breach_at = opened + timedelta(hours=target)
        finished = ended is not None and ended <= as_of
        stage = "cancelled" if canceled else "completed" if finished else "in_progress"
        breached = (ended or as_of) > breach_at and (finished or as_of > breach_at)
        paused = rng.choice((0, 0, 0, 1, 2)) if kind == "Resolution" else 0
        history.add(
            "task_sla",
            {
                "sys_id": sys_id("task_sla", f"{incident['number']}:{kind}"),
                "sys_created_on": _stamp(opened, as_of),
                "sys_updated_on": history.updated(opened, ended, breach_at),
                "sys_mod_count": "2",
                "task": incident["sys_id"],
                "sla": sys_id("sla", f"P{priority} {kind}"),
                "stage": stage,
                "has_breached": "true" if breached and not canceled else "false",
                "start_time": _stamp(opened, as_of),
                "end_time": _stamp(ended, as_of) if finished else "",
                "planned_end_time": breach_at.strftime(TIME_FORMAT),
                "pause_duration": f"1970-01-01 {paused:02d}:00:00",
                "business_pause_duration": f"1970-01-01 {paused:02d}:00:00",
                "percentage": "",
                "business_percentage": "",
                "schedule": "",
                "timezone": "UTC",
            },
        )


def _requests(history: _History, rng: random.Random, day: date, emit: bool) -> None:
    as_of = history.as_of
    for index in range(_poisson(rng, 6.0 * seasonal_load(day))):
        number = _number("RITM", day, index)
        item, service = rng.choice(_CATALOGUE)
        opened = _moment(rng, day)
        fulfilled = opened + timedelta(hours=20 * math.exp(rng.gauss(0, 0.8)))
        outcome = rng.choices(("3", "4", "7"), (92, 5, 3))[0]
        if fulfilled <= as_of:
            state, stage = outcome, "completed"
        elif opened + timedelta(hours=2) <= as_of:
            state, stage = "2", "fulfillment"
        else:
            state, stage = "-5", "request_approved"
        team = next((s.team for s in SERVICES if s.name == service), "Service Desk")
        if not emit:
            continue
        history.add(
            "sc_req_item",
            {
                "sys_id": sys_id("sc_req_item", number),
                "number": number,
                "sys_created_on": _stamp(opened, as_of),
                "sys_updated_on": history.updated(opened, fulfilled),
                "sys_mod_count": "4",
                "short_description": item,
                "state": state,
                "stage": stage,
                "cat_item": sys_id("item", item),
                "opened_at": _stamp(opened, as_of),
                "closed_at": _stamp(fulfilled, as_of),
                "assignment_group": sys_id("group", team),
                "business_service": sys_id("service", service) if service else "",
                "cmdb_ci": "",
                "priority": "4",
                "contact_type": rng.choices(
                    ("self-service", "email", "phone", "chat"), (55, 20, 15, 10)
                )[0],
            },
        )


def _outages(history: _History, rng: random.Random, day: date, emit: bool) -> None:
    as_of = history.as_of
    index = 0
    for service in SERVICES:
        for kind, odds, minutes in (
            ("outage", 0.004, (10, 180)),
            ("degradation", 0.007, (30, 480)),
            ("planned", 0.006, (60, 240)),
        ):
            if rng.random() >= odds * (service.load if kind != "planned" else 1):
                continue
            if kind == "planned":
                begin = datetime(day.year, day.month, day.day, 22, tzinfo=UTC)
            else:
                begin = _moment(rng, day)
            end = begin + timedelta(minutes=rng.uniform(*minutes))
            number = _number("OUT", day, index)
            index += 1
            if not emit or begin > as_of:
                continue
            history.add(
                "cmdb_ci_outage",
                {
                    "sys_id": sys_id("cmdb_ci_outage", number),
                    "number": number,
                    "sys_created_on": _stamp(begin, as_of),
                    "sys_updated_on": history.updated(begin, end),
                    "sys_mod_count": "1",
                    "cmdb_ci": sys_id("service", service.name),
                    "type": kind,
                    "begin": _stamp(begin, as_of),
                    "end": _stamp(end, as_of),
                    "short_description": f"{service.name} {kind}",
                },
            )
