"""The real ServiceNow incident log (UCI dataset 498) through emulator, connector and staging."""

from __future__ import annotations

from datetime import UTC, datetime

from test_servicenow_support import source_for, stage

from connectors.emulators.servicenow import Credentials, serve
from connectors.emulators.servicenow_uci import uci_tables
from warehouse.ingest import ingest


def test_the_full_incident_log_lands_as_24918_incidents(warehouse, shared_data):
    tables = uci_tables(shared_data / "servicenow-uci" / "incident_event_log.zip")
    assert len(tables["incident"]) == 24918
    with serve(tables, Credentials("tester", "s3cret-pass")) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=2000)
        load = ingest(con, source)
        assert load.streams["incident"].received == 24918
        stage(con)
        assert con.execute("SELECT count(*) FROM core.incidents").fetchall()[0][0] == 24918

        # INC0000045's last event (sys_mod_count 4) of the log's first incident, read by hand.
        first = con.execute(
            "SELECT state, priority, opened_at, resolved_at, closed_at, assignment_group,"
            " channel, made_sla, reopen_count, reassignment_count, category, close_code,"
            " updated_at FROM core.incidents WHERE number = 'INC0000045'"
        ).fetchall()[0]
        assert first == (
            "closed",
            3,
            datetime(2016, 2, 29, 1, 16, tzinfo=UTC),
            datetime(2016, 2, 29, 11, 29, tzinfo=UTC),
            datetime(2016, 3, 5, 12, 0, tzinfo=UTC),
            "Group 56",
            "phone",
            True,
            0,
            0,
            "Category 55",
            "code 5",
            datetime(2016, 3, 5, 12, 0, tzinfo=UTC),
        )
        # Every incident's last event is a closure; 1,556 were closed without a resolved_at
        # (../shared/data/README.md); the five -100 states are earlier events, so no bad values.
        summary = con.execute(
            "SELECT count(*) FILTER (WHERE state = 'closed'),"
            " count(*) FILTER (WHERE resolved_at IS NULL) FROM core.incidents"
        ).fetchall()[0]
        assert summary == (24918, 1556)
        problems = con.execute(
            "SELECT count(*) FROM scorecard.data_quality WHERE source = 'servicenow'"
        ).fetchall()[0][0]
        assert problems == 0
        channels = dict(
            con.execute("SELECT channel, count(*) FROM core.incidents GROUP BY ALL").fetchall()
        )
        assert set(channels) <= {"phone", "email", "portal", "walk_in"}

        # Nothing changed at the source: the second run reads the overlap window only.
        again = ingest(con, source)
        assert again.streams["incident"].received < 100
