"""A ticket in a finished state with no time it ended, from each ticket source over real HTTP.

No KPI can place such a ticket in a period, so staging gives it no end time and a
scorecard.data_quality row names it by its number and the field it lacks: without that row it
would leave every KPI silently. A ticket counted at another time it holds, or not finished, is
no problem."""

from __future__ import annotations

from datetime import UTC, datetime

from test_freshservice_connector import account, ticket
from test_freshservice_connector import connector as freshservice_connector
from test_jira_connector import connector as jira_connector
from test_jira_connector import issue, site
from test_servicenow_support import source_for
from test_servicenow_support import stage as stage_servicenow

from connectors.emulators import freshservice, jira, servicenow
from connectors.emulators.servicenow_tables import MemoryTable, Record
from connectors.servicenow import TABLE_FIELDS
from transforms.staging import stage, staged_tables
from warehouse.ingest import ingest

NO_END = " (no end time: not counted)"


def problems(con, source: str) -> list[tuple]:
    return con.execute(
        "SELECT table_name, record_key, field, problem, value FROM scorecard.data_quality "
        "WHERE source = ? ORDER BY table_name, record_key, field",
        [source],
    ).fetchall()


def task(prefix: str, n: int, state: str, **times: str) -> Record:
    """A ServiceNow task record opened on 1 May 2025; `times` are its end times ('' for none)."""
    number = f"{prefix}{n:07d}"
    return {
        "sys_id": f"{prefix.lower()}{n:0{32 - len(prefix)}d}",
        "number": number,
        "sys_updated_on": f"2025-05-0{n} 12:00:00",
        "opened_at": "2025-05-01 09:00:00",
        "state": state,
        "priority": "3",
    } | times


def test_a_servicenow_ticket_resolved_or_closed_without_its_time_is_named(warehouse):
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["incident"] = MemoryTable.of(
        "incident",
        [
            task("INC", 1, "6", resolved_at="", closed_at=""),
            task("INC", 2, "7", resolved_at="", closed_at=""),
            # Closed at a time, though never resolved: counted at its closing.
            task("INC", 3, "7", resolved_at="", closed_at="2025-05-03 10:00:00"),
            task("INC", 4, "8", resolved_at="", closed_at=""),  # canceled
            task("INC", 5, "2", resolved_at="", closed_at=""),  # in progress
        ],
    )
    tables["sc_req_item"] = MemoryTable.of(
        "sc_req_item",
        [
            task("RITM", 1, "3", closed_at=""),  # closed complete
            task("RITM", 2, "7", closed_at=""),  # closed skipped
            task("RITM", 3, "3", closed_at="2025-05-03 10:00:00"),
            task("RITM", 4, "2", closed_at=""),  # work in progress
        ],
    )
    tables["change_request"] = MemoryTable.of(
        "change_request",
        [
            task("CHG", 1, "3", close_code="successful", closed_at="", work_end=""),
            # Deployed at its work_end: counted there.
            task(
                "CHG", 2, "3", close_code="successful", closed_at="", work_end="2025-05-02 10:00:00"
            ),
            task("CHG", 3, "4", closed_at="", work_end=""),  # canceled
        ],
    )
    credentials = servicenow.Credentials("tester", "s3cret-pass")
    with servicenow.serve(tables, credentials) as server, warehouse.connect() as con:
        ingest(con, source_for(server.url))
        stage_servicenow(con)
        ended = con.execute(
            "SELECT number, state, coalesce(resolved_at, closed_at) FROM core.incidents "
            "UNION ALL SELECT number, state, coalesce(fulfilled_at, closed_at) FROM core.requests "
            "UNION ALL SELECT number, state, coalesce(actual_end, closed_at) FROM core.changes "
            "ORDER BY number"
        ).fetchall()
        named = problems(con, "servicenow")

    def utc(day: int) -> datetime:
        return datetime(2025, 5, day, 10, tzinfo=UTC)

    assert ended == [
        ("CHG0000001", "closed", None),
        ("CHG0000002", "closed", utc(2)),
        ("CHG0000003", "canceled", None),
        ("INC0000001", "resolved", None),
        ("INC0000002", "closed", None),
        ("INC0000003", "closed", utc(3)),
        ("INC0000004", "canceled", None),
        ("INC0000005", "in_progress", None),
        ("RITM0000001", "closed", None),
        ("RITM0000002", "canceled", None),
        ("RITM0000003", "closed", utc(3)),
        ("RITM0000004", "in_progress", None),
    ]
    assert named == [
        (
            "changes",
            "CHG0000001",
            "closed_at",
            "closed without closed_at or work_end" + NO_END,
            None,
        ),
        (
            "incidents",
            "INC0000001",
            "resolved_at",
            "resolved without resolved_at or closed_at" + NO_END,
            None,
        ),
        (
            "incidents",
            "INC0000002",
            "resolved_at",
            "closed without resolved_at or closed_at" + NO_END,
            None,
        ),
        ("requests", "RITM0000001", "closed_at", "closed without closed_at" + NO_END, None),
        ("requests", "RITM0000002", "closed_at", "closed without closed_at" + NO_END, None),
    ]


