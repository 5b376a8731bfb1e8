"""The Jira Service Management connector against its emulator over real HTTP, into DuckDB."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.emulators.jira import Churn, JiraApi, serve
from connectors.emulators.jira_data import sample_issues
from connectors.emulators.server import Faults
from connectors.http import RetryPolicy, SourceError
from connectors.jira import ISSUE_FIELDS, JiraSource, from_env, parse_issue_types
from transforms.staging import prepare, stage, staged_tables
from warehouse.ingest import ingest

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EMAIL, TOKEN = "scorecard@example.com", "jira-T0ken-secret"
KINDS = {"incidents": "Incident", "requests": "Service Request", "changes": "Change"}


def site(issues: list[dict], zone: str = "UTC", churn: Churn | None = None) -> JiraApi:
    """A site whose clock starts a minute after AS_OF (the last update in the sample issues) and
    runs on, so each pass begins later than the last."""
    started = time.time() - 60
    return JiraApi(
        issues,
        EMAIL,
        TOKEN,
        time_zone=zone,
        churn=churn,
        max_page=37,  # shorter than the 100 asked for, as Jira may answer
        clock=lambda: AS_OF.timestamp() + time.time() - started,
    )


def connector(url: str) -> JiraSource:
    source = from_env(
        {
            "JIRA_BASE_URL": url,
            "JIRA_EMAIL": EMAIL,
            "JIRA_API_TOKEN": TOKEN,
            "JIRA_JQL": "project = ITSM",
        }
    )
    source.client.policy = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2)
    return source


def loaded(con, stream: str) -> dict[str, dict]:
    rows = con.execute(f"SELECT record_key, record FROM raw.jira_{stream}").fetchall()
    return {key: json.loads(record) for key, record in rows}


def truth(api: JiraApi, url: str, stream: str) -> dict[str, dict]:
    """What the site holds now, rendered as search returns it with the connector's fields."""
    return {
        issue["id"]: api.render(issue, ISSUE_FIELDS, url)
        for issue in api.issues
        if issue["type"] == KINDS[stream]
    }


def sla_truth(api: JiraApi) -> dict[str, list]:
    answers = {}
    for issue in api.issues:
        if issue["type"] in KINDS.values():
            values = [api._sla_value(n, sla) for n, sla in enumerate(issue["slas"], start=1)]
            answers[issue["id"]] = values
    return answers


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Bogota"])  # +09:00 and -05:00
def test_faults_and_updates_while_paging_still_load_exactly_the_sites_issues(warehouse, zone):
    churn = Churn(every_pages=1, issues=3, max_updates=12)
    api = site(sample_issues(AS_OF, 160), zone, churn)
    faults = Faults(throttle_every=13, retry_after=0.01, error_every=7, drop_every=11)
    with serve(api, faults) as server, warehouse.connect() as con:
        result = ingest(con, connector(server.url))
        assert server.faults_injected > 15
        assert churn.updates == 12
        for stream in KINDS:
            assert loaded(con, stream) == truth(api, server.url, stream), stream
            rows = con.execute(f"SELECT count(*) FROM raw.jira_{stream}").fetchall()[0][0]
            assert rows == len(truth(api, server.url, stream))
            assert result.streams[stream].received >= rows
        stored_slas = {key: record["values"] for key, record in loaded(con, "sla").items()}
        assert stored_slas == sla_truth(api)
        # The task type is the only thing the SLA rows need that does not come with them.
        assert {r["issuetype"] for r in loaded(con, "sla").values()} == set(KINDS.values())


