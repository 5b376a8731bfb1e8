"""The Freshservice connector against its emulator over real HTTP, into DuckDB."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulators.freshservice import Churn, FreshserviceApi, serve
from connectors.emulators.freshservice_data import sample_changes, sample_tickets
from connectors.emulators.server import Faults
from connectors.freshservice import FreshserviceSource, from_env
from connectors.http import RetryPolicy, SourceError
from transforms.staging import stage, staged_tables
from warehouse.ingest import ingest

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = "fs-Api-key-secret"


def account(
    tickets: list[dict],
    changes: list[dict],
    churn: Churn | None = None,
    groups: list[dict] | None = None,
):
    started = time.time() - 60  # the clock starts a minute after the last sample update
    return FreshserviceApi(
        tickets,
        changes,
        KEY,
        churn=churn,
        clock=lambda: AS_OF.timestamp() + time.time() - started,
        groups=groups or [],
    )


def connector(url: str) -> FreshserviceSource:
    source = from_env({"FRESHSERVICE_URL": url, "FRESHSERVICE_API_KEY": KEY})
    source.client.policy = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2)
    return source


def loaded(con, stream: str) -> dict[str, dict]:
    rows = con.execute(f"SELECT record_key, record FROM raw.freshservice_{stream}").fetchall()
    return {key: json.loads(record) for key, record in rows}


def truth(api: FreshserviceApi) -> dict[str, dict[str, dict]]:
    return {
        "tickets": {str(t["id"]): api.render(t, stats=True) for t in api.tickets},
        "changes": {str(c["id"]): api.render(c) for c in api.changes},
    }


def test_faults_and_updates_while_paging_still_load_every_record_old_ones_too(warehouse):
    churn = Churn(every_pages=2, records=3, max_updates=18)
    api = account(sample_tickets(AS_OF, 700), sample_changes(AS_OF, 300), churn)
    faults = Faults(throttle_every=7, retry_after=0.01, error_every=5, drop_every=11)
    with serve(api, faults) as server, warehouse.connect() as con:
        source = connector(server.url)
        source.page_size = 25
        ingest(con, source)
        assert server.faults_injected > 15
        assert churn.updates == 18
        expected = truth(api)
        for stream in ("tickets", "changes"):
            assert loaded(con, stream) == expected[stream], stream
        # Most sample records are older than the API's default 30-day window.
        old = [t for t in api.tickets if t["created_at"] < AS_OF - timedelta(days=30)]
        assert len(old) > 400


def test_a_rerun_without_changes_reads_only_the_overlap_and_changes_nothing(warehouse):
    api = account(sample_tickets(AS_OF, 300), sample_changes(AS_OF, 100))
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        before = {stream: loaded(con, stream) for stream in ("tickets", "changes")}
        cursors = dict(
            con.execute(
                "SELECT stream, cursor_value FROM meta.cursors WHERE source = 'freshservice'"
            ).fetchall()
        )

        second = ingest(con, source)

        for stream, items in (("tickets", api.tickets), ("changes", api.changes)):
            since = datetime.fromisoformat(json.loads(cursors[stream])["updated_since"])
            recent = [i for i in items if i["updated_at"] >= since - timedelta(minutes=10)]
            assert second.streams[stream].received == len(recent) < len(items) / 10
            assert second.streams[stream].stored == 0
            assert loaded(con, stream) == before[stream]


def ticket(n: int, kind: str, created: str, **fields) -> dict:
    at = datetime.fromisoformat(created).replace(tzinfo=UTC)
    base = {
        "id": n,
        "subject": f"Ticket {n}",
        "type": kind,
        "status": 4,
        "priority": 4,
        "source": 2,
        "category": "Email",
        "group_id": 1001,
        "created_at": at,
        "updated_at": at + timedelta(hours=5),
        "due_by": at + timedelta(hours=4),
        "fr_due_by": at + timedelta(hours=1),
        "resolved_at": at + timedelta(hours=5),
        "closed_at": None,
        "first_responded_at": at + timedelta(minutes=20),
    }
    return base | fields


def test_staging_maps_codes_times_and_due_by_clocks(warehouse):
    tickets = [
        ticket(1, "Incident", "2025-05-01T08:00:00"),
        ticket(
            2, "Incident", "2025-05-02T08:00:00", status=3, priority=1, source=10, resolved_at=None
        ),
        ticket(
            3,
            "Service Request",
            "2025-05-03T08:00:00",
            status=5,
            source=9,
            resolved_at=datetime(2025, 5, 3, 11, 30, tzinfo=UTC),
            closed_at=datetime(2025, 5, 4, 11, 30, tzinfo=UTC),
        ),
    ]
    changes = [
        {
            "id": 9,
            "subject": "Patch",
            "status": 6,
            "change_type": 4,
            "risk": 2,
            "impact": 1,
            "created_at": datetime(2025, 5, 5, 8, tzinfo=UTC),
            "updated_at": datetime(2025, 5, 6, 8, tzinfo=UTC),
            "planned_start_date": datetime(2025, 5, 6, 1, tzinfo=UTC),
            "planned_end_date": datetime(2025, 5, 6, 3, tzinfo=UTC),
        }
    ]
    api = account(tickets, changes)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        for table in staged_tables("freshservice"):
            stage(con, "freshservice", table)
        incidents = con.execute(
            "SELECT incident_id, opened_at, resolved_at, priority, state, channel "
            "FROM core.incidents ORDER BY incident_id"
        ).fetchall()
        requests = con.execute(
            "SELECT request_id, fulfilled_at, closed_at, state, channel FROM core.requests"
        ).fetchall()
        change = con.execute(
            "SELECT change_id, type, risk, state, planned_start, closed_at FROM core.changes"
        ).fetchall()
        clocks = con.execute(
            "SELECT sla_record_id, stage, breached FROM core.sla_records "
            "WHERE task_id = 'freshservice:1' ORDER BY sla_name"
        ).fetchall()

    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    assert incidents == [
        # Urgent (4) is priority 1; Resolved (4); Portal (2) is the portal channel.
        ("freshservice:1", utc(2025, 5, 1, 8), utc(2025, 5, 1, 13), 1, "resolved", "portal"),
        # Low (1) is 4; Pending (3) is on hold; Slack (10) is chat.
        ("freshservice:2", utc(2025, 5, 2, 8), None, 4, "on_hold", "chat"),
    ]
    # Closed (5) was fulfilled when resolved, 3.5 hours after opening; Walkup (9) is walk_in.
    assert requests == [
        ("freshservice:3", utc(2025, 5, 3, 11, 30), utc(2025, 5, 4, 11, 30), "closed", "walk_in")
    ]
    # Emergency (4), Medium risk (2); closed (6) at its last update.
    assert change == [
        (
            "freshservice:9",
            "emergency",
            "moderate",
            "closed",
            utc(2025, 5, 6, 1),
            utc(2025, 5, 6, 8),
        )
    ]
    # Responded after 20 minutes of a 1-hour goal: met. Resolved after 5 hours of 4: breached.
    assert clocks == [
        ("freshservice:1:first_response", "completed", False),
        ("freshservice:1:resolution", "completed", True),
    ]


def test_the_resolution_clock_runs_while_the_ticket_is_reopened_and_stops_when_it_closes(warehouse):
    """A reopened ticket (Open, 2) keeps the resolved_at of its first resolution; a ticket closed
    (5) without one stopped its clock when it closed."""
    at = datetime(2025, 5, 1, 9, tzinfo=UTC)
    tickets = [
        ticket(6, "Incident", "2025-05-01T08:00:00", status=2),
        ticket(
            7,
            "Incident",
            "2025-05-01T09:00:00",
            status=5,
            resolved_at=None,
            closed_at=at + timedelta(hours=3),
        ),
    ]
    api = account(tickets, [])
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        stage(con, "freshservice", "sla_records")
        clocks = con.execute(
            "SELECT sla_record_id, stage, breached, end_time FROM core.sla_records "
            "WHERE sla_name = 'Resolution' ORDER BY sla_record_id"
        ).fetchall()
    assert clocks == [
        ("freshservice:6:resolution", "in_progress", None, None),
        # Closed after 3 hours of a 4-hour goal: met.
        ("freshservice:7:resolution", "completed", False, at + timedelta(hours=3)),
    ]


def test_a_reopened_ticket_keeps_no_closing_time_until_it_closes_again(warehouse):
    """A closed ticket reopened (Open, 2) or resolved again (Resolved, 4) keeps the closed_at of
    its earlier closing in its stats: it is not closed now, so core holds no closing time."""
    closed = datetime(2025, 5, 2, 9, tzinfo=UTC)
    earlier = {"resolved_at": closed - timedelta(hours=1), "closed_at": closed}
    tickets = [
        ticket(11, "Incident", "2025-05-01T08:00:00", status=2, **earlier),
        ticket(12, "Service Request", "2025-05-01T08:00:00", status=2, **earlier),
        ticket(
            13,
            "Service Request",
            "2025-05-01T08:00:00",
            status=4,
            resolved_at=datetime(2025, 5, 3, 9, tzinfo=UTC),
            closed_at=closed,
        ),
        ticket(14, "Service Request", "2025-05-01T08:00:00", status=5, **earlier),
    ]
    api = account(tickets, [])
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        for table in ("incidents", "requests"):
            stage(con, "freshservice", table)
        incidents = con.execute(
            "SELECT incident_id, state, resolved_at, closed_at FROM core.incidents"
        ).fetchall()
        requests = con.execute(
            "SELECT request_id, state, fulfilled_at, closed_at FROM core.requests "
            "ORDER BY request_id"
        ).fetchall()
    assert incidents == [("freshservice:11", "new", None, None)]
    assert requests == [
        ("freshservice:12", "new", None, None),
        # Resolved again on May 3rd: fulfilled then, not closed.
        ("freshservice:13", "closed", datetime(2025, 5, 3, 9, tzinfo=UTC), None),
        ("freshservice:14", "closed", closed - timedelta(hours=1), closed),
    ]


def test_bad_values_are_listed_in_data_quality_with_the_ticket_id(warehouse):
    tickets = [ticket(5, "Problem", "2025-05-01T08:00:00", status=12)]
    api = account(tickets, [])
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        result = stage(con, "freshservice", "incidents")
        problems = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality ORDER BY field"
        ).fetchall()
    assert result.quality_issues == 2
    assert problems == [
        ("5", "status", "unknown status code", "12"),
        ("5", "type", "unknown ticket type (not staged)", "Problem"),
    ]


def test_a_resolution_before_creation_is_no_met_sla_either(warehouse):
    # Resolved a day before it was created: due 4 hours after creation, so it "met" the due
    # time, but the resolution is impossible (left empty on the incident) and proves nothing.
    created = datetime(2025, 5, 2, 8, tzinfo=UTC)
    tickets = [
        ticket(1, "Incident", "2025-05-01T08:00:00"),
        ticket(2, "Incident", "2025-05-02T08:00:00", resolved_at=created - timedelta(days=1)),
    ]
    api = account(tickets, [])
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        for table in staged_tables("freshservice"):
            stage(con, "freshservice", table)
        clocks = con.execute(
            "SELECT task_number, stage, breached FROM core.sla_records "
            "WHERE sla_name = 'Resolution' ORDER BY task_number"
        ).fetchall()
        problems = con.execute(
            "SELECT record_key, field, problem FROM scorecard.data_quality"
        ).fetchall()
    # 1 was resolved 5 hours after creation, an hour after its due time.
    assert clocks == [("1", "completed", True), ("2", "completed", None)]
    assert problems == [
        ("2", "stats.resolved_at", "resolved before created (resolved_at left empty)")
    ]


def test_wrong_key_fails_clearly_without_the_secret():
    api = account([], [])
    with serve(api) as server:
        source = from_env({"FRESHSERVICE_URL": server.url, "FRESHSERVICE_API_KEY": "wr0ng-Key"})
        with pytest.raises(SourceError) as caught:
            list(source.read(source.streams()[0], None))
    assert "HTTP 401" in str(caught.value) and "not authorized" in str(caught.value)
    assert "wr0ng-Key" not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "FRESHSERVICE_URL is not set"),
        ({"FRESHSERVICE_URL": "https://acme.freshservice.com"}, "FRESHSERVICE_API_KEY is not set"),
        (
            {"FRESHSERVICE_URL": "http://acme.freshservice.com", "FRESHSERVICE_API_KEY": "k"},
            "refusing plain-http",
        ),
    ],
)
def test_from_env_names_what_is_missing_or_wrong(env, problem):
    with pytest.raises(SourceError, match=problem):
        from_env(env)


def test_records_deleted_at_the_source_go_at_the_weekly_whole_read(warehouse):
    """Freshservice lists only what exists: a deleted ticket is seen missing by a whole read,
    which runs when the last one is a week old (and never when the interval is zero), and is
    removed when the whole read before missed it too."""
    api = account(sample_tickets(AS_OF, 60), sample_changes(AS_OF, 20))
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        gone = api.tickets.pop(0)
        ingest(con, connector(server.url))
        after_a_night = set(loaded(con, "tickets"))
        con.execute("UPDATE meta.full_refreshes SET finished_at = finished_at - INTERVAL 8 DAY")
        ingest(con, connector(server.url), refresh_every=timedelta(0))
        switched_off = set(loaded(con, "tickets"))
        missed_once = ingest(con, connector(server.url))
        con.execute("UPDATE meta.full_refreshes SET finished_at = finished_at - INTERVAL 8 DAY")
        refreshed = ingest(con, connector(server.url))
        left = set(loaded(con, "tickets"))
        again = ingest(con, connector(server.url))
    assert str(gone["id"]) in after_a_night & switched_off
    assert missed_once.streams["tickets"].removed == 0
    assert left == {str(t["id"]) for t in api.tickets}
    assert (refreshed.streams["tickets"].removed, refreshed.streams["changes"].removed) == (1, 0)
    # The whole read is stamped: the next night reads only the overlap again.
    assert again.streams["tickets"].received < len(api.tickets) / 10


class SpamDeletedWhilePaging(FreshserviceApi):
    """Deletes ticket `doomed` when page 2 of the tickets is asked for, as an agent removing
    spam: every later ticket moves up a place on the live list."""

    doomed: int | None = None

    def _list(self, call, name, items):
        if name == "tickets" and call.arg("page") == "2" and self.doomed is not None:
            items[:] = [t for t in items if t["id"] != self.doomed]
            self.doomed = None
        return super()._list(call, name, items)


def test_a_ticket_deleted_while_paging_leaves_no_later_ticket_unread(warehouse):
    """Ticket 25, first on page 1, is deleted before page 2 is served: ticket 15, first on page 2
    until then, moves to page 1 unread. It was updated an hour before the read, long before the
    catch-up pass's window, so only reading the window again finds it."""
    shift = [0.0]
    started = time.time()
    tickets = [
        ticket(n, "Incident", f"2025-05-{n:02d}T09:00:00", status=2, resolved_at=None)
        for n in range(1, 26)
    ]
    api = SpamDeletedWhilePaging(
        tickets, [], KEY, clock=lambda: AS_OF.timestamp() + shift[0] + time.time() - started
    )
    worked = AS_OF + timedelta(hours=1)
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        source.page_size = 10  # newest created first: 25..16, 15..6, 5..1
        ingest(con, source)
        for n, each in enumerate(tickets, start=1):
            each.update(status=4, resolved_at=worked, updated_at=worked + timedelta(seconds=n))
        doomed = api.render(tickets[24], stats=True)
        api.doomed = 25
        shift[0] = 7200 - (time.time() - started)  # the next run starts at 14:00
        second = ingest(con, source)
        stored = loaded(con, "tickets")
    assert stored["15"]["status"] == 4
    assert stored["15"]["updated_at"] == "2025-06-01T13:00:15Z"
    assert stored["15"]["stats"]["resolved_at"] == "2025-06-01T13:00:00Z"
    # Ticket 25 stays until the weekly whole read misses it.
    assert stored == truth(api)["tickets"] | {"25": doomed}
    # 24 read (not 15); 24 again, 15 among them; 24 again, nothing new; then an empty pass.
    assert second.streams["tickets"].received == 72
    assert second.streams["tickets"].cursor == '{"updated_since": "2025-06-01T14:00:00+00:00"}'


