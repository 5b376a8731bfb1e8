"""The PagerDuty connector against its emulator over real HTTP, into DuckDB."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
import requests

from connectors.emulators.pagerduty import Churn, PagerDutyApi, serve
from connectors.emulators.pagerduty_data import merge, sample_incidents, sample_services
from connectors.emulators.server import Faults
from connectors.http import RetryPolicy, SourceError
from connectors.pagerduty import PUBLIC_API, PagerDutySource, from_env
from transforms.kpis import compute_metrics
from transforms.staging import STAGING_DIR, stage
from warehouse.ingest import ingest

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TOKEN = "pd-Secret-token"


def account(incidents: list[dict], zone: str = "UTC", churn: Churn | None = None) -> PagerDutyApi:
    started = time.time() - 60  # the clock starts a minute after the last sample update
    return PagerDutyApi(
        incidents,
        sample_services(),
        TOKEN,
        time_zone=zone,
        churn=churn,
        clock=lambda: AS_OF.timestamp() + time.time() - started,
    )


def connector(url: str) -> PagerDutySource:
    source = from_env({"PAGERDUTY_API_URL": url, "PAGERDUTY_TOKEN": TOKEN})
    source.client.policy = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2)
    return source


def loaded(con) -> dict[str, dict]:
    rows = con.execute("SELECT record_key, record FROM raw.pagerduty_incidents").fetchall()
    return {key: json.loads(record) for key, record in rows}


def test_25000_incidents_in_one_window_load_exactly_once_despite_faults_and_updates(warehouse):
    """100 a page would need offsets up to 24,900; the emulator refuses any past 9,900 (400),
    so the load only succeeds if the window is split twice."""
    churn = Churn(every_pages=3, incidents=2, max_updates=20)
    api = account(sample_incidents(AS_OF, 25_000, days=20), "Asia/Tokyo", churn)
    faults = Faults(throttle_every=17, retry_after=0.01, error_every=13, drop_every=19)
    with serve(api, faults) as server, warehouse.connect() as con:
        result = ingest(con, connector(server.url))
        assert server.faults_injected > 40
        assert churn.updates == 20
        assert loaded(con) == {i["id"]: api.render(i) for i in api.incidents}
        rows = con.execute("SELECT count(*) FROM raw.pagerduty_incidents").fetchall()[0][0]
        assert rows == 25_000 <= result.streams["incidents"].received
        services = con.execute("SELECT count(*) FROM raw.pagerduty_services").fetchall()[0][0]
        assert services == 3


def test_a_rerun_reads_the_overlap_and_the_open_incidents_and_changes_nothing(warehouse):
    api = account(sample_incidents(AS_OF, 400, days=10))
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        before = loaded(con)
        cursor = json.loads(
            con.execute(
                "SELECT cursor_value FROM meta.cursors WHERE stream = 'incidents'"
            ).fetchall()[0][0]
        )
        open_incidents = [i for i in api.incidents if i["status"] != "resolved"]
        oldest_open = min(i["created_at"] for i in open_incidents)
        assert cursor["open_since"] == oldest_open.strftime("%Y-%m-%dT%H:%M:%SZ")

        second = ingest(con, source)

        # From the oldest open incident on (it is older than the 10-minute overlap), then each
        # incident still open once more by id.
        window = [i for i in api.incidents if i["created_at"] >= oldest_open]
        received = second.streams["incidents"].received
        assert received == len(window) + len(open_incidents) < len(before) / 4
        assert second.streams["incidents"].stored == 0
        assert loaded(con) == before


def pd_incident(n: int, created: str, **fields) -> dict:
    at = datetime.fromisoformat(created).replace(tzinfo=UTC)
    base = {
        "id": f"Q{n:07d}",
        "number": n,
        "title": f"alert {n}",
        "status": "resolved",
        "urgency": "high",
        "priority": None,
        "created_at": at,
        "updated_at": at + timedelta(hours=1),
        "last_status_change_at": at + timedelta(hours=1),
        "resolved_at": at + timedelta(minutes=90),
        "service": {"id": "PSVC002", "name": "Email (old name)"},
        "teams": [{"id": "PTEAM02", "name": "Messaging"}],
    }
    return base | fields


def test_staging_maps_status_priority_urgency_and_the_services_current_name(warehouse):
    incidents = [
        pd_incident(1, "2025-05-01T10:00:00", priority=1),
        pd_incident(2, "2025-05-02T10:00:00", urgency="low"),
        pd_incident(3, "2025-05-03T10:00:00", status="acknowledged", resolved_at=None),
        pd_incident(4, "2025-05-04T10:00:00", urgency="high"),
    ]
    api = account(incidents, "America/Bogota")
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        stage(con, "pagerduty", "incidents")
        rows = con.execute(
            "SELECT incident_id, number, opened_at, resolved_at, closed_at, priority, state, "
            "service, assignment_group, channel FROM core.incidents ORDER BY number"
        ).fetchall()

    opened = datetime(2025, 5, 1, 10, tzinfo=UTC)
    resolved = opened + timedelta(minutes=90)
    day = timedelta(days=1)
    # Service names come from /services ("Email"), not the incident's stale reference.
    assert rows == [
        # P1 -> 1, resolved 90 minutes after it was triggered.
        (
            "pagerduty:Q0000001",
            "1",
            opened,
            resolved,
            resolved,
            1,
            "resolved",
            "Email",
            "Messaging",
            "monitoring",
        ),
        # No priority: low urgency stands in as 4.
        (
            "pagerduty:Q0000002",
            "2",
            opened + day,
            resolved + day,
            resolved + day,
            4,
            "resolved",
            "Email",
            "Messaging",
            "monitoring",
        ),
        # Acknowledged is in progress, with no resolution yet.
        (
            "pagerduty:Q0000003",
            "3",
            opened + 2 * day,
            None,
            None,
            2,
            "in_progress",
            "Email",
            "Messaging",
            "monitoring",
        ),
        # No priority: high urgency stands in as 2.
        (
            "pagerduty:Q0000004",
            "4",
            opened + 3 * day,
            resolved + 3 * day,
            resolved + 3 * day,
            2,
            "resolved",
            "Email",
            "Messaging",
            "monitoring",
        ),
    ]


def test_bad_values_are_listed_in_data_quality_with_the_incident_number(warehouse):
    incidents = [
        pd_incident(7, "2025-05-01T10:00:00", status="snoozed", urgency="meh"),
        # 'infinity' casts to a time no period holds: read as none, and listed.
        pd_incident(8, "2025-05-02T10:00:00", resolved_at="infinity"),
    ]
    api = account(incidents)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        result = stage(con, "pagerduty", "incidents")
        problems = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality "
            "ORDER BY record_key, field"
        ).fetchall()
        resolved = con.execute(
            "SELECT number, resolved_at FROM core.incidents ORDER BY number"
        ).fetchall()
    assert result.quality_issues == 3
    assert problems == [
        ("7", "status", "unknown status", "snoozed"),
        ("7", "urgency", "unknown urgency (and no priority)", "meh"),
        ("8", "resolved_at", "unparseable time", "infinity"),
    ]
    assert resolved[1] == ("8", None)


def test_priorities_an_account_renamed_keep_their_level_and_unreadable_ones_are_listed(warehouse):
    """Accounts rename PagerDuty's P1..P5 (SEV-1, "P2 - High", Critical): the level still counts.
    A name that gives none leaves urgency to stand in, and data quality lists it."""
    names = ["SEV-1", "P2 - High", "Sev 3", "Critical", "4 - Low", "Urgent!!"]
    incidents = [
        pd_incident(n, f"2025-05-0{n}T10:00:00", priority=name, urgency="low")
        for n, name in enumerate(names, 1)
    ]
    api = account(incidents)
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        result = stage(con, "pagerduty", "incidents")
        priorities = con.execute(
            "SELECT number, priority FROM core.incidents ORDER BY number"
        ).fetchall()
        problems = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality"
        ).fetchall()
    # "Urgent!!" names no level: its low urgency stands in as 4.
    assert priorities == [("1", 1), ("2", 2), ("3", 3), ("4", 1), ("5", 4), ("6", 4)]
    assert result.quality_issues == 1
    assert problems == [("6", "priority", "unknown priority (urgency stands in)", "Urgent!!")]


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("P1", 1),
        ("p5", 5),
        ("SEV-2", 2),
        ("Sev 3", 3),
        ("S4", 4),
        ("1 - Critical", 1),
        ("P2 - High", 2),
        ("Highest", 1),
        (" medium ", 3),
        ("Trivial", 5),
        ("P0", None),
        ("10", None),
        ("Urgent!!", None),
        ("", None),
        (None, None),
    ],
)
def test_priority_level_reads_a_level_from_the_names_accounts_give(name, level):
    con = duckdb.connect()
    con.execute((STAGING_DIR / "macros.sql").read_text())
    assert con.execute("SELECT priority_level(?)", [name]).fetchall() == [(level,)]


def test_since_without_an_offset_would_be_read_in_the_accounts_zone():
    """The connector always sends UTC with a Z: the emulator reads bare times in Tokyo time."""
    api = account([pd_incident(1, "2025-05-01T10:00:00")], "Asia/Tokyo")
    with serve(api) as server:

        def count(since: str, until: str) -> int:
            answer = requests.get(
                f"{server.url}/incidents",
                params={"since": since, "until": until},
                headers={"Authorization": f"Token token={TOKEN}"},
                timeout=5,
            )
            return len(answer.json()["incidents"])

        # 10:00 UTC is 19:00 in Tokyo.
        assert count("2025-05-01T09:59:00Z", "2025-05-01T10:01:00Z") == 1
        assert count("2025-05-01T09:59:00", "2025-05-01T10:01:00") == 0
        assert count("2025-05-01T18:59:00", "2025-05-01T19:01:00") == 1


def test_wrong_token_fails_clearly_without_the_secret():
    api = account([pd_incident(1, "2025-05-01T10:00:00")])
    with serve(api) as server:
        source = from_env({"PAGERDUTY_API_URL": server.url, "PAGERDUTY_TOKEN": "wr0ng-T0ken"})
        with pytest.raises(SourceError) as caught:
            list(source.read(source.streams()[1], None))
    assert "HTTP 401" in str(caught.value) and "Authentication failed" in str(caught.value)
    assert "wr0ng-T0ken" not in str(caught.value)


def test_from_env_needs_the_token_and_defaults_to_the_public_api():
    with pytest.raises(SourceError, match="PAGERDUTY_TOKEN is not set"):
        from_env({})
    assert from_env({"PAGERDUTY_TOKEN": "t"}).api_url == PUBLIC_API
    with pytest.raises(SourceError, match="refusing plain-http"):
        from_env({"PAGERDUTY_TOKEN": "t", "PAGERDUTY_API_URL": "http://api.pagerduty.com"})


def test_services_are_read_over_all_their_pages(warehouse):
    api = account(sample_incidents(AS_OF, 5, days=2))
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        source.page_size = 2  # three services: two pages
        ingest(con, source)
        services = con.execute(
            "SELECT record_key FROM raw.pagerduty_services ORDER BY 1"
        ).fetchall()
    assert [key for (key,) in services] == sorted(s["id"] for s in sample_services())


def test_a_later_update_wins_whatever_offset_its_times_are_rendered_in(warehouse):
    # Acknowledged at 10:05 UTC, read with Tokyo offsets (19:05+09:00); resolved at 12:00 UTC,
    # read after the account's zone became UTC (12:00:00+00:00): the resolution is newer.
    acknowledged = pd_incident(
        1,
        "2025-05-31T10:00:00",
        status="acknowledged",
        resolved_at=None,
        updated_at=datetime(2025, 5, 31, 10, 5, tzinfo=UTC),
    )
    api = account([acknowledged])
    api.rendered_zone = "Asia/Tokyo"
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        resolved = datetime(2025, 5, 31, 12, tzinfo=UTC)
        acknowledged.update(status="resolved", updated_at=resolved, resolved_at=resolved)
        api.rendered_zone = "UTC"
        ingest(con, source)
        stage(con, "pagerduty", "incidents")
        rows = con.execute("SELECT state, resolved_at FROM core.incidents").fetchall()
    assert rows == [("resolved", resolved)]


def test_a_read_to_the_end_is_noted_with_its_start_and_a_failed_one_is_not(warehouse):
    # meta.source_reads tells the KPI step which periods the source has been read past.
    api = account([pd_incident(1, "2025-05-01T10:00:00")])
    with serve(api) as server, warehouse.connect() as con:
        before = datetime.now(UTC)
        ingest(con, connector(server.url), "run-1")
        after = datetime.now(UTC)
        wrong = from_env({"PAGERDUTY_API_URL": server.url, "PAGERDUTY_TOKEN": "wr0ng-T0ken"})
        with pytest.raises(SourceError):
            ingest(con, wrong, "run-2")
        reads = con.execute("SELECT source, read_at, run_id FROM meta.source_reads").fetchall()
    assert [(source, run_id) for source, _, run_id in reads] == [("pagerduty", "run-1")]
    assert before <= reads[0][1] <= after


def one_resolved_two_open() -> list[dict]:
    """Q1 resolved (08:00), Q2 triggered (09:00) and Q3 acknowledged (10:00) on 2025-05-31."""
    return [
        pd_incident(1, "2025-05-31T08:00:00"),
        pd_incident(2, "2025-05-31T09:00:00", status="triggered", resolved_at=None),
        pd_incident(3, "2025-05-31T10:00:00", status="acknowledged", resolved_at=None),
    ]


def test_an_open_incident_deleted_before_its_reread_leaves_core_and_is_not_asked_again(
    warehouse, caplog
):
    """Q2 is open when the list shows it and deleted before the run reads it again by id
    (404): the run completes, Q2 leaves raw and core, and the cursor does not wait for it."""
    api = account(one_resolved_two_open())
    api.delete_when_listed = {"Q0000002"}
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        first = ingest(con, source)
        stage(con, "pagerduty", "incidents")
        rows = con.execute(
            "SELECT incident_id, state, resolved_at FROM core.incidents ORDER BY incident_id"
        ).fetchall()
        cursor = json.loads(
            con.execute(
                "SELECT cursor_value FROM meta.cursors WHERE stream = 'incidents'"
            ).fetchall()[0][0]
        )
        reads_of_first_run = list(api.read_by_id)
        api.read_by_id.clear()
        ingest(con, source)
        raw_keys = sorted(loaded(con))

    assert reads_of_first_run == ["Q0000002", "Q0000003"]
    assert first.streams["incidents"].removed == 1
    assert rows == [
        ("pagerduty:Q0000001", "resolved", datetime(2025, 5, 31, 9, 30, tzinfo=UTC)),
        ("pagerduty:Q0000003", "in_progress", None),
    ]
    # The oldest incident still open is Q3 (10:00), not the deleted Q2 (09:00).
    assert cursor["open_since"] == "2025-05-31T10:00:00Z"
    assert cursor["open_ids"] == ["Q0000003"]
    assert "pagerduty: incident Q0000002 is gone at the source (HTTP 404" in caplog.text
    assert api.read_by_id == ["Q0000003"]
    assert raw_keys == ["Q0000001", "Q0000003"]


def test_an_open_incident_deleted_between_runs_leaves_core_on_the_next_run(warehouse):
    """Q2 is open when the first run ends; deleted before the second, it leaves the list, so
    only the cursor's open ids know to ask for it: 404, and it is removed."""
    api = account(one_resolved_two_open())
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        api.delete_incident("Q0000002")
        api.read_by_id.clear()
        second = ingest(con, source)
        stage(con, "pagerduty", "incidents")
        rows = con.execute(
            "SELECT incident_id, state FROM core.incidents ORDER BY incident_id"
        ).fetchall()
        reads_of_second_run = list(api.read_by_id)
        api.read_by_id.clear()
        ingest(con, source)

    assert reads_of_second_run == ["Q0000002", "Q0000003"]
    assert second.streams["incidents"].removed == 1
    assert rows == [("pagerduty:Q0000001", "resolved"), ("pagerduty:Q0000003", "in_progress")]
    assert api.read_by_id == ["Q0000003"]


