"""A nightly run killed mid-ingest (out-of-memory killer, reboot) needs no person to recover.

On the old setup the killed run kept the `duckdb_warehouse` pool slot and every later run waited
for it forever. Now the next launch fails the dead run and completes, and its tables equal those
of a run that was never interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from connectors.emulators import demo
from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.server import Faults
from connectors.emulators.servicenow import DEMO_CREDENTIALS, serve
from connectors.emulators.servicenow_demo import demo_tables
from pipelines.recovery import HOST_TAG, PROCESS_TAG
from pipelines.resources import SourcesResource, WarehouseResource
from tests.conftest import REPO, dg_command, launch_nightly_job, make_dagster_home, user_environment
from warehouse.processes import process_identity

CORE_TABLES = ("incidents", "changes", "requests", "sla_records", "outages")


def raw_servicenow_rows(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name LIKE 'servicenow_%'"
        ).fetchall()
        return sum(con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for (t,) in tables)


def differing_rows(left: Path, right: Path, table: str) -> int:
    """Rows of core.<table> in one file and not the other (both ways), load times aside."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        columns = [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'l' "
                "AND schema_name = 'core' AND table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            if name not in ("loaded_at", "run_id")
        ]
        select = ", ".join(f'"{c}"' for c in columns)
        return con.execute(
            f"SELECT count(*) FROM ("
            f"(SELECT {select} FROM l.core.{table} EXCEPT ALL SELECT {select} FROM r.core.{table})"
            f" UNION ALL "
            f"(SELECT {select} FROM r.core.{table} EXCEPT ALL SELECT {select} FROM l.core.{table}))"
        ).fetchone()[0]


def test_a_run_killed_mid_ingest_is_failed_by_the_next_run_which_completes(tmp_path):
    server = serve(demo_tables(demo_as_of()), DEMO_CREDENTIALS, faults=Faults(delay=0.25))
    source = {
        "SCORECARD_SOURCES": "servicenow",
        "SERVICENOW_INSTANCE_URL": server.url,
        "SERVICENOW_USERNAME": DEMO_CREDENTIALS.username,
        "SERVICENOW_PASSWORD": DEMO_CREDENTIALS.password,
        "SERVICENOW_PAGE_SIZE": "250",
    }
    home = make_dagster_home(tmp_path / "dagster")
    crashed = tmp_path / "crashed" / "warehouse.duckdb"
    try:
        killed = subprocess.Popen(
            dg_command("launch", "--job", "nightly_scorecard"),
            cwd=REPO,
            env=user_environment(home, SCORECARD_WAREHOUSE=str(crashed), **source),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while server.requests < 8 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.1)
        assert killed.poll() is None, "the run ended before it could be killed"
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
        server.faults.delay = 0

        working = crashed.with_name("warehouse.work.duckdb")
        landed_before_the_kill = raw_servicenow_rows(working)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            (dead_run,) = instance.get_runs()
            assert dead_run.status == dg.DagsterRunStatus.STARTED

        launch_nightly_job(
            dagster_home=home, timeout=300, SCORECARD_WAREHOUSE=str(crashed), **source
        )
        uninterrupted = tmp_path / "uninterrupted" / "warehouse.duckdb"
        launch_nightly_job(SCORECARD_WAREHOUSE=str(uninterrupted), **source)
    finally:
        server.stop()

    # The kill came mid-ingest: some raw records had landed, not all.
    assert 0 < landed_before_the_kill < raw_servicenow_rows(uninterrupted)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        dead = instance.get_run_by_id(dead_run.run_id)
        assert dead.status == dg.DagsterRunStatus.FAILURE
        failure = instance.get_records_for_run(
            dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records[0]
        assert f"its process {killed.pid} on " in failure.event_log_entry.dagster_event.message
        statuses = sorted(run.status.value for run in instance.get_runs())
    assert statuses == ["FAILURE", "SUCCESS"]
    # Run history lives in the DAGSTER_HOME it was launched with, not in the working directory.
    assert (home / "storage").is_dir()

    with duckdb.connect(str(crashed), read_only=True) as con:
        counts = {
            t: con.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0] for t in CORE_TABLES
        }
    assert all(counts[t] > 0 for t in CORE_TABLES), counts
    for table in CORE_TABLES:
        assert differing_rows(crashed, uninterrupted, table) == 0, table


def test_a_run_that_dies_while_the_demo_starts_has_already_recorded_its_process(
    tmp_path, monkeypatch
):
    """The demo's emulators take seconds to start (on the first read); a run killed then must
    still be found dead."""

    @contextmanager
    def dies_while_starting(workdir):
        raise RuntimeError("killed while the emulators start")
        yield {}

    monkeypatch.setattr(demo, "running_demo", dies_while_starting)

    @dg.asset
    def reads_sources(sources: SourcesResource, warehouse: WarehouseResource) -> None:
        sources.open("servicenow")

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [reads_sources],
            instance=instance,
            resources={
                "sources": SourcesResource(demo=True, demo_workdir=str(tmp_path / "demo")),
                "warehouse": WarehouseResource(published_path=str(tmp_path / "w.duckdb")),
            },
            raise_on_error=False,
        )
        run = instance.get_run_by_id(result.run_id)
    assert not result.success
    assert run.tags.get(PROCESS_TAG) == process_identity(os.getpid())
    assert HOST_TAG in run.tags