def group(n: int, name: str, updated: str = "2025-01-10T09:00:00") -> dict:
    at = datetime.fromisoformat(updated).replace(tzinfo=UTC)
    return {
        "id": n,
        "name": name,
        "description": None,
        "created_at": datetime(2024, 1, 2, tzinfo=UTC),
        "updated_at": at,
    }


def groups_staged(con) -> list[tuple]:
    for table in staged_tables("freshservice"):
        stage(con, "freshservice", table)
    return con.execute(
        "SELECT incident_id AS id, assignment_group FROM core.incidents UNION ALL "
        "SELECT request_id, assignment_group FROM core.requests UNION ALL "
        "SELECT change_id, assignment_group FROM core.changes ORDER BY 1"
    ).fetchall()


def change(n: int, group_id: int | None) -> dict:
    """A closed standard change of the given group, made on 5 May 2025."""
    made = datetime(2025, 5, 5, 8, tzinfo=UTC)
    return {
        "id": n,
        "subject": f"Change {n}",
        "status": 6,
        "change_type": 2,
        "risk": 1,
        "group_id": group_id,
        "created_at": made,
        "updated_at": made + timedelta(days=1),
        "planned_start_date": made + timedelta(hours=17),
        "planned_end_date": made + timedelta(hours=19),
    }


