"""Runs whose process died (out-of-memory killer, reboot, SIGKILL) are marked failed, not waited on.

Dagster's default run launcher cannot tell that a run worker died, and a `dg launch` run has no
launcher at all, so each run records its process on itself and every later run (and the daemon's
`scorecard_dead_run_check` sensor) fails the runs of this host whose process is gone. A run of
another host (a container recreated with a new hostname) cannot be asked about its process, so a
live run also records the time every minute: one that neither recorded it nor logged for ten
minutes is failed, as is a run that died before it recorded its process (killed in its first
second) once it logged nothing for ten minutes. Marking them failed also frees any pool slot they
held and lets the failure alert report them.

A run that lives on when it should not, past its time limit or still going after being asked to
stop, kills itself, for the same reason: the run queue and the writer lock must come free.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime

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
# A live run says so every BEAT_SECONDS (and logs); one that neither said so nor logged for
# STALE_AFTER_SECONDS is dead, also when it never recorded its process (which a run does within
# seconds of its start). Generous, so a busy host or clocks a little apart never fail a live run.
ALIVE_TAG = "scorecard/alive_at"
BEAT_SECONDS = 60.0
STALE_AFTER_SECONDS = 600.0
MISSED_BEATS = 5
# Dagster's run time limit (seconds), which the nightly job sets from schedule.max_runtime_hours.
# The daemon's run monitoring enforces it where a daemon runs, by asking the run to stop; the run
# enforces it on itself everywhere (`dg launch` has no daemon, and a launcher may be unable to stop
# its worker). An interrupt is no way to stop it: the ingest steps' retry policy retries an
# interrupted read. So a run past its limit, not being stopped already, is marked failed and its
# process killed, as a run killed at any point is recovered (no write is left half-done, the next
# run resumes from the stored cursors); one asked to stop that is still going STOP_GRACE_SECONDS
# later is killed too. The run slot and the warehouse's writer lock then come free.
MAX_RUNTIME_TAG = "dagster/max_runtime"
MAX_RETRIES_TAG = "dagster/max_retries"
STOP_GRACE_SECONDS = 120.0
OVER_TIME = "exceeded its maximum runtime"
_beating: set[str] = set()
_beating_guard = threading.Lock()


# What Dagster's multiprocess executor runs in each step's process.
STEP_PROCESS_TARGET = "_execute_command_in_child_process"


def run_worker_pid() -> int:
    """The process that runs the run: this one, or the run worker that started this step.

    Dagster's multiprocess executor runs each step in a child process the run worker starts; a
    step's process ends with its step while the run goes on, so it cannot stand for the run. A
    run worker is a child process too when a code server launched it (the daemon's schedule, the
    UI): that server outlives the run, so its parent cannot stand for the run either.
    """
    parent = multiprocessing.parent_process()
    target = getattr(multiprocessing.current_process(), "_target", None)
    if (
        parent is None
        or parent.pid is None
        or getattr(target, "__name__", "") != STEP_PROCESS_TARGET
    ):
        return os.getpid()
    return parent.pid


def record_run_process(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag the run with this host and its run worker, so another run can tell whether it lives."""
    instance.add_run_tags(
        run_id,
        {
            HOST_TAG: socket.gethostname(),
            PROCESS_TAG: process_identity(run_worker_pid()),
            PROCESS_RUN_TAG: run_id,
            ALIVE_TAG: _now(),
        },
    )
    with _beating_guard:
        if run_id in _beating:
            return
        _beating.add(run_id)
    threading.Thread(
        target=_beat, args=(instance, run_id), name=f"alive {run_id[:8]}", daemon=True
    ).start()
    threading.Thread(
        target=_stop_when_over_time,
        args=(instance, run_id),
        name=f"time limit {run_id[:8]}",
        daemon=True,
    ).start()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _beat(instance: dg.DagsterInstance, run_id: str) -> None:
    """Record the time on the run every BEAT_SECONDS while it is unfinished and this process
    lives. A storage hiccup skips a beat; storage gone for good (a closed instance) ends it.

    A run asked to stop (Terminate in the UI) that is still going STOP_GRACE_SECONDS later is
    killed: an ingest step's retry policy retries a read the request interrupted, so the run
    would otherwise go on, and hold the writer lock, after Dagster has marked it canceled."""
    failures, asked_at = 0, None
    try:
        while failures < MISSED_BEATS:
            time.sleep(BEAT_SECONDS)
            try:
                run = instance.get_run_by_id(run_id)
                if run is None or run.status not in UNFINISHED:
                    return
                if run.status != dg.DagsterRunStatus.CANCELING:
                    asked_at = None
                elif asked_at is None:
                    asked_at = time.monotonic()
                elif time.monotonic() - asked_at >= STOP_GRACE_SECONDS:
                    _kill(
                        instance,
                        run_id,
                        f"Run was asked to stop and was still going {STOP_GRACE_SECONDS:.0f} s "
                        "later",
                    )
                instance.add_run_tags(run_id, {ALIVE_TAG: _now()})
                failures = 0
            except Exception:
                failures += 1
    finally:
        with _beating_guard:
            _beating.discard(run_id)


