"""SIGKILL the ServiceNow load at 20 seeded points, then finish it: nothing lost or duplicated.

Each kill point is (pages landed, then seconds more), so kills fall between pages, inside a
page's HTTP read and inside its landing transaction. The emulator throttles, fails, drops
connections, cuts answers short, changes records while they are paged and deletes some between
kills; after one clean run the warehouse must equal the instance. A failure prints the seed and
the points; SCORECARD_FAULT_SEED replays them.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest

from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.server import Faults
from connectors.emulators.servicenow import DEMO_CREDENTIALS, Churn, serve
from connectors.emulators.servicenow_demo import demo_tables
from tests.faults.ground_truth import (
    differing_core_rows,
    duplicate_ids,
    emulator_versions,
    raw_versions,
    stage_servicenow,
)
from tests.faults.processes import loader_env, run_to_the_end, start_loader
from tests.faults.scale import fault_scale

pytestmark = pytest.mark.faults

KILLS = 20
DEFAULT_SEED = 1313


def kill_points(seed: int, count: int = KILLS) -> list[tuple[int, float]]:
    """(pages to let land, then seconds to wait) before each SIGKILL."""
    rng = random.Random(seed)
    return [(rng.randint(0, 8), round(rng.uniform(0.0, 0.03), 4)) for _ in range(count)]


def kill_after(process: subprocess.Popen[str], pages: int, seconds: float) -> str:
    """SIGKILL the loader once `pages` pages have landed plus `seconds`; says where it was."""
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    landed = 0
    while landed < pages:
        line = process.stdout.readline()
        if not line or line.startswith("done"):
            process.wait()
            return "finished before the kill"
        landed += 1
    if seconds:
        time.sleep(seconds)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return f"killed after {landed} pages + {seconds}s"


def test_twenty_kills_then_one_clean_run_leave_exactly_the_instances_records(tmp_path):
    seed = int(os.environ.get("SCORECARD_FAULT_SEED", DEFAULT_SEED))
    points = kill_points(seed)
    print(f"kill seed {seed} (SCORECARD_FAULT_SEED), points (pages, seconds): {points}")
    tables = demo_tables(demo_as_of())
    faults = Faults(
        throttle_every=17, error_every=13, drop_every=29, truncate_every=23, retry_after=0.01
    )
    server = serve(tables, DEMO_CREDENTIALS, faults=faults, churn=Churn(3, 2, 40))
    killed = tmp_path / "killed" / "warehouse.duckdb"
    reference = tmp_path / "reference" / "warehouse.duckdb"
    env = loader_env(server.url, fault_scale().kill_page_size)
    outcomes = []
    try:
        for number, (pages, seconds) in enumerate(points, 1):
            outcomes.append(kill_after(start_loader(killed, env), pages, seconds))
            if number == KILLS // 2:
                # Deleted between two kills, with their SLA clocks: the resumed load must remove
                # them too. (Clocks left behind would keep a reference whose display value
                # empties without an update to the clock, which no incremental read can see.)
                for record in list(tables["incident"].scan())[:3]:
                    server.api.delete_record("incident", record["sys_id"], cascade=["task_sla"])
        print("kills:", outcomes)
        # Larger pages for the two complete runs: the kills above needed the small ones.
        whole = {**env, "SERVICENOW_PAGE_SIZE": "1000"}
        run_to_the_end(killed, whole)
        # The instance as that run left it is the truth: records the churn touched after it
        # ended (while the reference loads) are the next night's, so the churn stops here.
        server.faults = Faults()
        server.api.churn = None
        run_to_the_end(reference, whole)
        truth = emulator_versions(tables)
    finally:
        server.stop()

    replay = f"seed {seed}, points {points}, outcomes {outcomes}"
    assert sum(o.startswith("killed") for o in outcomes) >= KILLS // 2, replay
    landed = raw_versions(killed.with_name("warehouse.work.duckdb"))
    for table, versions in truth.items():
        # Same records, each at the instance's latest version: none lost, none extra.
        assert landed[table] == versions, f"raw.servicenow_{table} differs; {replay}"
    assert sum(len(v) for v in truth.values()) > 10_000

    for database in (killed, reference):
        stage_servicenow(database)
    working = killed.with_name("warehouse.work.duckdb")
    reference_working = reference.with_name("warehouse.work.duckdb")
    assert duplicate_ids(working) == dict.fromkeys(duplicate_ids(working), 0), replay
    assert differing_core_rows(working, reference_working) == dict.fromkeys(
        differing_core_rows(working, reference_working), 0
    ), replay
