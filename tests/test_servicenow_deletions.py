"""ServiceNow deletions: read from sys_audit_delete over real HTTP, removed from raw and core."""

from __future__ import annotations

import json

import pytest
from test_servicenow_support import source_for, stage

from connectors.base import Page
from connectors.emulators.servicenow import Credentials, failure, serve
from connectors.emulators.servicenow_tables import MemoryTable
from connectors.http import PermanentSourceError, SourceError
from connectors.servicenow import DELETION_LOG, TABLE_FIELDS
from warehouse.ingest import ingest
from warehouse.landing import land_page, read_cursor

USER = Credentials("tester", "s3cret-pass")


def instance() -> dict[str, MemoryTable]:
    """Six incidents, three changes and SLA clocks of incidents 0 and 1 (two); the other tables
    the connector reads are empty."""
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["incident"] = MemoryTable.of(
        "incident",
        [
            {
                "sys_id": f"inc{n:029d}",
                "number": f"INC{n:07d}",
                "sys_updated_on": f"2025-05-0{n + 1} 10:00:00",
                "opened_at": f"2025-05-0{n + 1} 09:00:00",
                "state": "2",
                "priority": "3",
            }
            for n in range(6)
        ],
    )
    tables["change_request"] = MemoryTable.of(
        "change_request",
        [
            {
                "sys_id": f"chg{n:029d}",
                "number": f"CHG{n:07d}",
                "sys_updated_on": f"2025-05-0{n + 1} 12:00:00",
                "state": "3",
                "type": "normal",
            }
            for n in range(3)
        ],
    )
    tables["task_sla"] = MemoryTable.of(
        "task_sla",
        [
            {
                "sys_id": f"sla{n:029d}",
                "sys_updated_on": f"2025-05-0{task + 1} 11:00:00",
                "task": f"inc{task:029d}",
                "stage": "in_progress",
            }
            for n, task in enumerate((0, 1, 1))
        ],
    )
    return tables


def keys(con, query: str) -> set[str]:
    return {row[0] for row in con.execute(query).fetchall()}


def test_records_deleted_between_runs_are_removed_from_raw_and_core(warehouse):
    tables = instance()
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=2)  # several pages per table
        first = ingest(con, source, "first")
        stage(con)
        assert first.streams[DELETION_LOG].received == 0
        assert len(keys(con, "SELECT incident_id FROM core.incidents")) == 6

        deleted = [
            # Incident 1 with its two SLA clocks, as under a cascading reference rule.
            *server.api.delete_record("incident", "inc" + "1".zfill(29), cascade=["task_sla"]),
            *server.api.delete_record("incident", "inc" + "4".zfill(29), cascade=["task_sla"]),
            *server.api.delete_record("change_request", "chg" + "0".zfill(29)),
        ]
        second = ingest(con, source, "second")
        stage(con)
        raw_incidents = keys(con, "SELECT record_key FROM raw.servicenow_incident")
        core_incidents = keys(con, "SELECT incident_id FROM core.incidents")
        core_changes = keys(con, "SELECT change_id FROM core.changes")
        core_slas = keys(con, "SELECT sla_record_id FROM core.sla_records")
        logged = keys(
            con, "SELECT record ->> '$.documentkey.value' FROM raw.servicenow_sys_audit_delete"
        )
        cursor = json.loads(read_cursor(con, "servicenow", DELETION_LOG))

        third = ingest(con, source, "third")  # re-reads the log's overlap: removes nothing more
        stage(con)
        after_third = keys(con, "SELECT incident_id FROM core.incidents")

    gone = {"inc" + "1".zfill(29), "inc" + "4".zfill(29)}
    assert raw_incidents == {f"inc{n:029d}" for n in range(6)} - gone
    assert core_incidents == {f"servicenow:inc{n:029d}" for n in (0, 2, 3, 5)}
    assert core_changes == {f"servicenow:chg{n:029d}" for n in (1, 2)}
    assert core_slas == {"servicenow:sla" + "0".zfill(29)}
    assert [entry["tablename"] for entry in deleted] == [
        "incident",
        "task_sla",
        "task_sla",
        "incident",
        "change_request",
    ]
    assert logged == {entry["documentkey"] for entry in deleted}
    assert second.streams[DELETION_LOG].received == 5
    assert second.streams[DELETION_LOG].removed == 5
    newest = max(deleted, key=lambda e: (e["sys_updated_on"], e["sys_id"]))
    assert cursor == {"sys_updated_on": newest["sys_updated_on"], "sys_id": newest["sys_id"]}
    assert third.streams[DELETION_LOG].removed == 0
    assert after_third == core_incidents