def test_tickets_name_their_group_by_its_name_and_an_unknown_group_keeps_its_id(warehouse):
    """A ticket or change carries only its group_id: /api/v2/groups names it, by its words
    alone, so a team's changes and tickets count under one assignment group."""
    tickets = [
        ticket(1, "Incident", "2025-05-01T08:00:00", group_id=1001),
        ticket(2, "Service Request", "2025-05-02T08:00:00", group_id=1002),
        ticket(3, "Incident", "2025-05-03T08:00:00", group_id=1003),  # no such group (deleted)
        ticket(4, "Incident", "2025-05-04T08:00:00", group_id=None),
    ]
    changes = [change(7, 1002), change(8, 1003)]
    groups = [group(1001, "  Service\tDesk "), group(1002, "Network Ops")]
    api = account(tickets, changes, groups=groups)
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        source.page_size = 1  # the groups page like the tickets
        ingest(con, source)
        rows = groups_staged(con)
        stored = sorted(loaded(con, "groups"))
    assert stored == ["1001", "1002"]
    assert rows == [
        ("freshservice:1", "Service Desk"),
        ("freshservice:2", "Network Ops"),
        ("freshservice:3", "1003"),
        ("freshservice:4", None),
        ("freshservice:7", "Network Ops"),
        ("freshservice:8", "1003"),
    ]