def _stop_when_over_time(instance: dg.DagsterInstance, run_id: str) -> None:
    """Fail and kill this run once it has run longer than its MAX_RUNTIME_TAG.

    The daemon's run monitoring may have got there first: it asks the run to stop and may mark it
    failed while its process goes on (with the writer lock). A process still here
    STOP_GRACE_SECONDS later is killed all the same.
    """
    record = instance.get_run_record_by_id(run_id)
    if record is None or not (limit := _limit_seconds(record.dagster_run)):
        return
    time.sleep(max(0.0, (record.start_time or time.time()) + limit - time.time()))
    run = instance.get_run_by_id(run_id)
    if run is None or run.status == dg.DagsterRunStatus.SUCCESS:
        return
    over = f"Run {OVER_TIME} of {limit:.0f} s ({MAX_RUNTIME_TAG}, from schedule.max_runtime_hours)"
    if steps := [s.step_key for s in instance.get_run_step_stats(run_id) if s.end_time is None]:
        over += f" in step {', '.join(steps)}"
    if run.status not in (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED):
        time.sleep(STOP_GRACE_SECONDS)
        run = instance.get_run_by_id(run_id)
        if run is None or run.status == dg.DagsterRunStatus.SUCCESS:
            return
        over += f" and did not stop within {STOP_GRACE_SECONDS:.0f} s of being asked to"
    # Not re-run by Dagster's run retries: a source that hung would hang again, holding the
    # queue for another whole limit; the next scheduled run resumes from the stored cursors.
    instance.add_run_tags(run_id, {MAX_RETRIES_TAG: "0"})
    _kill(instance, run_id, over, failed=True)


def _kill(instance: dg.DagsterInstance, run_id: str, why: str, failed: bool = False) -> None:
    """Say why on the run (failed, or canceled as asked, unless it has ended) and kill its
    worker, as a run killed at any point is recovered."""
    pid = run_worker_pid()
    message = (
        f"{why}: its process {pid} on {socket.gethostname()} is killed. Nothing it left "
        "unfinished is kept; the next run resumes from the stored cursors."
    )
    run = instance.get_run_by_id(run_id)
    if run is None:
        pass
    elif run.status not in UNFINISHED:
        instance.report_engine_event(message, run)
    elif failed:
        instance.report_run_failed(run, message)
    else:
        instance.report_run_canceled(run, message)
    os.kill(pid, signal.SIGKILL)


def over_time(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """How the run went over its time limit, if it was stopped for that."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        message = record.dagster_event.message if record.dagster_event else None
        if message and OVER_TIME in message:
            return "run " + message.removeprefix("Run ").split(": its process")[0]
    return None


def _limit_seconds(run: dg.DagsterRun) -> float | None:
    try:
        limit = float(run.tags.get(MAX_RUNTIME_TAG) or 0)
    except ValueError:
        return None
    return limit if limit > 0 else None


def fail_runs_whose_process_died(instance: dg.DagsterInstance, found_by: str) -> list[str]:
    """Mark failed every unfinished run whose process no longer exists: on this host, one whose
    process is gone; on another, one silent for STALE_AFTER_SECONDS; anywhere, one that never
    recorded its process and logged nothing for that long."""
    host = socket.gethostname()
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED))
    failed = []
    for record in records:
        run = record.dagster_run
        if reason := _why_dead(instance, record, host):
            instance.report_run_failed(
                run,
                f"Run {run.run_id} stopped without finishing: {reason} (killed, out of memory, "
                f"a reboot or a replaced host). Found by {found_by}.",
            )
            if instance.event_log_storage.supports_global_concurrency_limits:
                instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            failed.append(run.run_id)
    return failed


def _why_dead(instance: dg.DagsterInstance, record: dg.RunRecord, host: str) -> str | None:
    """Why the run is dead, or None while it may live."""
    run = record.dagster_run
    identity = run.tags.get(PROCESS_TAG, "")
    if not identity or run.tags.get(PROCESS_RUN_TAG) != run.run_id:
        # Not recorded yet, or only its parent's (a re-executed run starts with its tags). A
        # STARTING run is Dagster's run monitoring's (start_timeout_seconds).
        if run.status == dg.DagsterRunStatus.STARTING or not record.start_time:
            return None
        silent = _silent_for(instance, run.run_id, record.start_time)
        if silent < STALE_AFTER_SECONDS:
            return None
        return f"it never recorded its process, and logged nothing for {_minutes(silent)}"
    pid, run_host = identity.split(":")[0], run.tags.get(HOST_TAG)
    if run_host == host:
        return None if is_running(identity) else f"its process {pid} on {host} is gone"
    alive_at = run.tags.get(ALIVE_TAG)
    if not alive_at:
        return None  # recorded before runs said they were alive: only its host can tell
    silent = _silent_for(instance, run.run_id, datetime.fromisoformat(alive_at).timestamp())
    if silent < STALE_AFTER_SECONDS:
        return None
    return f"its process {pid} on {run_host} was last alive {_minutes(silent)} ago"


def _silent_for(instance: dg.DagsterInstance, run_id: str, alive_at: float) -> float:
    """Seconds since the run last showed it lived: `alive_at` or its latest event, if later."""
    latest = instance.get_records_for_run(run_id, limit=1, ascending=False).records
    logged = latest[0].event_log_entry.timestamp if latest else 0.0
    return time.time() - max(alive_at, logged)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} seconds" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def dead_run_sensor() -> dg.SensorDefinition:
    """Where the daemon runs, a crashed run is failed within a minute, before the next launch."""

    @dg.sensor(
        name="scorecard_dead_run_check",
        description="Marks failed the runs whose process died.",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _check(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        failed = fail_runs_whose_process_died(context.instance, "the daemon's dead-run check")
        if failed:
            context.log.warning(f"marked failed, their process died: {', '.join(failed)}")
        return dg.SkipReason(f"{len(failed)} dead run(s) marked failed")

    return _check