def test_a_record_restored_after_its_deletion_is_kept(warehouse):
    """sys_ids are never reused, but a deleted record can be restored with its own sys_id."""
    source = source_for("http://127.0.0.1:9")
    incident = next(s for s in source.streams() if s.name == "incident")
    log = next(s for s in source.streams() if s.name == DELETION_LOG)
    entry = {
        "sys_id": "a1",
        "sys_updated_on": "2025-05-02 08:00:00",
        "sys_created_on": "2025-05-02 08:00:00",
        "tablename": "incident",
        "documentkey": "inc1",
    }
    with warehouse.connect() as con:
        land_page(
            con,
            "servicenow",
            incident,
            Page([{"sys_id": "inc1", "sys_updated_on": "2025-05-03 09:00:00"}], None),
        )
        land_page(
            con,
            "servicenow",
            incident,
            Page([{"sys_id": "inc2", "sys_updated_on": "2025-05-01 09:00:00"}], None),
        )
        removed = land_page(
            con,
            "servicenow",
            log,
            Page([entry, {**entry, "sys_id": "a2", "documentkey": "inc2"}], None),
        )
        left = keys(con, "SELECT record_key FROM raw.servicenow_incident")
    assert (removed.removed, left) == (1, {"inc1"})


def test_a_full_refresh_removes_records_gone_without_a_deletion_entry(warehouse):
    """An instance whose deletion log the user cannot read (SERVICENOW_READ_DELETIONS=false)."""
    tables = instance()
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=2)
        source.read_deletions = False
        ingest(con, source, "first")
        tables["incident"].remove("inc" + "2".zfill(29))
        ingest(con, source, "incremental")
        stage(con)
        before = keys(con, "SELECT incident_id FROM core.incidents")
        refreshed = ingest(con, source, "refresh", full_refresh=True)
        stage(con)
        after = keys(con, "SELECT incident_id FROM core.incidents")
    assert "servicenow:inc" + "2".zfill(29) in before
    assert after == {f"servicenow:inc{n:029d}" for n in (0, 1, 3, 4, 5)}
    assert refreshed.streams["incident"].removed == 1


def test_a_deletion_log_the_user_may_not_read_names_the_remedy_and_keeps_the_tables(warehouse):
    tables = instance()
    with (
        serve(tables, USER, unreadable=[DELETION_LOG]) as server,
        warehouse.connect() as con,
    ):
        with pytest.raises(PermanentSourceError) as failed:
            ingest(con, source_for(server.url))
        landed = keys(con, "SELECT record_key FROM raw.servicenow_incident")
    message = str(failed.value)
    assert "may not read the deletion log sys_audit_delete (HTTP 403)" in message
    assert "SERVICENOW_READ_DELETIONS=false" in message
    assert "check SERVICENOW_PASSWORD" not in message and "s3cret-pass" not in message
    assert landed == {record["sys_id"] for record in tables["incident"].scan()}


def test_a_record_restored_with_its_old_version_comes_back_at_a_full_refresh(warehouse):
    """An XML import restores a deleted incident as it was, sys_updated_on included: no
    incremental run can see it (it is older than the cursor), a full refresh must, and the
    deletion entry read again by the log's overlap must not remove it once more."""
    tables = instance()
    restored = "inc" + "1".zfill(29)
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url)
        ingest(con, source, "first")
        record = tables["incident"].get(restored)
        server.api.delete_record("incident", restored)
        deleted = ingest(con, source, "deletion")
        tables["incident"].put(dict(record))
        ingest(con, source, "incremental")
        after_incremental = keys(con, "SELECT record_key FROM raw.servicenow_incident")
        ingest(con, source, "refresh", full_refresh=True)
        after_refresh = keys(con, "SELECT record_key FROM raw.servicenow_incident")
        ingest(con, source, "next night")
        stage(con)
        incidents = keys(con, "SELECT incident_id FROM core.incidents")
    assert deleted.streams[DELETION_LOG].removed == 1
    assert restored not in after_incremental
    assert restored in after_refresh
    assert incidents == {f"servicenow:inc{n:029d}" for n in range(6)}