def test_a_rerun_without_changes_reads_only_the_overlap_and_changes_nothing(warehouse):
    api = site(sample_issues(AS_OF, 200), "Asia/Tokyo")
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source, run_id="first")
        before = {stream: loaded(con, stream) for stream in (*KINDS, "sla")}
        cursor = json.loads(
            con.execute(
                "SELECT cursor_value FROM meta.cursors WHERE stream = 'incidents'"
            ).fetchall()[0][0]
        )["updated_since"]

        second = ingest(con, source, run_id="second")

        # The window starts at the cursor less 10 minutes, floored to the minute; every issue
        # in the sample was last updated at or before AS_OF, which the first run's cursor passed.
        floor = (datetime.fromisoformat(cursor) - timedelta(minutes=10)).replace(second=0)
        for stream, kind in KINDS.items():
            recent = [i for i in api.issues if i["type"] == kind and i["updated"] >= floor]
            assert second.streams[stream].received == len(recent) < len(before[stream]) / 10
            assert second.streams[stream].stored == 0
        assert {stream: loaded(con, stream) for stream in (*KINDS, "sla")} == before


@pytest.mark.parametrize(
    ("zone", "window"),
    [("Asia/Tokyo", "2025-06-01 20:50"), ("America/Bogota", "2025-06-01 06:50")],
)
def test_the_updated_window_is_written_in_the_accounts_zone(warehouse, zone, window):
    """Only the issue updated after the window's start is read: written in UTC, the window would
    start 9 hours too early in Tokyo (reading more) and 5 hours too late in Bogota (missing it)."""
    issues = sample_issues(AS_OF, 60)
    api = site(issues, zone)
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        moved = next(i for i in api.issues if i["type"] == "Incident")
        moved.update(updated=AS_OF + timedelta(minutes=2), priority="Lowest")
        # Read from 12:01 UTC (the cursor less the overlap): the moved issue, nothing older.
        cursor = '{"updated_since": "2025-06-01T12:11:00+00:00"}'
        assert source.query(("Incident",), datetime(2025, 6, 1, 11, 50, tzinfo=UTC)) == (
            f'(project = ITSM) AND issuetype in ("Incident") AND updated >= "{window}" '
            "ORDER BY updated DESC, key DESC"
        )
        con.execute("UPDATE meta.cursors SET cursor_value = ? WHERE source = 'jira'", [cursor])
        again = ingest(con, source)
        assert again.streams["incidents"].received == 1
        stored = loaded(con, "incidents")[moved["id"]]["fields"]
        assert stored["priority"]["name"] == "Lowest"


def issue(n: int, kind: str, created: str, **fields) -> dict:
    """A hand-made issue; times are UTC text, rendered by the site in its own zone."""
    at = datetime.fromisoformat(created).replace(tzinfo=UTC)
    base = {
        "id": str(10000 + n),
        "key": f"ITSM-{n}",
        "project": "ITSM",
        "type": kind,
        "created": at,
        "updated": at + timedelta(hours=6),
        "resolved": None,
        "priority": "Medium",
        "status": "Open",
        "category": "new",
        "resolution": None,
        "components": ["Email"],
        "slas": [],
    }
    return base | fields


