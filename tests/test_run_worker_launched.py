"""A run launched through a code server (the daemon's schedule, the UI, `dagster job launch`) is
known by its run worker, not by the code server that started it.

A code server starts each run in a child process of its own and outlives it. Were the run to
record the server, a killed run worker would read as alive, and a run stopping itself at its time
limit would kill the server while it went on writing.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from pipelines.recovery import PROCESS_TAG, run_worker_pid
from pipelines.resources import WarehouseResource
from tests.conftest import REPO, user_environment
from warehouse.processes import process_identity

FOLDER = "SCORECARD_TEST_LAUNCH_FOLDER"


@dg.asset
def step(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
    warehouse.get()
    run = context.instance.get_run_by_id(context.run_id)
    seen = {
        "step": process_identity(os.getpid()),
        "parent": process_identity(os.getppid()),
        "run_worker": process_identity(run_worker_pid()),
        "tag": run.tags.get(PROCESS_TAG),
    }
    (Path(os.environ[FOLDER]) / "seen.json").write_text(json.dumps(seen))


defs = dg.Definitions(
    assets=[step],
    resources={
        "warehouse": WarehouseResource(
            published_path=str(Path(os.environ.get(FOLDER, ".")) / "wh.duckdb")
        )
    },
    jobs=[dg.define_asset_job("launched", selection="*", executor_def=dg.in_process_executor)],
)


def test_a_run_launched_through_a_code_server_records_its_run_worker(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    # Launched at once by the default launcher: the code server starts the run worker.
    (home / "dagster.yaml").write_text(
        "telemetry: {enabled: false}\n"
        "run_coordinator:\n"
        "  module: dagster._core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"
    )
    env = user_environment(home, **{FOLDER: str(tmp_path)})
    launched = subprocess.run(
        ["dagster", "job", "launch", "-m", "tests.test_run_worker_launched", "-j", "launched"],
        cwd=REPO,
        env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    seen_file = tmp_path / "seen.json"
    deadline = time.monotonic() + 120
    while not seen_file.exists():
        assert time.monotonic() < deadline, "the launched run never ran its step"
        time.sleep(0.2)
    seen = json.loads(seen_file.read_text())
    # The step ran in the run worker, a child of the code server.
    assert seen["parent"] != seen["step"]
    assert seen["run_worker"] == seen["step"]
    assert seen["tag"] == seen["step"]
