"""A source that returns a million records in one day: memory and time stay bounded.

At small scale the burst is 20,000 records all in one second, the hardest case for paging.

Keyset paging on (sys_updated_on, sys_id) moves through records sharing one timestamp by sys_id,
so every record is read once, and a page at a time is all the loader holds. The loading process
reports its own peak RSS (getrusage), which must stay far below the data's size.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import duckdb
import pytest

from connectors.emulators.servicenow import serve
from connectors.emulators.servicenow_bulk import CREDENTIALS, bulk_tables
from tests.conftest import REPO
from tests.faults.processes import loader_env
from tests.faults.scale import fault_scale

pytestmark = pytest.mark.faults


def test_a_burst_of_records_is_read_once_each_in_bounded_memory_and_time(tmp_path):
    scale = fault_scale()
    count = scale.burst_records
    tables = bulk_tables(count)
    # Records from 2024-01-01 00:00:00 on, this many sharing each second.
    per_second = math.ceil(count / scale.burst_seconds)
    tables["incident"].per_second = per_second
    server = serve(tables, CREDENTIALS)
    env = {
        **loader_env(server.url, 10_000),
        "SERVICENOW_USERNAME": CREDENTIALS.username,
        "SERVICENOW_PASSWORD": CREDENTIALS.password,
    }
    warehouse = tmp_path / "warehouse.duckdb"
    started = time.monotonic()
    try:
        loaded = subprocess.run(
            [sys.executable, "-m", "tests.faults.loader", str(warehouse)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    finally:
        server.stop()
    seconds = time.monotonic() - started
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    figures = json.loads(loaded.stdout.strip().splitlines()[-1].removeprefix("done "))
    print(
        f"{count} records, {per_second} a second: {seconds:.1f} s, "
        f"{count / seconds:.0f} rec/s, loader peak RSS "
        f"{figures['peak_rss_mb']:.0f} MB, loader CPU {figures['cpu_seconds']:.1f} s"
    )

    with duckdb.connect(str(warehouse.with_name("warehouse.work.duckdb")), read_only=True) as con:
        rows, keys, seconds_seen = con.execute(
            "SELECT count(*), count(DISTINCT record_key), count(DISTINCT record_version) "
            "FROM raw.servicenow_incident"
        ).fetchone()
    # Every record once: as many rows as records, all of them distinct, over the burst's seconds.
    assert figures["records"] == rows == keys == count
    assert seconds_seen == math.ceil(count / per_second)
    # About 1.5 KB a record on the wire: holding them all would pass this bound many times over
    # at full scale; the pages in flight (10,000 records each), plus DuckDB's cache, do not.
    assert figures["peak_rss_mb"] < scale.loader_rss_limit_mb
    # The loader's own work, not the emulator's (which rescans the second for every page): a
    # loader that re-read records or slowed with the table would pass this bound quickly.
    assert figures["cpu_seconds"] < 20 + count / 1000