def test_staging_maps_types_states_priorities_outcomes_and_sla_cycles(warehouse):
    resolved = datetime(2025, 3, 1, 14, 30, tzinfo=UTC)
    issues = [
        issue(
            1,
            "Incident",
            "2025-03-01T10:00:00",
            priority="Highest",
            status="Resolved",
            category="done",
            resolution="Done",
            resolved=resolved,
            slas=[
                {
                    "name": "Time to resolution",
                    "completed": [
                        {
                            "start": datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
                            "stop": resolved,
                            "goal": timedelta(hours=4),
                            "breached": True,
                        }
                    ],
                    "ongoing": None,
                }
            ],
        ),
        issue(
            2,
            "Incident",
            "2025-03-02T23:30:00",
            priority="Low",
            status="Canceled",
            category="done",
            resolution="Won't Do",
            resolved=datetime(2025, 3, 3, 1, 0, tzinfo=UTC),
        ),
        issue(
            3,
            "Incident",
            "2025-03-03T08:00:00",
            status="Waiting for customer",
            category="indeterminate",
        ),
        issue(
            4,
            "Change",
            "2025-03-04T09:00:00",
            status="Completed",
            category="done",
            resolution="Backed out",
            resolved=datetime(2025, 3, 5, 9, 0, tzinfo=UTC),
        ),
        issue(
            5,
            "Service Request",
            "2025-03-05T09:00:00",
            status="Resolved",
            category="done",
            resolution="Done",
            resolved=datetime(2025, 3, 5, 17, 15, tzinfo=UTC),
        ),
        issue(6, "Task", "2025-03-06T09:00:00"),
    ]
    api = site(issues, "America/Bogota")
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        for table in staged_tables("jira"):
            stage(con, "jira", table)
        incidents = con.execute(
            "SELECT incident_id, number, opened_at, resolved_at, closed_at, priority, state, "
            "service, close_code FROM core.incidents WHERE source = 'jira' ORDER BY number"
        ).fetchall()
        change = con.execute(
            "SELECT change_id, state, outcome, backed_out, closed_at FROM core.changes"
        ).fetchall()
        request = con.execute(
            "SELECT request_id, state, opened_at, fulfilled_at FROM core.requests"
        ).fetchall()
        cycles = con.execute(
            "SELECT task_id, task_type, sla_name, stage, breached, start_time, end_time, "
            "breach_time, priority FROM core.sla_records"
        ).fetchall()

    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    # Rendered at -05:00 ('2025-03-01T05:00:00.000-0500'), read back as 10:00 UTC.
    assert incidents == [
        # Highest -> 1; Resolved -> resolved, so resolved_at is set and closed_at is not.
        (
            "jira:10001",
            "ITSM-1",
            utc(2025, 3, 1, 10),
            resolved,
            None,
            1,
            "resolved",
            "Email",
            "Done",
        ),
        # Won't Do declines the work: canceled, never resolved, closed when it was declined.
        (
            "jira:10002",
            "ITSM-2",
            utc(2025, 3, 2, 23, 30),
            None,
            utc(2025, 3, 3, 1),
            4,
            "canceled",
            "Email",
            "Won't Do",
        ),
        ("jira:10003", "ITSM-3", utc(2025, 3, 3, 8), None, None, 3, "on_hold", "Email", None),
    ]
    # Backed out is a failure, and says so in backed_out.
    assert change == [("jira:10004", "closed", "unsuccessful", True, utc(2025, 3, 5, 9))]
    # 09:00 -> 17:15 UTC: fulfilled 8.25 hours after it was opened.
    assert request == [("jira:10005", "closed", utc(2025, 3, 5, 9), utc(2025, 3, 5, 17, 15))]
    # The 4-hour goal from 10:00 was due at 14:00; stopped at 14:30, so breached.
    assert cycles == [
        (
            "jira:10001",
            "incident",
            "Time to resolution",
            "completed",
            True,
            utc(2025, 3, 1, 10),
            resolved,
            utc(2025, 3, 1, 14),
            1,
        )
    ]


def test_bad_values_are_listed_in_data_quality_with_the_issue_key(warehouse):
    issues = [
        issue(7, "Incident", "2025-03-01T10:00:00", priority="Urgent!!"),
        issue(8, "Incident", "2025-03-02T10:00:00", priority=None),  # none set: not "unknown"
    ]
    api = site(issues)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        con.execute(
            "UPDATE raw_versions.jira_incidents SET record = json_merge_patch(record, "
            '\'{"fields": {"created": "01/03/2025 10:00"}}\')'
        )
        result = stage(con, "jira", "incidents")
        problems = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'jira' ORDER BY field, record_key"
        ).fetchall()
        opened = con.execute(
            "SELECT opened_at, priority FROM core.incidents ORDER BY number"
        ).fetchall()
    assert result.quality_issues == 4
    assert problems == [
        ("ITSM-7", "created", "unparseable date", "01/03/2025 10:00"),
        ("ITSM-8", "created", "unparseable date", "01/03/2025 10:00"),
        ("ITSM-7", "priority", "unknown priority", "Urgent!!"),
        ("ITSM-8", "priority", "no priority", None),
    ]
    assert opened == [(None, None), (None, None)]


