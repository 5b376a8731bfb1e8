"""A restage writes only what differs from core, yet leaves exactly the staged rows: a changed
record takes its new values (NULLs included), a deleted one goes, an added one comes, an
unchanged one is not rewritten, and a restage that fails halfway leaves the previous core."""

from __future__ import annotations

import pytest
from test_servicenow_support import source_for

from connectors.base import Page
from connectors.servicenow import DELETION_LOG
from tests.test_staging_skip import incident, land, staged_at
from transforms.staged_inputs import STAGING_DIR
from transforms.staging import prepare, stage
from warehouse.landing import land_page


def categorised(sys_id: str, updated: str, priority: str, category: str | None) -> dict:
    record = incident(sys_id, updated, priority)
    if category is not None:
        record["category"] = {"display_value": category, "value": category}
    return record


def delete(con, sys_id: str) -> None:
    """Land a sys_audit_delete entry for the incident, which removes it from raw."""
    log = next(s for s in source_for("http://127.0.0.1:9").streams() if s.name == DELETION_LOG)
    entry = {
        "sys_id": f"del-{sys_id}",
        "sys_updated_on": "2024-03-05 08:00:00",
        "sys_created_on": "2024-03-05 08:00:00",
        "tablename": "incident",
        "documentkey": sys_id,
    }
    land_page(con, "servicenow", log, Page([entry], None))


def held(con) -> list[tuple]:
    return con.execute(
        "SELECT incident_id, priority, state, category, updated_at::VARCHAR FROM core.incidents "
        "WHERE source = 'servicenow' ORDER BY incident_id"
    ).fetchall()


def rowids(con) -> dict[str, int]:
    """Where each row is stored: a row written again (deleted and inserted) gets a new one."""
    return dict(
        con.execute(
            "SELECT incident_id, rowid FROM core.incidents WHERE source = 'servicenow'"
        ).fetchall()
    )


def night_one(con) -> None:
    land(con, categorised("inc0001", "2024-03-01 11:00:00", "1", None))
    land(con, categorised("inc0002", "2024-03-01 12:00:00", "3", None))
    land(con, categorised("inc0003", "2024-03-01 13:00:00", "4", "network"))
    land(con, categorised("inc0005", "2024-03-01 14:00:00", "5", "email"))
    stage(con, "servicenow", "incidents")


def night_two(con) -> None:
    """inc0002 changes (priority, and a category where it had none), inc0005 loses its
    category, inc0003 is deleted, inc0004 is new, inc0001 is as it was."""
    land(con, categorised("inc0002", "2024-03-04 09:00:00", "2", "hardware"))
    land(con, categorised("inc0005", "2024-03-04 10:00:00", "5", None))
    delete(con, "inc0003")
    land(con, categorised("inc0004", "2024-03-04 11:00:00", "3", "network"))


def test_a_restage_leaves_exactly_the_staged_rows_and_rewrites_only_those_that_differ(warehouse):
    with warehouse.connect() as con:
        night_one(con)
        before = rowids(con)
        night_two(con)
        result = stage(con, "servicenow", "incidents")
        rows = held(con)
        after = rowids(con)
        query = (STAGING_DIR / "servicenow" / "incidents.sql").read_text()
        prepare(con, query, "servicenow")
        staged = con.execute(f"SELECT * FROM ({query}) ORDER BY incident_id").fetchall()
        core = con.execute(
            "SELECT * FROM core.incidents WHERE source = 'servicenow' ORDER BY incident_id"
        ).fetchall()
    assert result.outcome == "restaged: changed: raw.servicenow_incident"
    assert result.rows == 4
    assert rows == [
        ("servicenow:inc0001", 1, "in_progress", None, "2024-03-01 11:00:00+00"),
        ("servicenow:inc0002", 2, "in_progress", "hardware", "2024-03-04 09:00:00+00"),
        ("servicenow:inc0004", 3, "in_progress", "network", "2024-03-04 11:00:00+00"),
        ("servicenow:inc0005", 5, "in_progress", None, "2024-03-04 10:00:00+00"),
    ]
    # Every column of every row is what the staging query returns now: nothing lost or doubled.
    assert core == staged
    # The unchanged row was left where it was; the changed ones were updated in place.
    assert after["servicenow:inc0001"] == before["servicenow:inc0001"]
    assert after["servicenow:inc0002"] == before["servicenow:inc0002"]
    assert after["servicenow:inc0005"] == before["servicenow:inc0005"]


def test_a_restage_failing_halfway_leaves_the_previous_core(warehouse):
    with warehouse.connect() as con:
        night_one(con)
        before = held(con)
        noted = con.execute("SELECT * FROM scorecard.data_quality ORDER BY ALL").fetchall()
        staged = staged_at(con, "incidents")
        night_two(con)
        # Another source already holds the key of the added incident: the restage deletes
        # inc0003 and updates inc0002 and inc0005, then fails on inserting inc0004.
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number) "
            "VALUES ('servicenow:inc0004', 'jira', 'SUP-4')"
        )
        with pytest.raises(RuntimeError, match="staging/servicenow/incidents.sql failed"):
            stage(con, "servicenow", "incidents")
        kept = held(con)
        noted_after = con.execute("SELECT * FROM scorecard.data_quality ORDER BY ALL").fetchall()
        still = staged_at(con, "incidents")
        con.execute("DELETE FROM core.incidents WHERE source = 'jira'")
        retried = stage(con, "servicenow", "incidents")
    assert before == [
        ("servicenow:inc0001", 1, "in_progress", None, "2024-03-01 11:00:00+00"),
        ("servicenow:inc0002", 3, "in_progress", None, "2024-03-01 12:00:00+00"),
        ("servicenow:inc0003", 4, "in_progress", "network", "2024-03-01 13:00:00+00"),
        ("servicenow:inc0005", 5, "in_progress", "email", "2024-03-01 14:00:00+00"),
    ]
    assert kept == before
    assert noted_after == noted
    assert still == staged
    assert retried.rows == 4
