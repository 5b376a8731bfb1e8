"""One writer per warehouse file: a waiting writer names the holder, and a killed holder frees it."""

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from warehouse import Warehouse
from warehouse.writer_lock import current_holder, writer_lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from warehouse import Warehouse
    warehouse = Warehouse.at(sys.argv[1], holder="run holder-run-1")
    with warehouse.connect() as con:
        con.execute("CREATE TABLE IF NOT EXISTS raw.held AS SELECT 1 AS x")
        print("holding", flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def holder(warehouse: Warehouse):
    """Another process holding the writer lock of `warehouse`, until the test kills it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse.published_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
        start_new_session=True,
    )
    assert process.stdout.readline().strip() == "holding"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_waiting_writer_names_the_holder_and_a_killed_holder_frees_the_lock(
    warehouse, holder, caplog
):
    caplog.set_level(logging.INFO, logger="warehouse.writer_lock")
    assert current_holder(warehouse.working_path)["holder"] == "run holder-run-1"

    def kill_holder_soon():
        time.sleep(1.5)
        os.killpg(holder.pid, signal.SIGKILL)

    threading.Thread(target=kill_holder_soon, daemon=True).start()
    started = time.monotonic()
    with writer_lock(warehouse.working_path, "run waiting-run-2", report_every=0.5):
        waited = time.monotonic() - started
        assert current_holder(warehouse.working_path)["holder"] == "run waiting-run-2"

    # SIGKILL gives the holder no chance to clean up; the kernel released its lock.
    assert 1.0 < waited < 10
    waiting = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    # Reported at once and then every report_every (0.5 s) over about 1.5 s of waiting.
    assert len(waiting) >= 2
    assert f"held by run holder-run-1 (pid {holder.pid} on " in waiting[0]
    assert "since 20" in waiting[0]
    with warehouse.connect() as con:
        assert con.execute("SELECT x FROM raw.held").fetchall() == [(1,)]


def test_the_same_process_reenters_its_own_lock(warehouse):
    with warehouse.connect() as outer, warehouse.connect() as inner:
        inner.execute("CREATE TABLE raw.nested AS SELECT 1 AS x")
        assert outer.execute("SELECT count(*) FROM raw.nested").fetchone()[0] == 1


def test_two_warehouses_never_wait_on_each_other(tmp_path, holder, warehouse):
    other = Warehouse.at(tmp_path / "other" / "warehouse.duckdb")
    started = time.monotonic()
    with other.connect() as con:
        con.execute("SELECT 1")
    assert time.monotonic() - started < 5
