"""A run re-executed from another (Dagster's run retries after a crash, "Re-execute" in the UI)
starts with a copy of its parent's tags, the process the parent ran in among them. That process
is gone, yet the new run is alive: the dead-run check must not fail it, nor must it fail itself.
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster._core.execution.api import execute_run
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy

from pipelines.recovery import PROCESS_TAG, fail_runs_whose_process_died
from pipelines.resources import WarehouseResource
from tests.conftest import REPO
from tests.reexecution import reexecuted_run
from warehouse.processes import is_running, process_identity

FOLDER = "SCORECARD_TEST_REEXECUTION_FOLDER"


@dg.asset
def claims_the_warehouse(warehouse: WarehouseResource) -> None:
    warehouse.get()


def claims_job() -> dg.JobDefinition:
    return reexecution_defs().resolve_job_def("claims")


def reexecution_defs() -> dg.Definitions:
    folder = Path(os.environ.get(FOLDER, "unused"))
    warehouse = WarehouseResource(published_path=str(folder / "wh.duckdb"))
    return dg.Definitions(
        assets=[claims_the_warehouse],
        resources={"warehouse": warehouse},
        jobs=[dg.define_asset_job("claims", selection="*", executor_def=dg.in_process_executor)],
    )


# What the code location serves (no file is touched until a run executes).
defs = reexecution_defs()


def test_a_run_reexecuted_after_its_parents_process_died_is_not_failed_as_dead(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(FOLDER, str(tmp_path))
    # The parent run, in a process of its own that has ended since.
    parent = subprocess.run(
        [
            sys.executable,
            "-c",
            "import dagster as dg\n"
            "with dg.execute_job(dg.build_reconstructable_job("
            "'tests.test_run_reexecution', 'claims_job'), instance=dg.DagsterInstance.get()) as r:\n"
            "    assert r.success\n"
            "    print(r.run_id)",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert parent.returncode == 0, parent.stderr[-3000:]
    parent_id = parent.stdout.split()[-1]
    instance = dg.DagsterInstance.get()
    parent_run = instance.get_run_by_id(parent_id)
    assert not is_running(parent_run.tags[PROCESS_TAG])

    # Re-executed as Dagster's run retries and the UI's "Re-execute" do: with the parent's tags.
    child = reexecuted_run(instance, parent_run, __file__, "claims", ReexecutionStrategy.ALL_STEPS)
    assert child.tags[PROCESS_TAG] == parent_run.tags[PROCESS_TAG]
    # Between its launch and its first step, the daemon's dead-run check looks at it.
    instance.handle_run_event(
        child.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_STARTING.value, job_name=child.job_name
        ),
    )
    assert fail_runs_whose_process_died(instance, "the test") == []

    result = execute_run(
        dg.build_reconstructable_job("tests.test_run_reexecution", "claims_job"), child, instance
    )
    assert result.success
    finished = instance.get_run_by_id(child.run_id)
    assert finished.status == dg.DagsterRunStatus.SUCCESS
    assert finished.tags[PROCESS_TAG] == process_identity(os.getpid())
    assert not instance.get_records_for_run(
        child.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
    ).records