def test_sla_values_of_the_wrong_type_are_listed_and_the_other_cycles_still_stage(warehouse):
    def resolution_sla(day: int) -> dict:
        start = datetime(2025, 3, day, 10, 0, tzinfo=UTC)
        return {
            "name": "Time to resolution",
            "completed": [
                {
                    "start": start,
                    "stop": start + timedelta(hours=2),
                    "goal": timedelta(hours=4),
                    "breached": False,
                }
            ],
            "ongoing": {
                "start": start + timedelta(hours=3),
                "goal": timedelta(hours=4),
                "breached": False,
                "paused": False,
            },
        }

    issues = [
        issue(n, "Incident", f"2025-03-0{n}T10:00:00", slas=[resolution_sla(n)]) for n in (1, 2, 3)
    ]
    api = site(issues)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        patches = {
            # a stop time in nanoseconds: no timestamp holds it; and a paused flag that is text
            "ITSM-1": '{"values": [{"completedCycles": [{"breached": false, "startTime": '
            '{"epochMillis": 1740823200000}, "stopTime": {"epochMillis": 1740830400000000000}}],'
            ' "ongoingCycle": {"paused": "maybe", "startTime": {"epochMillis": 1740834000000}}}]}',
            # a breached flag that is neither true nor false
            "ITSM-2": '{"values": [{"completedCycles": [{"breached": "unknown", "startTime": '
            '{"epochMillis": 1740909600000}, "stopTime": {"epochMillis": 1740916800000}}]}]}',
        }
        for key, patch in patches.items():
            value = json.loads(patch)
            for sla in value["values"]:
                sla |= {"id": "1", "name": "Time to resolution"}
            con.execute(
                "UPDATE raw_versions.jira_sla SET record = json_merge_patch(record, ?) "
                "WHERE record ->> '$.key' = ?",
                [json.dumps(value), key],
            )
        # An issue whose components are an object rather than a list names no service.
        con.execute(
            "UPDATE raw_versions.jira_incidents SET record = json_merge_patch(record, "
            '\'{"fields": {"components": {"id": "1", "name": "Email"}}}\') '
            "WHERE record ->> '$.key' = 'ITSM-3'"
        )
        for table in staged_tables("jira"):
            stage(con, "jira", table)
        cycles = con.execute(
            "SELECT task_number, stage, breached, end_time FROM core.sla_records "
            "ORDER BY task_number, start_time"
        ).fetchall()
        services = con.execute("SELECT number, service FROM core.incidents ORDER BY 1").fetchall()
        problems = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'jira' ORDER BY record_key, field"
        ).fetchall()

    def utc(day: int, hour: int) -> datetime:
        return datetime(2025, 3, day, hour, tzinfo=UTC)

    assert cycles == [
        ("ITSM-1", "completed", False, None),
        ("ITSM-1", "in_progress", None, None),
        ("ITSM-2", "completed", None, utc(2, 12)),
        ("ITSM-3", "completed", False, utc(3, 12)),
        ("ITSM-3", "in_progress", False, None),
    ]
    assert services == [("ITSM-1", "Email"), ("ITSM-2", "Email"), ("ITSM-3", None)]
    assert problems == [
        (
            "ITSM-1 / Time to resolution",
            "stopTime",
            "unreadable epochMillis",
            "1740830400000000000",
        ),
        (
            "ITSM-2 / Time to resolution",
            "breached",
            "breached is not true or false (cycle not counted)",
            "unknown",
        ),
    ]


@pytest.mark.parametrize(
    ("kind", "table"), [("Incident", "incidents"), ("Service Request", "requests")]
)
def test_a_closed_issue_resolved_before_it_was_created_keeps_no_end_time(warehouse, kind, table):
    created = datetime(2025, 3, 1, 10, tzinfo=UTC)
    closed = issue(
        8,
        kind,
        "2025-03-01T10:00:00",
        status="Closed",
        category="done",
        resolution="Done",
        resolved=created - timedelta(hours=1),
    )
    api = site([closed])
    end = "resolved_at" if table == "incidents" else "fulfilled_at"
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        stage(con, "jira", table)
        times = con.execute(f"SELECT opened_at, {end}, closed_at FROM core.{table}").fetchall()
        problems = con.execute(
            "SELECT record_key, field, problem FROM scorecard.data_quality WHERE source = 'jira'"
        ).fetchall()
    assert times == [(created, None, None)]
    assert problems == [
        (
            "ITSM-8",
            "resolutiondate",
            f"resolved before created ({end} and closed_at left empty)",
        )
    ]


