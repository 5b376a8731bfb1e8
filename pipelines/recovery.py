"""Runs whose process died (out-of-memory killer, reboot, SIGKILL) are marked failed, not waited on.

Dagster's default run launcher cannot tell that a run worker died, and a `dg launch` run has no
launcher at all, so each run records its process on itself and every later run (and the daemon's
`scorecard_dead_run_check` sensor) fails the runs of this host whose process is gone. Marking them
failed also frees any pool slot they held and lets the failure alert report them.
"""

from __future__ import annotations

import multiprocessing
import os
import socket

import dagster as dg

from warehouse.processes import is_running, process_identity

HOST_TAG = "scorecard/host"
PROCESS_TAG = "scorecard/process"
# The run that recorded the process: a re-executed run (run retries, the UI's "Re-execute")
# starts with a copy of its parent's tags, whose process is gone while the new run lives.
PROCESS_RUN_TAG = "scorecard/process_run"
UNFINISHED = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def run_worker_pid() -> int:
    """The process that runs the run: this one, or the run worker that started this step.

    Dagster's multiprocess executor runs each step in a child process the run worker starts; a
    step's process ends with its step while the run goes on, so it cannot stand for the run.
    """
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid is not None else os.getpid()


def record_run_process(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag the run with this host and its run worker, so another run can tell whether it lives."""
    instance.add_run_tags(
        run_id,
        {
            HOST_TAG: socket.gethostname(),
            PROCESS_TAG: process_identity(run_worker_pid()),
            PROCESS_RUN_TAG: run_id,
        },
    )


def fail_runs_whose_process_died(instance: dg.DagsterInstance, found_by: str) -> list[str]:
    """Mark failed every unfinished run of this host whose process no longer exists."""
    host = socket.gethostname()
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: host})
    )
    failed = []
    for record in records:
        run = record.dagster_run
        identity = run.tags.get(PROCESS_TAG, "")
        if not identity or run.tags.get(PROCESS_RUN_TAG) != run.run_id or is_running(identity):
            continue  # not recorded yet (or only its parent's), or alive
        pid = identity.split(":")[0]
        instance.report_run_failed(
            run,
            f"Run {run.run_id} stopped without finishing: its process {pid} on {host} is gone "
            f"(killed, out of memory or a reboot). Found by {found_by}.",
        )
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


def dead_run_sensor() -> dg.SensorDefinition:
    """Where the daemon runs, a crashed run is failed within a minute, before the next launch."""

    @dg.sensor(
        name="scorecard_dead_run_check",
        description="Marks failed the runs of this host whose process died.",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _check(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        failed = fail_runs_whose_process_died(context.instance, "the daemon's dead-run check")
        if failed:
            context.log.warning(f"marked failed, their process died: {', '.join(failed)}")
        return dg.SkipReason(f"{len(failed)} dead run(s) marked failed")

    return _check
