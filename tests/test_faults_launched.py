"""Two nightly runs against one warehouse, the first killed mid-ingest: never two writers.

The second run waits for the warehouse writer lock with a log line naming the run that holds
it; the moment that run is SIGKILLed the kernel frees the lock, the second run loads and
publishes, and the published tables equal the instance's records.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest

from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.server import Faults
from connectors.emulators.servicenow import DEMO_CREDENTIALS, serve
from connectors.emulators.servicenow_demo import demo_tables
from tests.conftest import REPO, dg_command, make_dagster_home, user_environment
from tests.faults.ground_truth import (
    differing_core_rows,
    duplicate_ids,
    emulator_versions,
    raw_versions,
    stage_servicenow,
)
from tests.faults.processes import loader_env, run_to_the_end

pytestmark = pytest.mark.faults


def launch(home: Path, log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            dg_command("launch", "--job", "nightly_scorecard"),
            cwd=REPO,
            env=user_environment(home, **env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def test_a_second_run_waits_naming_the_holder_and_completes_once_the_first_is_killed(tmp_path):
    tables = demo_tables(demo_as_of())
    # Slow answers keep the first run in its ingest step while the second one starts.
    server = serve(tables, DEMO_CREDENTIALS, faults=Faults(delay=1.0))
    home = make_dagster_home(tmp_path / "dagster")
    published = tmp_path / "warehouse.duckdb"
    source = {
        "SCORECARD_SOURCES": "servicenow",
        "SCORECARD_WAREHOUSE": str(published),
        "SERVICENOW_INSTANCE_URL": server.url,
        "SERVICENOW_USERNAME": DEMO_CREDENTIALS.username,
        "SERVICENOW_PASSWORD": DEMO_CREDENTIALS.password,
        "SERVICENOW_PAGE_SIZE": "200",
    }
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    reference = tmp_path / "reference" / "warehouse.duckdb"
    first = launch(home, first_log, **source)
    second = None
    try:
        wait_for(lambda: server.requests >= 2, 180, "the first run to start reading")
        second = launch(home, second_log, **source)
        wait_for(
            lambda: b"for the warehouse writer lock" in second_log.read_bytes(),
            180,
            "the second run to wait for the lock",
        )
        assert first.poll() is None, "the first run ended before it could be killed"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        server.faults.delay = 0
        assert second.wait(timeout=300) == 0, second_log.read_text()[-3000:]
        run_to_the_end(reference, loader_env(server.url, 1000))
        truth = emulator_versions(tables)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        server.stop()

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = {run.status.value: run.run_id for run in instance.get_runs()}
    # The waiting run succeeded; the killed one never did (the waiting run marks it failed once
    # it sees its process gone, unless it finished its own start before the kill).
    killed = runs.pop("FAILURE", None) or runs.pop("STARTED", None)
    assert killed is not None and list(runs) == ["SUCCESS"], runs
    waited = [
        line
        for line in second_log.read_text().splitlines()
        if "for the warehouse writer lock" in line
    ]
    assert f"held by run {killed} (pid " in waited[0], waited[0]

    assert raw_versions(published) == truth
    stage_servicenow(reference)
    reference_working = reference.with_name("warehouse.work.duckdb")
    assert duplicate_ids(published) == dict.fromkeys(duplicate_ids(published), 0)
    differences = differing_core_rows(published, reference_working)
    assert differences == dict.fromkeys(differences, 0)