def test_a_done_issue_without_a_resolution_ends_when_it_entered_the_done_category(warehouse):
    """A workflow can reach a done status without setting a resolution, leaving resolutiondate
    null: the issue ended when it entered the done category, incidents, requests and changes
    alike. Entering any other category ends nothing."""

    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    def done(n: int, kind: str, created: str, status: str, entered: datetime) -> dict:
        return issue(n, kind, created, status=status, category="done", category_changed=entered)

    issues = [
        done(1, "Incident", "2025-03-01T10:00:00", "Done", utc(2025, 3, 1, 13, 30)),
        done(2, "Service Request", "2025-03-02T09:00:00", "Resolved", utc(2025, 3, 2, 17)),
        done(3, "Change", "2025-03-03T08:00:00", "Completed", utc(2025, 3, 4, 8)),
        issue(
            4,
            "Incident",
            "2025-03-04T08:00:00",
            status="In Progress",
            category="indeterminate",
            category_changed=utc(2025, 3, 4, 9),
        ),
    ]
    api = site(issues, "Asia/Tokyo")
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        for table in staged_tables("jira"):
            stage(con, "jira", table)
        entered = con.execute(
            "SELECT record ->> '$.fields.resolutiondate', "
            "record ->> '$.fields.statuscategorychangedate' FROM raw.jira_incidents "
            "WHERE record_key = '10001'"
        ).fetchall()
        incidents = con.execute(
            "SELECT number, state, resolved_at, closed_at FROM core.incidents ORDER BY number"
        ).fetchall()
        requests_ = con.execute(
            "SELECT number, state, fulfilled_at, closed_at FROM core.requests"
        ).fetchall()
        changes = con.execute(
            "SELECT number, state, outcome, closed_at FROM core.changes"
        ).fetchall()
        problems = con.execute(
            "SELECT record_key, table_name, field, problem FROM scorecard.data_quality "
            "WHERE source = 'jira'"
        ).fetchall()
    # 13:30 UTC in the account's zone, Tokyo (+09:00).
    assert entered == [(None, "2025-03-01T22:30:00.000+0900")]
    assert incidents == [
        ("ITSM-1", "resolved", utc(2025, 3, 1, 13, 30), None),
        ("ITSM-4", "in_progress", None, None),
    ]
    # Fulfilled and closed at 17:00, 8 hours after it was opened.
    assert requests_ == [("ITSM-2", "closed", utc(2025, 3, 2, 17), utc(2025, 3, 2, 17))]
    # Closed a day after it was opened; with no resolution its outcome is unknown, as it was.
    assert changes == [("ITSM-3", "closed", None, utc(2025, 3, 4, 8))]
    assert problems == [
        ("ITSM-3", "changes", "resolution", "done without a resolution that says how it went")
    ]


def test_wrong_token_fails_clearly_without_the_secret():
    api = site(sample_issues(AS_OF, 5))
    with serve(api) as server:
        source = connector(server.url)
        source.client.auth = source.client.session.auth = (EMAIL, "wrong-Secret-9")
        with pytest.raises(SourceError) as caught:
            list(source.read(source.streams()[0], None))
    message = str(caught.value)
    assert "HTTP 401" in message and "not authenticated" in message
    assert "wrong-Secret-9" not in message and TOKEN not in message


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "JIRA_BASE_URL is not set"),
        ({"JIRA_BASE_URL": "https://acme.atlassian.net"}, "JIRA_EMAIL is not set"),
        (
            {"JIRA_BASE_URL": "https://acme.atlassian.net", "JIRA_EMAIL": "a@b.c"},
            "JIRA_API_TOKEN is not set",
        ),
        (
            {"JIRA_BASE_URL": "https://a.atlassian.net", "JIRA_EMAIL": "a", "JIRA_API_TOKEN": "t"},
            "JIRA_JQL is not set",
        ),
        (
            {
                "JIRA_BASE_URL": "http://acme.atlassian.net",
                "JIRA_EMAIL": "a",
                "JIRA_API_TOKEN": "t",
                "JIRA_JQL": "project = ITSM",
            },
            "refusing plain-http",
        ),
        (
            {
                "JIRA_BASE_URL": "https://acme.atlassian.net",
                "JIRA_EMAIL": "a",
                "JIRA_API_TOKEN": "t",
                "JIRA_JQL": "project = ITSM ORDER BY created",
            },
            "must not contain ORDER BY",
        ),
    ],
)
def test_from_env_names_what_is_missing_or_wrong(env, problem):
    with pytest.raises(SourceError, match=problem):
        from_env(env)