def test_a_renamed_group_renames_tickets_read_before_and_a_deleted_group_leaves(warehouse):
    """The groups are read whole each run: a rename names the tickets the incremental read does
    not read again, and a group gone from the list leaves raw, its tickets keeping its id."""
    tickets = [
        ticket(1, "Incident", "2025-05-01T08:00:00", group_id=1001),
        ticket(2, "Service Request", "2025-05-02T08:00:00", group_id=1002),
    ]
    api = account(tickets, [], groups=[group(1001, "Desk"), group(1002, "Network Ops")])
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        before = groups_staged(con)
        api.groups[0] = group(1001, "Service Desk", updated="2025-05-20T10:00:00")
        del api.groups[1]
        second = ingest(con, connector(server.url))
        after = groups_staged(con)
        stored = sorted(loaded(con, "groups"))
    assert before == [("freshservice:1", "Desk"), ("freshservice:2", "Network Ops")]
    assert second.streams["tickets"].received == 0  # the tickets were not read again
    assert second.streams["groups"].removed == 1
    assert stored == ["1001"]
    assert after == [("freshservice:1", "Service Desk"), ("freshservice:2", "1002")]


def test_groups_the_keys_role_cannot_read_leave_ids_and_fail_nothing(warehouse, caplog):
    """An agent role without access to groups answers 403: the tickets still load, with the
    group names read before kept, else the ids; an empty list removes no stored group."""
    tickets = [
        ticket(1, "Incident", "2025-05-01T08:00:00", group_id=1001),
        ticket(2, "Incident", "2025-05-02T08:00:00", group_id=1002),
    ]
    refused = account(tickets, [], groups=[group(1001, "Service Desk")])
    refused.groups_refused = True
    with serve(refused) as server, warehouse.connect() as con:
        first = ingest(con, connector(server.url))
        unnamed = groups_staged(con)
        refused.groups_refused = False
        ingest(con, connector(server.url))
        refused.groups_refused = True
        ingest(con, connector(server.url))
        kept = groups_staged(con)
        refused.groups_refused = False
        refused.groups = []
        emptied = ingest(con, connector(server.url))
        still = groups_staged(con)
    assert first.streams["tickets"].received == 2
    assert unnamed == [("freshservice:1", "1001"), ("freshservice:2", "1002")]
    assert "groups" in caplog.text and "403" in caplog.text
    assert KEY not in caplog.text
    assert kept == [("freshservice:1", "Service Desk"), ("freshservice:2", "1002")]
    assert emptied.streams["groups"].removed == 0
    assert still == kept
