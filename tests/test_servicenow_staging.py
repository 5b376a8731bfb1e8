"""Staging SQL on hand-made raw records: state, priority, outcome and channel mappings, links,
UTC times and the data-quality rows for values it cannot use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_servicenow_support import stage

from connectors.base import Page, Stream
from warehouse.landing import land_page


def f(value: str, display: str | None = None) -> dict[str, str]:
    """A field as sysparm_display_value=all returns it."""
    return {"display_value": value if display is None else display, "value": value}


def record(sys_id: str, **fields: str | dict[str, str]) -> dict[str, dict[str, str]]:
    base = {"sys_id": f(sys_id), "sys_updated_on": f("2024-03-05 12:00:00")}
    return base | {k: v if isinstance(v, dict) else f(v) for k, v in fields.items()}


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


INCIDENTS = [
    record(
        "inc1",
        number="INC0000001",
        state="2",
        priority="1",
        opened_at="2024-03-01 10:00:00",
        resolved_at="",
        closed_at="",
        contact_type="self-service",
        business_service=f("svc1", "Email"),
        cmdb_ci=f("ci9", "mail-01"),
        assignment_group=f("grp1", "Messaging Ops"),
        category="security",
        caused_by=f("chg1", "CHG0000001"),
        rfc=f("chg4", "CHG0000004"),
        made_sla="false",
        reopen_count="1",
        reassignment_count="2",
        close_code="",
    ),
    record(
        "inc2",
        number="INC0000002",
        state="7",
        priority="4",
        opened_at="2024-03-02 08:00:00",
        resolved_at="2024-03-01 08:00:00",
        closed_at="2024-03-04 08:00:00",
        contact_type="phone",
        business_service=f("", ""),
        cmdb_ci=f("ci2", "VPN gateway"),
        category="network",
        caused_by=f("", ""),
        made_sla="true",
        close_code="Solved (Permanently)",
    ),
    record(
        "inc3",
        number="INC0000003",
        state="12",
        priority="9",
        opened_at="31/02/2024 25:61",
        resolved_at="2024-03-03 09:30:00",
        contact_type="carrier pigeon",
        category="Software",
    ),
]

CHANGES = [
    record(
        "chg1",
        number="CHG0000001",
        state="3",
        close_code="unsuccessful",
        type="emergency",
        risk="2",
        work_end="2024-02-29 23:00:00",
        production_system="true",
    ),
    record(
        "chg2", number="CHG0000002", state="-1", close_code="successful", type="normal", risk="4"
    ),
    record("chg3", number="CHG0000003", state="4", close_code="", type="standard", risk="3"),
    record(
        "chg4",
        number="CHG0000004",
        state="0",
        close_code="successful_issues",
        type="normal",
        risk="1",
        business_service=f("svc1", "Email"),
    ),
    record(
        "chg5", number="CHG0000005", state="3", close_code="rolled_back", type="normal", risk="4"
    ),
]

REQUESTS = [
    record(
        "ritm1",
        number="RITM0000001",
        state="3",
        opened_at="2024-03-01 09:00:00",
        closed_at="2024-03-02 09:00:00",
        contact_type="email",
        cat_item=f("item1", "Laptop"),
        business_service=f("", ""),
    ),
    record(
        "ritm2",
        number="RITM0000002",
        state="4",
        opened_at="2024-03-01 09:00:00",
        closed_at="2024-03-01 10:00:00",
        contact_type="self-service",
        business_service=f("svc2", "VPN"),
        cat_item=f("item2", "VPN token"),
    ),
]

SLAS = [
    record(
        "sla1",
        task=f("inc1", "INC0000001"),
        sla=f("s1", "P1 Resolution (4 h)"),
        stage="completed",
        has_breached="true",
        start_time="2024-03-01 10:00:00",
        end_time="2024-03-01 16:00:00",
        planned_end_time="2024-03-01 14:00:00",
        pause_duration="1970-01-02 01:30:00",
    ),
    record(
        "sla2",
        task=f("gone", "CHG0000099"),
        sla=f("s2", "Change window"),
        stage="teleported",
        has_breached="false",
        start_time="2024-03-01 10:00:00",
        end_time="",
        planned_end_time="not a date",
        pause_duration="1970-01-01 00:00:00",
    ),
]

OUTAGES = [
    record(
        "out1",
        number="OUT0000001",
        cmdb_ci=f("svc1", "Email"),
        type="degradation",
        begin="2024-03-01 10:00:00",
        end="2024-03-01 11:15:00",
    ),
    record(
        "out2",
        number="OUT0000002",
        cmdb_ci=f("svc2", "VPN"),
        type="partial",
        begin="2024-03-02 10:00:00",
        end="2024-03-02 09:00:00",
    ),
]


@pytest.fixture
def staged(warehouse):
    with warehouse.connect() as con:
        for table, records in (
            ("incident", INCIDENTS),
            ("change_request", CHANGES),
            ("sc_req_item", REQUESTS),
            ("task_sla", SLAS),
            ("cmdb_ci_outage", OUTAGES),
        ):
            stream = Stream(table, "sys_id", "sys_updated_on")
            land_page(con, "servicenow", stream, Page(records, None))
        stage(con)
        yield con


def rows(con, sql: str) -> list[dict]:
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_incidents(staged):
    got = {r["number"]: r for r in rows(staged, "SELECT * FROM core.incidents")}
    assert set(got) == {"INC0000001", "INC0000002", "INC0000003"}
    one, two, three = got["INC0000001"], got["INC0000002"], got["INC0000003"]
    assert one["incident_id"] == "servicenow:inc1" and one["source"] == "servicenow"
    assert (one["state"], one["priority"], one["channel"]) == ("in_progress", 1, "portal")
    assert (one["service"], one["assignment_group"]) == ("Email", "Messaging Ops")
    assert one["opened_at"] == utc("2024-03-01 10:00:00") and one["resolved_at"] is None
    assert one["caused_by_change_id"] == "servicenow:chg1"
    assert one["related_change_id"] == "servicenow:chg4"
    assert (one["is_security"], one["made_sla"]) == (True, False)
    assert (one["reopen_count"], one["reassignment_count"]) == (1, 2)
    assert one["updated_at"] == utc("2024-03-05 12:00:00")
    assert (two["state"], two["priority"], two["channel"]) == ("closed", 4, "phone")
    assert two["service"] == "VPN gateway"  # no business service: the CI's name
    assert two["resolved_at"] is None  # resolved before opened is not measured
    assert two["closed_at"] == utc("2024-03-04 08:00:00")
    assert two["caused_by_change_id"] is None and two["is_security"] is False
    assert two["close_code"] == "Solved (Permanently)"
    assert (three["state"], three["priority"], three["opened_at"]) == (None, None, None)
    assert three["resolved_at"] == utc("2024-03-03 09:30:00")
    assert three["channel"] == "other"


def test_changes(staged):
    got = {
        r["number"]: (r["state"], r["outcome"], r["type"], r["risk"])
        for r in rows(staged, "SELECT * FROM core.changes")
    }
    assert got == {
        "CHG0000001": ("closed", "unsuccessful", "emergency", "high"),
        "CHG0000002": ("implement", None, "normal", "low"),
        "CHG0000003": ("canceled", None, "standard", "moderate"),
        "CHG0000004": ("review", "successful_issues", "normal", "very_high"),
        "CHG0000005": ("closed", None, "normal", "low"),
    }
    one = rows(staged, "SELECT * FROM core.changes WHERE number = 'CHG0000001'")[0]
    assert one["change_id"] == "servicenow:chg1"
    assert one["actual_end"] == utc("2024-02-29 23:00:00") and one["is_production"] is True


def test_requests(staged):
    got = {r["number"]: r for r in rows(staged, "SELECT * FROM core.requests")}
    one, two = got["RITM0000001"], got["RITM0000002"]
    assert (one["state"], one["channel"], one["service"]) == ("closed", "email", "Laptop")
    assert one["fulfilled_at"] == utc("2024-03-02 09:00:00")
    assert (two["state"], two["channel"], two["service"]) == ("canceled", "portal", "VPN")
    assert two["fulfilled_at"] is None and two["closed_at"] == utc("2024-03-01 10:00:00")


def test_sla_records(staged):
    got = {r["sla_record_id"]: r for r in rows(staged, "SELECT * FROM core.sla_records")}
    one, two = got["servicenow:sla1"], got["servicenow:sla2"]
    assert one["task_id"] == "servicenow:inc1" and one["task_number"] == "INC0000001"
    assert (one["task_type"], one["service"], one["priority"]) == ("incident", "Email", 1)
    assert (one["sla_name"], one["stage"], one["breached"]) == (
        "P1 Resolution (4 h)",
        "completed",
        True,
    )
    assert one["breach_time"] == utc("2024-03-01 14:00:00")
    assert one["pause_duration_seconds"] == 91800
    assert (two["task_type"], two["service"], two["breach_time"]) == ("change", None, None)


def test_outages(staged):
    got = {r["number"]: r for r in rows(staged, "SELECT * FROM core.outages")}
    assert got["OUT0000001"]["type"] == "degradation"
    assert got["OUT0000001"]["service"] == "Email"
    assert got["OUT0000001"]["end_at"] - got["OUT0000001"]["begin_at"] == (
        utc("2024-03-01 11:15:00") - utc("2024-03-01 10:00:00")
    )
    assert got["OUT0000002"]["type"] is None


def test_bad_values_are_counted_with_the_record_number(staged):
    got = {
        (r[0], r[1], r[2], r[3], r[4])
        for r in staged.execute(
            "SELECT table_name, record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'servicenow'"
        ).fetchall()
    }
    assert got == {
        (
            "incidents",
            "INC0000002",
            "resolved_at",
            "resolved before opened (resolved_at left empty)",
            "2024-03-01 08:00:00",
        ),
        ("incidents", "INC0000003", "opened_at", "unparseable date", "31/02/2024 25:61"),
        ("incidents", "INC0000003", "state", "unknown state code", "12"),
        ("incidents", "INC0000003", "priority", "unknown priority code", "9"),
        ("changes", "CHG0000005", "close_code", "unknown close_code", "rolled_back"),
        # Closed (3) with neither closed_at nor work_end: no KPI can place it.
        (
            "changes",
            "CHG0000005",
            "closed_at",
            "closed without closed_at or work_end (no end time: not counted)",
            None,
        ),
        (
            "sla_records",
            "CHG0000099 / Change window",
            "planned_end_time",
            "unparseable date",
            "not a date",
        ),
        ("sla_records", "CHG0000099 / Change window", "stage", "unknown stage", "teleported"),
        ("outages", "OUT0000002", "type", "unknown outage type", "partial"),
        ("outages", "OUT0000002", "end", "end before begin", "2024-03-02 09:00:00"),
    }


def test_a_placeholder_date_loads_empty_and_is_listed(warehouse):
    """A migrated ticket's default 1970 opening would open 54 years of empty periods: it loads
    empty, named by number; the 1970-based duration of an SLA clock still reads as a duration."""
    migrated = record(
        "inc7",
        number="INC0000007",
        state="7",
        priority="3",
        opened_at="1970-01-01 00:00:00",
        resolved_at="2024-03-04 09:00:00",
        closed_at="1999-12-31 23:59:59",
    )
    clock = record(
        "sla7",
        task=f("inc7", "INC0000007"),
        stage="completed",
        start_time="2024-03-04 08:00:00",
        pause_duration="1970-01-01 00:05:00",
    )
    with warehouse.connect() as con:
        land_page(
            con,
            "servicenow",
            Stream("incident", "sys_id", "sys_updated_on"),
            Page([migrated], None),
        )
        land_page(
            con, "servicenow", Stream("task_sla", "sys_id", "sys_updated_on"), Page([clock], None)
        )
        stage(con)
        incident = rows(con, "SELECT opened_at, resolved_at, closed_at FROM core.incidents")
        paused = con.execute("SELECT pause_duration_seconds FROM core.sla_records").fetchall()
        listed = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'servicenow' ORDER BY field"
        ).fetchall()
    assert incident == [
        {"opened_at": None, "resolved_at": utc("2024-03-04 09:00:00"), "closed_at": None}
    ]
    assert paused == [(300,)]
    problem = "date before 2000 (a placeholder): left empty"
    assert listed == [
        ("INC0000007", "closed_at", problem, "1999-12-31 23:59:59"),
        ("INC0000007", "opened_at", problem, "1970-01-01 00:00:00"),
    ]


def test_unreadable_counts_and_flags_are_listed_and_left_unknown(warehouse):
    def incident(sys_id: str, **fields: str) -> dict:
        base = {
            "number": f"INC{sys_id}",
            "state": "7",
            "priority": "3",
            "opened_at": "2024-03-01 10:00:00",
            "resolved_at": "2024-03-01 12:00:00",
            "closed_at": "2024-03-02 12:00:00",
            "made_sla": "true",
            "reopen_count": "0",
            "reassignment_count": "0",
        }
        return record(sys_id, **(base | fields))

    incidents = [
        incident("1", made_sla="maybe", reopen_count="-1"),
        incident("2", reassignment_count="1.5"),
        incident("3", reopen_count="abc", made_sla="yes"),
        # An instance that answers an empty date as zeros: no time, not an unparseable date.
        incident("4", resolved_at="0000-00-00 00:00:00", closed_at="0000-00-00 00:00:00"),
        incident("5", state="2", resolved_at="0000-00-00 00:00:00", closed_at=""),
    ]
    clocks = [
        record(
            "sla1",
            task=f("1", "INC1"),
            sla=f("s1", "P3 Resolution"),
            stage="completed",
            has_breached="maybe",
            start_time="2024-03-01 10:00:00",
            end_time="2024-03-01 12:00:00",
            planned_end_time="2024-03-02 10:00:00",
            pause_duration="1970-01-01 00:00:00",
        )
    ]
    with warehouse.connect() as con:
        for table, records in (("incident", incidents), ("task_sla", clocks)):
            stream = Stream(table, "sys_id", "sys_updated_on")
            land_page(con, "servicenow", stream, Page(records, None))
        stage(con)
        counted = con.execute(
            "SELECT number, made_sla, reopen_count, reassignment_count, resolved_at "
            "FROM core.incidents ORDER BY number"
        ).fetchall()
        breached = con.execute("SELECT breached FROM core.sla_records").fetchall()
        problems = con.execute(
            "SELECT table_name, record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'servicenow' ORDER BY record_key, field"
        ).fetchall()
    resolved = utc("2024-03-01 12:00:00")
    assert counted == [
        ("INC1", None, None, 0, resolved),
        ("INC2", True, 0, None, resolved),
        ("INC3", True, None, 0, resolved),
        ("INC4", True, 0, 0, None),
        ("INC5", True, 0, 0, None),
    ]
    assert breached == [(None,)]
    unknown = "not true or false (left unknown)"
    assert problems == [
        ("incidents", "INC1", "made_sla", unknown, "maybe"),
        ("incidents", "INC1", "reopen_count", "not a whole number (left unknown)", "-1"),
        ("sla_records", "INC1 / P3 Resolution", "has_breached", unknown, "maybe"),
        ("incidents", "INC2", "reassignment_count", "not a whole number (left unknown)", "1.5"),
        ("incidents", "INC3", "reopen_count", "not a whole number (left unknown)", "abc"),
        (
            "incidents",
            "INC4",
            "resolved_at",
            "closed without resolved_at or closed_at (no end time: not counted)",
            None,
        ),
    ]


def test_an_outage_with_a_placeholder_end_does_not_run_until_now(warehouse):
    """A migrated outage whose end is a default 1970 date has no known end: it must not stage as
    an outage still running (begin set, end empty), which the availability KPI counts as down
    from its begin until the run's as-of; it is listed and not counted, as before 2000 dates
    loaded, when its end before its begin left it out."""
    migrated = record(
        "out9",
        number="OUT0000009",
        cmdb_ci=f("svc1", "Email"),
        type="outage",
        begin="2019-06-01 10:00:00",
        end="1970-01-01 00:00:00",
    )
    with warehouse.connect() as con:
        stream = Stream("cmdb_ci_outage", "sys_id", "sys_updated_on")
        land_page(con, "servicenow", stream, Page([migrated], None))
        stage(con)
        running = con.execute(
            "SELECT count(*) FROM core.outages WHERE begin_at IS NOT NULL AND end_at IS NULL"
        ).fetchall()
        listed = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'servicenow'"
        ).fetchall()
    assert running == [(0,)]
    assert listed == [
        (
            "OUT0000009",
            "end",
            "date before 2000 (a placeholder): left empty",
            "1970-01-01 00:00:00",
        )
    ]