@pytest.mark.parametrize("restored_after", [60, 0], ids=["a-minute-later", "the-same-second"])
def test_a_record_restored_from_the_deleted_records_comes_back_on_the_next_nightly_run(
    warehouse, restored_after
):
    """Restoring a deleted record brings it back as it was, sys_updated_on included, so no
    incremental read of its table sees it; the instance audits the restore (a sys_audit entry
    RECOVERED). Incident 1 was deleted and removed on the second night, then restored; incident
    4 was deleted and restored between the second and third nights, so the third night reads its
    deletion too and must not remove it, even when both fall in the same second (the audit's
    times have no finer grain, and a restore always follows its deletion)."""
    tables = instance()
    one, four = "inc" + "1".zfill(29), "inc" + "4".zfill(29)
    now = [1_750_000_000.0]  # 2025-06-15, after every record's version
    with serve(tables, USER) as server, warehouse.connect() as con:
        server.api.clock = lambda: now[0]
        source = source_for(server.url)
        ingest(con, source, "first")
        record_one = dict(tables["incident"].get(one))
        server.api.delete_record("incident", one)
        second = ingest(con, source, "second")
        now[0] += 3600
        server.api.restore_record("incident", record_one)
        record_four = dict(tables["incident"].get(four))
        server.api.delete_record("incident", four)
        now[0] += restored_after
        server.api.restore_record("incident", record_four)
        third = ingest(con, source, "third")
        stage(con)
        after_third = keys(con, "SELECT incident_id FROM core.incidents")
        ingest(con, source, "fourth")
        stage(con)
        after_fourth = keys(con, "SELECT incident_id FROM core.incidents")
        stored_one = con.execute(
            "SELECT record ->> '$.sys_updated_on.value' FROM raw.servicenow_incident "
            "WHERE record_key = ?",
            [one],
        ).fetchall()
    every = {f"servicenow:inc{n:029d}" for n in range(6)}
    assert second.streams[DELETION_LOG].removed == 1
    assert third.streams[DELETION_LOG].removed == 0
    assert after_third == after_fourth == every
    assert stored_one == [(record_one["sys_updated_on"],)]


def test_an_audit_the_user_may_not_read_leaves_restores_to_a_full_refresh(warehouse, caplog):
    tables = instance()
    with serve(tables, USER, unreadable=["sys_audit"]) as server, warehouse.connect() as con:
        source = source_for(server.url)
        ingest(con, source, "first")
        second = ingest(con, source, "second")
    assert second.streams["incident"].received == 1  # the overlap re-reads the newest one
    assert "may not read sys_audit (HTTP 403)" in caplog.text
    assert "come back only at a full refresh" in caplog.text


def test_a_record_stamped_in_the_future_is_removed_when_it_is_deleted(warehouse):
    """A record stamped in 2099 (an import run with autoSysFields(false)) is cleaned up by
    deleting it: its version, later than its deletion, is no sign of a restore since."""
    tables = instance()
    future = "fut" + "0" * 29
    tables["incident"].put(
        {
            "sys_id": future,
            "number": "INC9999999",
            "sys_updated_on": "2099-01-01 00:00:00",
            "opened_at": "2025-05-01 09:00:00",
            "state": "2",
            "priority": "3",
        }
    )
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=2)
        ingest(con, source, "first")
        stage(con)
        before = keys(con, "SELECT incident_id FROM core.incidents")
        server.api.delete_record("incident", future)
        deleted = ingest(con, source, "deletion")
        stage(con)
        raw = keys(con, "SELECT record_key FROM raw.servicenow_incident")
        incidents = keys(con, "SELECT incident_id FROM core.incidents")
    assert "servicenow:" + future in before
    assert deleted.streams[DELETION_LOG].removed == 1
    assert raw == {f"inc{n:029d}" for n in range(6)}
    assert incidents == {f"servicenow:inc{n:029d}" for n in range(6)}


def test_the_sla_clocks_a_deleted_task_leaves_behind_leave_core_with_it(warehouse):
    """An instance whose reference rule keeps a deleted task's SLA clocks (no cascade) leaves
    them with a dangling task and no update: they time a record that is gone, so they leave
    core.sla_records, and the SLA KPI, with it (as a Jira issue's SLA cycles do), and come back
    when the task is restored."""
    tables = instance()
    incident_1 = dict(tables["incident"].get("inc" + "1".zfill(29)))
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url)
        ingest(con, source, "first")
        stage(con)
        before = keys(con, "SELECT sla_record_id FROM core.sla_records")
        (entry,) = server.api.delete_record("incident", incident_1["sys_id"])  # clocks stay
        ingest(con, source, "second")
        stage(con)
        after_deletion = keys(con, "SELECT sla_record_id FROM core.sla_records")
        clocks_in_raw = keys(con, "SELECT record_key FROM raw.servicenow_task_sla")
        # Restored with its own sys_id: updated after its deletion.
        tables["incident"].put({**incident_1, "sys_updated_on": entry["sys_updated_on"]})
        ingest(con, source, "third")
        stage(con)
        after_restore = keys(con, "SELECT sla_record_id FROM core.sla_records")
    clocks = {f"sla{n:029d}" for n in range(3)}
    assert before == {f"servicenow:{c}" for c in clocks}
    assert clocks_in_raw == clocks  # still at the source, untouched
    assert after_deletion == {"servicenow:sla" + "0".zfill(29)}
    assert after_restore == before