def test_issue_types_are_configurable_and_an_empty_kind_is_not_read():
    types = parse_issue_types("incident=Incident, Major Incident; change=")
    assert types == {
        "incident": ("Incident", "Major Incident"),
        "request": ("Service Request",),
        "change": (),
    }
    source = JiraSource("https://a.atlassian.net", None, "project = X", types)  # type: ignore[arg-type]
    assert [s.name for s in source.streams()] == ["sla", "incidents", "requests"]
    with pytest.raises(SourceError, match="JIRA_ISSUE_TYPES part 'problem=Problem'"):
        parse_issue_types("problem=Problem")


def test_an_issues_slas_are_read_over_all_their_pages(warehouse, monkeypatch):
    monkeypatch.setattr("connectors.jira.SLA_PAGE_SIZE", 1)  # one SLA a page: every issue pages
    api = site(sample_issues(AS_OF, 12))
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        stored = {key: record["values"] for key, record in loaded(con, "sla").items()}
    assert max(len(values) for values in sla_truth(api).values()) >= 2
    assert stored == sla_truth(api)


def test_an_issue_that_is_no_service_desk_request_loads_without_slas(warehouse, caplog):
    """Created on the Jira side (no request type), its SLA read answers 404: the rest loads."""
    issues = [
        issue(n, kind, "2025-05-30T10:00:00")
        for n, kind in enumerate(["Incident", "Service Request"] * 3, start=1)
    ]
    issues[0]["slas"] = [{"name": "Time to first response", "completed": [], "ongoing": None}]
    del issues[2]["slas"]  # ITSM-3
    api = site(issues)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        incidents = {record["key"] for record in loaded(con, "incidents").values()}
        slas = {record["key"]: record["values"] for record in loaded(con, "sla").values()}
    assert incidents == {"ITSM-1", "ITSM-3", "ITSM-5"}
    assert slas == {"ITSM-3": []} | {
        issue["key"]: values
        for issue in issues
        if "slas" in issue
        for values in [[api._sla_value(n, s) for n, s in enumerate(issue["slas"], start=1)]]
    }
    assert len(slas["ITSM-1"]) == 1
    assert "jira: 1 issues are not service-desk requests" in caplog.text


def test_an_issue_moved_to_another_kind_counts_once_as_its_new_kind(warehouse):
    """A service request made an incident stays in the raw table of requests, where nothing
    deletes it: it must count as an incident only, and its SLA cycle once."""
    issues = [
        issue(
            1,
            "Service Request",
            "2025-05-30T10:00:00",
            status="In Progress",
            category="indeterminate",
            updated=datetime(2025, 5, 30, 11, tzinfo=UTC),
        ),
        issue(2, "Incident", "2025-05-30T10:00:00"),
    ]
    api = site(issues)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        now = datetime.fromtimestamp(api.clock(), UTC)
        cycle = {"start": issues[0]["created"], "stop": now, "goal": timedelta(hours=4)}
        issues[0].update(
            type="Incident",
            status="Resolved",
            category="done",
            resolution="Done",
            resolved=now,
            updated=now,
            slas=[{"name": "Time to resolution", "completed": [cycle | {"breached": True}]}],
        )
        ingest(con, connector(server.url))
        for table in staged_tables("jira"):
            stage(con, "jira", table)
        incidents = con.execute("SELECT number, state FROM core.incidents ORDER BY 1").fetchall()
        requests_ = con.execute("SELECT number FROM core.requests").fetchall()
        slas = con.execute(
            "SELECT task_number, task_type, breached FROM core.sla_records"
        ).fetchall()
    assert incidents == [("ITSM-1", "resolved"), ("ITSM-2", "new")]
    assert requests_ == []
    assert slas == [("ITSM-1", "incident", True)]


