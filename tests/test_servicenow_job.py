"""`SCORECARD_SOURCES=servicenow dg launch --job nightly_scorecard` against a Table API emulator."""

from pathlib import Path

import duckdb

from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.servicenow import start_demo
from tests.conftest import launch_nightly_job

CORE_TABLES = ("incidents", "changes", "requests", "sla_records", "outages")


def snapshot(path: Path) -> tuple[dict, list, list, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        counts = {
            t: con.execute(f"SELECT count(*) FROM core.{t}").fetchall()[0][0] for t in CORE_TABLES
        }
        cursors = con.execute("SELECT stream, cursor_value FROM meta.cursors ORDER BY 1").fetchall()
        loads = con.execute(
            "SELECT count(*), max(loaded_at) FROM raw.servicenow_incident"
        ).fetchall()
        staged = con.execute(
            "SELECT table_name, staged_at FROM meta.staging_fingerprints ORDER BY 1"
        ).fetchall()
    return counts, cursors, loads, staged


def test_job_loads_all_five_tables_and_a_second_run_changes_nothing(tmp_path):
    source_env, stop = start_demo(demo_as_of(), tmp_path)
    try:
        settings = {
            **source_env,
            "SCORECARD_SOURCES": "servicenow",
            "SCORECARD_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        }
        launch_nightly_job(**settings)
        first = snapshot(tmp_path / "warehouse.duckdb")
        launch_nightly_job(**settings)
        second = snapshot(tmp_path / "warehouse.duckdb")
    finally:
        stop()
    counts, cursors, _, staged = first
    assert all(counts[t] > 0 for t in CORE_TABLES), counts
    assert [stream for stream, _ in cursors] == [
        "change_request",
        "cmdb_ci_outage",
        "incident",
        "sc_req_item",
        "task_sla",
    ]
    assert [table for table, _ in staged] == sorted(CORE_TABLES)
    # Same records, same cursors, not one raw row rewritten by the overlap re-read, and so no
    # table restaged: each keeps the staging time of the first run.
    assert second == first
