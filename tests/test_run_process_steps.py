"""A run whose steps run in processes of their own (Dagster's multiprocess executor, used by an
ad-hoc materialisation from the UI) stays alive after one step's process ends.

Every step claims the run for the dead-run check (pipelines/recovery.py). Were a step to record
its own process, the run would read as dead once that step ended while another still ran.
"""

import json
import os
import time
from pathlib import Path

import dagster as dg

from pipelines.recovery import PROCESS_TAG, fail_runs_whose_process_died
from pipelines.resources import WarehouseResource
from warehouse.processes import is_running, process_identity

FOLDER = "SCORECARD_TEST_STEP_FOLDER"


@dg.asset
def short_step(warehouse: WarehouseResource) -> None:
    warehouse.get()
    (Path(os.environ[FOLDER]) / "short_step").write_text(process_identity(os.getpid()))


@dg.asset
def long_step(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
    """Wait until short_step's process is gone, then run the dead-run check on this run."""
    folder = Path(os.environ[FOLDER])
    deadline = time.monotonic() + 60
    short = folder / "short_step"
    while time.monotonic() < deadline:
        if short.exists() and not is_running(short.read_text()):
            break
        time.sleep(0.1)
    failed = fail_runs_whose_process_died(context.instance, "the test")
    run = context.instance.get_run_by_id(context.run_id)
    seen = {
        "short_step": short.read_text() if short.exists() else None,
        "long_step": process_identity(os.getpid()),
        "tag": run.tags.get(PROCESS_TAG),
        "failed": failed,
        "status": run.status.value,
    }
    (folder / "seen.json").write_text(json.dumps(seen))


def steps_job() -> dg.JobDefinition:
    warehouse = WarehouseResource(published_path=str(Path(os.environ[FOLDER]) / "wh.duckdb"))
    return dg.Definitions(
        assets=[short_step, long_step],
        resources={"warehouse": warehouse},
        jobs=[dg.define_asset_job("steps", selection="*")],  # the multiprocess executor
    ).resolve_job_def("steps")


def test_a_run_lives_on_when_one_of_its_step_processes_ends(tmp_path, monkeypatch):
    monkeypatch.setenv(FOLDER, str(tmp_path))
    with dg.execute_job(
        dg.build_reconstructable_job("tests.test_run_process_steps", "steps_job"),
        instance=dg.DagsterInstance.get(),  # the tests' own DAGSTER_HOME
    ) as result:
        assert result.success
    seen = json.loads((tmp_path / "seen.json").read_text())
    # Both steps ran in processes of their own, and the short one had ended.
    assert seen["short_step"] and not is_running(seen["short_step"])
    assert seen["long_step"] != seen["short_step"]
    # The run is tagged with the process that runs it (this test's), not with a step's.
    assert seen["tag"] == process_identity(os.getpid())
    assert seen["failed"] == []
    assert seen["status"] == "STARTED"