def _incident_state(con, key: str) -> tuple:
    return con.execute(
        "SELECT state, resolved_at FROM core.incidents WHERE incident_id = ?",
        ["servicenow:" + key],
    ).fetchone()


def test_a_full_refresh_lands_the_older_version_an_import_put_back(warehouse):
    """An administrator imports last month's XML export over an incident: its sys_updated_on goes
    back to the export's. Incremental reads cannot see it (their cursor is past it); the full
    refresh takes what the instance holds now, although its version is older."""
    tables = instance()
    key = f"inc{2:029d}"
    exported = dict(tables["incident"].get(key))
    resolved = exported | {
        "sys_updated_on": "2025-05-20 10:00:00",
        "state": "6",
        "resolved_at": "2025-05-20 10:00:00",
    }
    tables["incident"].put(resolved)
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=2)
        ingest(con, source, "first")
        stage(con)
        assert _incident_state(con, key)[0] == "resolved"
        tables["incident"].put(exported)
        ingest(con, source, "refresh", full_refresh=True)
        stage(con)
        assert _incident_state(con, key) == ("in_progress", None)
        # Read again, it is one version: nothing more is stored.
        again = ingest(con, source, "again", full_refresh=True)
    assert again.streams["incident"].stored == 0


def test_a_full_refresh_lands_the_update_of_a_record_an_import_stamped_years_ahead(warehouse):
    """An import with autoSysFields(false) stamped an incident 2099; an agent then resolves it
    and the instance stamps the real time, which sorts before 2099, so incremental reads keep the
    2099 version. A full refresh (`full_refresh: true`, or refresh_every_days) lands the
    resolution."""
    tables = instance()
    key = f"inc{3:029d}"
    tables["incident"].put(
        dict(tables["incident"].get(key)) | {"sys_updated_on": "2099-01-01 00:00:00"}
    )
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=2)
        ingest(con, source, "first")
        tables["incident"].put(
            dict(tables["incident"].get(key))
            | {
                "sys_updated_on": "2025-06-01 08:00:00",
                "state": "6",
                "resolved_at": "2025-06-01 08:00:00",
            }
        )
        ingest(con, source, "refresh", full_refresh=True)
        stage(con)
        assert _incident_state(con, key)[0] == "resolved"


def test_a_restore_whose_audit_read_fails_is_read_by_the_next_run(warehouse):
    """Incident 1 is deleted, then restored at 13:00 with its old sys_updated_on, and incident
    2 is updated at 14:00. The third night lands incident 2 (the table's cursor moves to 14:00),
    then the audit read of the restores fails; the fourth night must still ask for the restores
    since the second night's cursor, not since 14:00 less the overlap, and bring incident 1 back."""
    tables = instance()
    one, two = "inc" + "1".zfill(29), "inc" + "2".zfill(29)
    now = [1_750_000_000.0]  # 2025-06-15 15:06:40, after every record's version
    audit_down = [False]
    with serve(tables, USER) as server, warehouse.connect() as con:
        api = server.api
        api.clock = lambda: now[0]
        answer = api._answer

        def audit_failing(call):
            if audit_down[0] and call.path.rstrip("/").endswith("/sys_audit"):
                return failure(500, "Transaction cancelled: maximum execution time exceeded")
            return answer(call)

        api._answer = audit_failing
        source = source_for(server.url)
        ingest(con, source, "first")
        record_one = dict(tables["incident"].get(one))
        api.delete_record("incident", one)
        ingest(con, source, "second")
        now[0] += 3600
        api.restore_record("incident", record_one)
        now[0] += 3600
        tables["incident"].put(
            {**tables["incident"].get(two), "sys_updated_on": "2025-06-15 17:06:40"}
        )
        audit_down[0] = True
        with pytest.raises(SourceError, match="restores of table incident"):
            ingest(con, source, "third")
        audit_down[0] = False
        now[0] += 86400
        ingest(con, source, "fourth")
        stage(con)
        incidents = keys(con, "SELECT incident_id FROM core.incidents")
        cursor = json.loads(read_cursor(con, "servicenow", "incident"))
    assert incidents == {f"servicenow:inc{n:029d}" for n in range(6)}
    assert cursor == {"sys_updated_on": "2025-06-15 17:06:40", "sys_id": two}