def test_a_freshservice_ticket_resolved_or_closed_without_its_stats_times_is_named(warehouse):
    closed = datetime(2025, 5, 3, 10, tzinfo=UTC)
    none = {"resolved_at": None, "closed_at": None}
    tickets = [
        ticket(1, "Incident", "2025-05-01T08:00:00", status=4, **none),
        ticket(2, "Incident", "2025-05-01T08:00:00", status=5, **none),
        # Closed at a time, though never resolved: counted at its closing.
        ticket(3, "Incident", "2025-05-01T08:00:00", status=5, resolved_at=None, closed_at=closed),
        # Resolved again after an earlier closing: that closing is not this resolution.
        ticket(4, "Incident", "2025-05-01T08:00:00", status=4, resolved_at=None, closed_at=closed),
        ticket(5, "Incident", "2025-05-01T08:00:00", status=2, **none),
        ticket(6, "Service Request", "2025-05-01T08:00:00", status=4, **none),
        ticket(7, "Service Request", "2025-05-01T08:00:00", status=5, **none),
        ticket(
            8,
            "Service Request",
            "2025-05-01T08:00:00",
            status=5,
            resolved_at=None,
            closed_at=closed,
        ),
    ]
    with freshservice.serve(account(tickets, [])) as server, warehouse.connect() as con:
        ingest(con, freshservice_connector(server.url))
        for table in staged_tables("freshservice"):
            stage(con, "freshservice", table)
        ended = con.execute(
            "SELECT number, state, coalesce(resolved_at, closed_at) FROM core.incidents "
            "UNION ALL SELECT number, state, coalesce(fulfilled_at, closed_at) FROM core.requests "
            "ORDER BY number"
        ).fetchall()
        named = problems(con, "freshservice")
    assert ended == [
        ("1", "resolved", None),
        ("2", "closed", None),
        ("3", "closed", closed),
        ("4", "resolved", None),
        ("5", "new", None),
        ("6", "closed", None),
        ("7", "closed", None),
        ("8", "closed", closed),
    ]
    resolved = "resolved without stats.resolved_at" + NO_END
    closed_without = "closed without stats.resolved_at or stats.closed_at" + NO_END
    assert named == [
        ("incidents", "1", "stats.resolved_at", resolved, None),
        ("incidents", "2", "stats.resolved_at", closed_without, None),
        ("incidents", "4", "stats.resolved_at", resolved, None),
        ("requests", "6", "stats.resolved_at", resolved, None),
        ("requests", "7", "stats.resolved_at", closed_without, None),
    ]


def test_a_done_jira_issue_with_no_time_it_entered_done_is_named(warehouse):
    """No resolutiondate, and no statuscategorychangedate to stand in for it (absent, or one
    that cannot be read): the issue has no end. A resolutiondate alone is enough."""
    resolved = datetime(2025, 3, 1, 14, tzinfo=UTC)

    def done(n: int, kind: str, status: str, **fields) -> dict:
        return issue(n, kind, "2025-03-01T10:00:00", status=status, category="done", **fields)

    issues = [
        done(1, "Incident", "Done", category_changed=None),
        done(2, "Service Request", "Resolved", category_changed=None),
        done(3, "Change", "Completed", category_changed=None),
        done(4, "Incident", "Done", category_changed=resolved),
        done(
            5, "Incident", "Resolved", resolution="Done", resolved=resolved, category_changed=None
        ),
    ]
    with jira.serve(site(issues)) as server, warehouse.connect() as con:
        ingest(con, jira_connector(server.url))
        con.execute(
            "UPDATE raw_versions.jira_incidents SET record = json_merge_patch(record, "
            '\'{"fields": {"statuscategorychangedate": "01/03/2025 14:00"}}\') '
            "WHERE record_key = '10004'"
        )
        for table in staged_tables("jira"):
            stage(con, "jira", table)
        ended = con.execute(
            "SELECT number, state, coalesce(resolved_at, closed_at) FROM core.incidents "
            "UNION ALL SELECT number, state, coalesce(fulfilled_at, closed_at) FROM core.requests "
            "UNION ALL SELECT number, state, closed_at FROM core.changes ORDER BY number"
        ).fetchall()
        named = problems(con, "jira")
    assert ended == [
        ("ITSM-1", "resolved", None),
        ("ITSM-2", "closed", None),
        ("ITSM-3", "closed", None),
        ("ITSM-4", "resolved", None),
        ("ITSM-5", "resolved", resolved),
    ]
    absent = "done without resolutiondate or statuscategorychangedate" + NO_END
    assert named == [
        (
            "changes",
            "ITSM-3",
            "resolution",
            "done without a resolution that says how it went",
            None,
        ),
        ("changes", "ITSM-3", "resolutiondate", absent, None),
        ("incidents", "ITSM-1", "resolutiondate", absent, None),
        (
            "incidents",
            "ITSM-4",
            "statuscategorychangedate",
            "done without resolutiondate, and statuscategorychangedate unparseable" + NO_END,
            "01/03/2025 14:00",
        ),
        ("requests", "ITSM-2", "resolutiondate", absent, None),
    ]
