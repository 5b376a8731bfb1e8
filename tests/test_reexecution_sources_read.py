"""Re-executing a night "from failure" after a source was not read.

The source's ingest step succeeded (it reported the source not read through its read check), so
Dagster's "from failure" re-executes only the last step, scorecard/sources_read. That step must
still fail naming the source: nothing in the re-executed run read it again. A re-execution of
every step reads the source anew and passes once the source can be read.
"""

import os
from pathlib import Path

import dagster as dg
from dagster._core.execution.api import execute_run
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy

from pipelines.ingest import ingest_asset, raw_key
from pipelines.outcome import sources_read_asset
from pipelines.resources import SourcesResource, WarehouseResource
from tests.conftest import SHARED_DATA
from tests.reexecution import reexecuted_run

FOLDER = "SCORECARD_TEST_SOURCES_READ_FOLDER"
NOT_FOCUS = "lineItem/UsageStartDate,lineItem/UnblendedCost\n2026-10-01T00:00:00Z,12.50\n"


def night_defs() -> dg.Definitions:
    folder = Path(os.environ.get(FOLDER, "unused"))
    return dg.Definitions(
        assets=[ingest_asset("focus"), sources_read_asset([raw_key("focus")])],
        resources={
            "warehouse": WarehouseResource(published_path=str(folder / "warehouse.duckdb")),
            "sources": SourcesResource(),
        },
        jobs=[dg.define_asset_job("night", selection="*", executor_def=dg.in_process_executor)],
    )


def night_job() -> dg.JobDefinition:
    return night_defs().resolve_job_def("night")


defs = night_defs()
JOB = dg.build_reconstructable_job("tests.test_reexecution_sources_read", "night_job")


def reexecute(
    instance: dg.DagsterInstance, parent: dg.DagsterRun, strategy: ReexecutionStrategy
) -> tuple[dg.DagsterRun, bool]:
    """Re-execute `parent` as the UI's "Re-execute" does; the new run and whether it succeeded."""
    child = reexecuted_run(instance, parent, __file__, "night", strategy)
    result = execute_run(JOB, child, instance)
    return instance.get_run_by_id(child.run_id), result.success


def failure_message(instance: dg.DagsterInstance, run_id: str, step: str) -> str:
    (failure,) = [
        record.event_log_entry.dagster_event
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_FAILURE
        ).records
        if record.event_log_entry.step_key == step
    ]
    return failure.event_specific_data.error_display_string


def test_a_reexecution_from_failure_still_fails_naming_the_source_it_did_not_read(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(FOLDER, str(tmp_path))
    export = tmp_path / "costs.csv"
    export.write_text(NOT_FOCUS)
    monkeypatch.setenv("FOCUS_PATHS", str(export))
    instance = dg.DagsterInstance.get()
    with dg.execute_job(JOB, instance=instance, raise_on_error=False) as night:
        assert not night.success
        parent = instance.get_run_by_id(night.run_id)
    cause = f"focus: {export} is not a FOCUS export"
    assert cause in failure_message(instance, parent.run_id, "scorecard__sources_read")

    # The file is still the wrong one; "from failure" runs only the last step, which says so.
    child, succeeded = reexecute(instance, parent, ReexecutionStrategy.FROM_FAILURE)
    assert child.step_keys_to_execute == ["scorecard__sources_read"]
    assert not succeeded
    message = failure_message(instance, child.run_id, "scorecard__sources_read")
    assert cause in message
    assert f"not read again since run {parent.run_id}" in message

    # Re-executed again from that failure: still the same source, from the first night.
    grandchild, succeeded = reexecute(instance, child, ReexecutionStrategy.FROM_FAILURE)
    assert not succeeded
    message = failure_message(instance, grandchild.run_id, "scorecard__sources_read")
    assert cause in message
    assert f"not read again since run {parent.run_id}" in message

    # The export fixed, a re-execution of every step reads it and the night passes.
    export.write_bytes((SHARED_DATA / "focus" / "focus-1.0-sample.csv").read_bytes())
    whole, succeeded = reexecute(instance, grandchild, ReexecutionStrategy.ALL_STEPS)
    assert succeeded
    assert whole.status == dg.DagsterRunStatus.SUCCESS