class IncidentRetypedWhilePaging(JiraApi):
    """Makes issue `doomed` a Service Request when page 2 of the incidents updated since a
    moment is asked for: it leaves that search and every later issue moves up a place."""

    doomed: dict | None = None

    def _search(self, call, body):
        jql = call.arg("jql") or ""
        paging = call.arg("nextPageToken") and 'issuetype in ("Incident")' in jql
        if self.doomed is not None and paging and "updated >=" in jql:
            now = datetime.fromtimestamp(self.clock(), UTC)
            self.doomed.update(type="Service Request", updated=now)
            self.doomed = None
        return super()._search(call, body)


def test_an_issue_leaving_the_search_while_paging_leaves_no_later_issue_unread(warehouse):
    """ITSM-25, first on page 1 (newest updated first), becomes a Service Request before page 2
    is served: ITSM-15, first on page 2 until then, moves to page 1 unread. It was updated an
    hour before the read, long before the catch-up pass's window, so only reading the window
    again finds it."""
    shift = [0.0]
    started = time.time()
    issues = [issue(n, "Incident", f"2025-05-{n:02d}T09:00:00") for n in range(1, 26)]
    api = IncidentRetypedWhilePaging(
        issues, EMAIL, TOKEN, clock=lambda: AS_OF.timestamp() + shift[0] + time.time() - started
    )
    worked = AS_OF + timedelta(hours=1)
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        source.page_size = 10  # newest updated first: ITSM-25..16, 15..6, 5..1
        ingest(con, source)
        for n, each in enumerate(issues, start=1):
            each.update(priority="Highest", updated=worked + timedelta(seconds=n))
        doomed = api.render(issues[24], ISSUE_FIELDS, server.url)
        api.doomed = issues[24]
        shift[0] = 7200 - (time.time() - started)  # the next run starts at 14:00
        second = ingest(con, source)
        stored = loaded(con, "incidents")
        truth_now = truth(api, server.url, "incidents")
    assert stored["10015"]["fields"]["priority"]["name"] == "Highest"
    assert stored["10015"]["fields"]["updated"] == "2025-06-01T13:00:15.000+0000"
    # ITSM-25 stays an incident in raw until the weekly whole read misses it.
    assert stored == truth_now | {"10025": doomed}
    # 24 read (not ITSM-15); 24 again, ITSM-15 among them; 24 again, nothing new; then an
    # empty pass.
    assert second.streams["incidents"].received == 72
    cursor = json.loads(second.streams["incidents"].cursor)
    assert cursor["updated_since"] == "2025-06-01T14:00:00+00:00"


def test_an_issue_deleted_at_the_source_goes_with_its_slas_at_the_weekly_whole_read(warehouse):
    issues = [issue(n, "Incident", "2025-05-30T10:00:00") for n in range(1, 4)]
    done = datetime(2025, 5, 30, 12, tzinfo=UTC)
    cycle = {"start": issues[0]["created"], "stop": done, "goal": timedelta(hours=4)}
    for each in issues:
        each["slas"] = [{"name": "Time to resolution", "completed": [cycle | {"breached": False}]}]
    api = site(issues)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        api.issues.remove(issues[1])  # ITSM-2 deleted
        for _ in range(2):  # missed by two weekly whole reads in a row
            con.execute("UPDATE meta.full_refreshes SET finished_at = finished_at - INTERVAL 8 DAY")
            refreshed = ingest(con, connector(server.url))
        for table in staged_tables("jira"):
            stage(con, "jira", table)
        incidents = con.execute("SELECT number FROM core.incidents ORDER BY 1").fetchall()
        slas = con.execute("SELECT task_number FROM core.sla_records ORDER BY 1").fetchall()
    assert refreshed.streams["incidents"].removed == 1
    assert incidents == slas == [("ITSM-1",), ("ITSM-3",)]