def test_an_open_incident_landed_by_a_killed_run_and_deleted_since_leaves_on_the_next_run(
    warehouse,
):
    """A run lands its first 2,000 incidents, among them the new open Q10, and dies before its
    last page stores the cursor (here: reading the open ones again by id is refused). Q10 is
    deleted before the next run, so no list shows it again: only a cursor that names it makes
    the next run ask for it (404) and remove it, not a whole read two weeks later."""
    api = account(one_resolved_two_open())
    with serve(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
    # Created on 2025-06-01 from midnight, one a second: Q10 open, Q11..Q2109 resolved.
    api.create_incidents(
        [
            pd_incident(n, f"2025-06-01T00:{(n - 10) // 60 % 60:02d}:{(n - 10) % 60:02d}")
            | ({"status": "triggered", "resolved_at": None} if n == 10 else {})
            for n in range(10, 2110)
        ]
    )
    # Services, the oldest incident and 22 list pages (Q2, Q3 and Q10..Q2109) answer; the reads
    # by id are refused.
    refused = Faults(error_every=1, error_status=403, start_after=24)
    with serve(api, refused) as server, warehouse.connect() as con:
        with pytest.raises(SourceError, match="HTTP 403"):
            ingest(con, connector(server.url))
        landed_by_the_killed_run = "Q0000010" in loaded(con)
    api.delete_incident("Q0000010")
    api.read_by_id.clear()
    with serve(api) as server, warehouse.connect() as con:
        after = ingest(con, connector(server.url))
        stage(con, "pagerduty", "incidents")
        open_in_core = con.execute(
            "SELECT incident_id FROM core.incidents WHERE state <> 'resolved' ORDER BY 1"
        ).fetchall()

    assert landed_by_the_killed_run
    assert "Q0000010" in api.read_by_id
    assert after.streams["incidents"].removed == 1
    assert open_in_core == [("pagerduty:Q0000002",), ("pagerduty:Q0000003",)]


@pytest.mark.parametrize("status", [403, 500])
def test_an_error_other_than_not_found_on_the_reread_still_fails_the_run(warehouse, status):
    api = account([pd_incident(1, "2025-05-31T09:00:00", status="triggered", resolved_at=None)])
    # Services (1), the oldest incident (2) and the list (3) answer; every read by id fails.
    faults = Faults(error_every=1, error_status=status, start_after=3)
    with serve(api, faults) as server, warehouse.connect() as con:
        with pytest.raises(SourceError, match=f"HTTP {status}|after 6 attempts"):
            ingest(con, connector(server.url))
        cursors = con.execute("SELECT count(*) FROM meta.cursors WHERE stream = 'incidents'")
        assert cursors.fetchall() == [(0,)]


def test_a_resolved_incident_deleted_at_the_source_goes_at_the_weekly_whole_read(warehouse):
    """A resolved incident is never read again by id, so its deletion shows only to a whole
    read: due once the last is a week old, it removes Q1 when the whole read before missed it
    too, and the night after reads only the overlap again."""
    incidents = [
        pd_incident(1, "2025-05-01T08:00:00"),
        pd_incident(2, "2025-05-20T09:00:00"),
        pd_incident(3, "2025-05-31T10:00:00", status="acknowledged", resolved_at=None),
    ]
    api = account(incidents)
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        api.delete_incident("Q0000001")
        nightly = ingest(con, source)
        after_a_night = sorted(loaded(con))
        con.execute("UPDATE meta.full_refreshes SET finished_at = finished_at - INTERVAL 8 DAY")
        missed_once = ingest(con, source)
        after_one_whole_read = sorted(loaded(con))
        con.execute("UPDATE meta.full_refreshes SET finished_at = finished_at - INTERVAL 8 DAY")
        refreshed = ingest(con, source)
        stage(con, "pagerduty", "incidents")
        rows = con.execute("SELECT incident_id FROM core.incidents ORDER BY 1").fetchall()
        again = ingest(con, source)

    assert nightly.streams["incidents"].removed == 0
    assert after_a_night == after_one_whole_read == ["Q0000001", "Q0000002", "Q0000003"]
    assert missed_once.streams["incidents"].removed == 0
    assert refreshed.streams["incidents"].removed == 1
    assert rows == [("pagerduty:Q0000002",), ("pagerduty:Q0000003",)]
    # Only the open Q3 is read (listed from its creation, then again by id); Q2, resolved and
    # created weeks before the overlap, is not.
    assert again.streams["incidents"].received == 2


def test_a_team_renamed_at_the_source_names_the_incidents_read_before_the_rename_too(warehouse):
    """An incident shows its team's name as it was when it was read, and a rename updates no
    incident: the resolved incident read last night still says "Messaging" while the open one,
    read again tonight, says "Mail Operations". Both are the one team, by its newest name."""
    resolved = pd_incident(1, "2025-05-30T10:00:00")
    still_open = pd_incident(2, "2025-05-31T10:00:00", status="acknowledged", resolved_at=None)
    api = account([resolved, still_open])
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        still_open["teams"] = [{"id": "PTEAM02", "name": "Mail Operations"}]
        ingest(con, source)
        stage(con, "pagerduty", "incidents")
        shown = con.execute(
            "SELECT record ->> '$.teams[0].summary' FROM raw.pagerduty_incidents ORDER BY 1"
        ).fetchall()
        rows = con.execute(
            "SELECT number, assignment_group FROM core.incidents ORDER BY number"
        ).fetchall()
    assert shown == [("Mail Operations",), ("Messaging",)]
    assert rows == [("1", "Mail Operations"), ("2", "Mail Operations")]


def test_an_incident_merged_into_another_stays_as_canceled_and_is_no_resolution(warehouse):
    """Q2 (08:05) is the same outage as Q1 (08:00): at 08:20 the on-call engineer merges Q2 into
    Q1, and Q1 is resolved at 10:00. One outage, resolved in 2 hours; Q2 stays traceable."""
    opened = datetime(2025, 5, 31, 8, tzinfo=UTC)
    survivor = pd_incident(
        1,
        "2025-05-31T08:00:00",
        status="triggered",
        resolved_at=None,
        updated_at=opened,
        last_status_change_at=opened,
    )
    duplicate = pd_incident(
        2,
        "2025-05-31T08:05:00",
        status="triggered",
        resolved_at=None,
        updated_at=opened + timedelta(minutes=5),
        last_status_change_at=opened + timedelta(minutes=5),
    )
    api = account([survivor, duplicate])
    merged_at = opened + timedelta(minutes=20)
    resolved_at = opened + timedelta(hours=2)
    with serve(api) as server, warehouse.connect() as con:
        source = connector(server.url)
        ingest(con, source)
        merge(duplicate, survivor, merged_at)
        survivor.update(
            status="resolved",
            resolved_at=resolved_at,
            updated_at=resolved_at,
            last_status_change_at=resolved_at,
        )
        ingest(con, source)
        stage(con, "pagerduty", "incidents")
        compute_metrics(con, min_n=1, as_of=AS_OF)
        shown = con.execute(
            "SELECT record ->> '$.resolve_reason' FROM raw.pagerduty_incidents "
            "WHERE record_key = 'Q0000002'"
        ).fetchall()[0][0]
        rows = con.execute(
            "SELECT incident_id, state, resolved_at, closed_at, close_code "
            "FROM core.incidents ORDER BY incident_id"
        ).fetchall()
        facts = con.execute(
            "SELECT record_id, x, counts_in_n, note FROM kpi.metric_facts "
            "WHERE facts_id = 'incident_resolution_time' ORDER BY record_id"
        ).fetchall()
        values = con.execute(
            "SELECT grain, period_start, value, n FROM kpi.metric_values "
            "WHERE metric_id = 'incident_resolution_time' AND dimension = 'all' "
            "AND (grain, period_start) IN (('week', '2025-05-26'), ('month', '2025-05-01')) "
            "ORDER BY grain"
        ).fetchall()

    assert json.loads(shown) == {
        "type": "merge_resolve_reason",
        "incident": {
            "id": "Q0000001",
            "type": "incident_reference",
            "summary": "[#1] alert 1",
            "html_url": "https://acme.pagerduty.com/incidents/Q0000001",
        },
    }
    assert rows == [
        ("pagerduty:Q0000001", "resolved", resolved_at, resolved_at, None),
        # Merged: no resolution, closed when it was merged.
        ("pagerduty:Q0000002", "canceled", None, merged_at, "merged"),
    ]
    assert facts == [
        ("pagerduty:Q0000001", 2.0, True, None),
        ("pagerduty:Q0000002", None, False, "excluded: canceled"),
    ]
    # Q1 alone: 08:00 -> 10:00 = 2 hours (counting Q2's 15 minutes would make the median 1.125).
    assert values == [
        ("month", date(2025, 5, 1), 2.0, 1),
        ("week", date(2025, 5, 26), 2.0, 1),
    ]


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_a_time_beyond_year_one_once_in_utc_does_not_stop_the_read(warehouse, field):
    # 00:00 on 1 January of the year 1 at +05:30 is in the year before it in UTC.
    def rewrite(body: object) -> object:
        for record in body.get("incidents") or [] if isinstance(body, dict) else []:
            if record.get("incident_number") == 8:
                record[field] = "0001-01-01T00:00:00+05:30"
        return body

    api = account([pd_incident(7, "2025-05-01T10:00:00"), pd_incident(8, "2025-05-02T10:00:00")])
    with serve(api, faults=Faults(rewrite=rewrite)) as server, warehouse.connect() as con:
        ingest(con, connector(server.url))
        landed = {record["incident_number"]: record[field] for record in loaded(con).values()}
    assert sorted(landed) == [7, 8]
    assert landed[8] == "0001-01-01T00:00:00+05:30"
