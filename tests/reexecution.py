"""Re-executing a run as Dagster's run retries and the UI's "Re-execute" do: a new run made from
the parent with its tags, in a workspace loaded from a test module's `defs`."""

import dagster as dg
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from tests.conftest import REPO


def reexecuted_run(
    instance: dg.DagsterInstance,
    parent: dg.DagsterRun,
    module_file: str,
    job_name: str,
    strategy: ReexecutionStrategy,
) -> dg.DagsterRun:
    """The child run of `parent`, created (not yet executed) from `defs` of `module_file`."""
    origin = LoadableTargetOrigin(
        python_file=module_file, attribute="defs", working_directory=str(REPO)
    )
    with in_process_test_workspace(instance, origin) as workspace:
        location = workspace.code_locations[0]
        repository = next(iter(location.get_repositories().values()))
        return instance.create_reexecuted_run(
            parent_run=parent,
            request_context=workspace,
            code_location=location,
            remote_job=repository.get_full_job(job_name),
            strategy=strategy,
            use_parent_run_tags=True,
        )