def test_an_issue_type_configured_later_loads_its_older_issues_and_slas_at_once(warehouse):
    """JIRA_ISSUE_TYPES gains "Major Incident" (or JIRA_JQL a project) after months of loads:
    those issues and their SLA cycles, last updated before the stored cursors, are read whole
    the next night, not left out (the SLA cycles for good) until each issue is updated again."""
    issues = sample_issues(AS_OF, 120)
    major = [i for i in issues if i["type"] == "Incident" and i.get("slas")][:10]
    for each in major:
        each["type"] = "Major Incident"
    api = site(issues)
    api.issue_types = (*api.issue_types, "Major Incident")
    with serve(api) as server, warehouse.connect() as con:
        before = connector(server.url)
        ingest(con, before)
        first_slas = set(loaded(con, "sla"))
        after = connector(server.url)
        after.issue_types = {**after.issue_types, "incident": ("Incident", "Major Incident")}
        second = ingest(con, after)
        slas = {key: record["values"] for key, record in loaded(con, "sla").items()}
        incidents = set(loaded(con, "incidents"))
    major_ids = {i["id"] for i in major}
    assert not major_ids & first_slas
    assert major_ids <= incidents
    assert {key: slas.get(key) for key in major_ids} == {
        key: values for key, values in sla_truth_of(api, major_ids).items()
    }
    # The other kinds keep their cursors: only their overlap is read again.
    assert second.streams["requests"].received < len(truth(api, "", "requests")) / 10


def sla_truth_of(api: JiraApi, ids: set[str]) -> dict[str, list]:
    return {
        issue["id"]: [api._sla_value(n, sla) for n, sla in enumerate(issue["slas"], start=1)]
        for issue in api.issues
        if issue["id"] in ids
    }


def test_a_component_renamed_at_the_source_names_the_issues_read_before_the_rename_too(warehouse):
    """An issue shows its component's name as it was when the issue was read, and renaming a
    component updates no issue: the incident read in May still says "Email" while the request
    updated after the rename says "E-mail". Both are the one service, by its newest name."""
    email = {"id": "10100", "name": "Email"}
    incident = issue(1, "Incident", "2025-05-01T10:00:00", components=[email])
    request = issue(2, "Service Request", "2025-05-02T10:00:00", components=[email])
    api = site([incident, request])
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        # Renamed; then someone comments on the request, which is read again.
        request.update(
            components=[{"id": "10100", "name": "E-mail"}],
            updated=AS_OF + timedelta(seconds=30),
        )
        ingest(con, source)
        for table in ("incidents", "requests", "sla_records"):
            stage(con, "jira", table)
        shown = con.execute(
            "SELECT record ->> '$.fields.components[0].name' FROM raw.jira_incidents UNION ALL "
            "SELECT record ->> '$.fields.components[0].name' FROM raw.jira_requests"
        ).fetchall()
        services = con.execute(
            "SELECT number, service FROM core.incidents UNION ALL "
            "SELECT number, service FROM core.requests ORDER BY 1"
        ).fetchall()
    assert shown == [("Email",), ("E-mail",)]
    assert services == [("ITSM-1", "E-mail"), ("ITSM-2", "E-mail")]


def test_epoch_millis_read_only_as_whole_numbers_after_1999(warehouse):
    """'1.5' is no whole number of milliseconds (a cast would read 2), and 0 is the 1970
    placeholder: both load empty; a real time reads to the millisecond."""
    with warehouse.connect() as con:
        prepare(con, "SELECT 1")
        read = con.execute(
            "SELECT jira_millis('1.5'), jira_millis('0'), placeholder_time("
            "jira_millis_as_written('0')), jira_millis(' 1740823200001 ')"
        ).fetchall()
    assert read == [(None, None, True, datetime(2025, 3, 1, 10, 0, 0, 1000, tzinfo=UTC))]
