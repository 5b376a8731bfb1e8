"""A hung nightly run is stopped at schedule.max_runtime_hours, and the next run goes through.

With production's run queue of one, a run that never ends (a source that stops answering
mid-answer, a server frozen under the run) would hold the only run slot and the warehouse's
writer lock night after night. The job carries Dagster's run time limit; the run enforces it on
itself, so it holds with `dg launch` (no daemon) as well as under the daemon.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.server import Faults
from connectors.emulators.servicenow import DEMO_CREDENTIALS, serve
from connectors.emulators.servicenow_demo import demo_tables
from pipelines.alerts import failure_cause
from pipelines.recovery import MAX_RUNTIME_TAG, OVER_TIME
from settings import ConfigError, load_settings
from tests.conftest import REPO, dg_command, make_dagster_home, user_environment


def job_tags(config: Path | None) -> str:
    code = "from pipelines.definitions import nightly_scorecard; print(nightly_scorecard.tags)"
    env = {k: v for k, v in os.environ.items() if k != "SCORECARD_CONFIG"}
    if config is not None:
        env["SCORECARD_CONFIG"] = str(config)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_nightly_job_carries_the_run_time_limit_of_the_settings(tmp_path):
    half_hour, unlimited = tmp_path / "half_hour.yaml", tmp_path / "unlimited.yaml"
    half_hour.write_text("schedule: {max_runtime_hours: 0.5}\n")
    unlimited.write_text("schedule: {max_runtime_hours: null}\n")
    assert job_tags(None) == "{'dagster/max_runtime': '72000'}"
    assert job_tags(half_hour) == "{'dagster/max_runtime': '1800'}"
    assert job_tags(unlimited) == "{}"

    zero = tmp_path / "zero.yaml"
    zero.write_text("schedule: {max_runtime_hours: 0}\n")
    with pytest.raises(ConfigError, match=r"schedule\.max_runtime_hours"):
        load_settings(zero, env={})


def test_a_run_stuck_on_a_source_is_stopped_at_its_limit_and_the_next_run_goes_through(tmp_path):
    # Every answer takes five minutes: without a limit the run would wait out the client's read
    # timeout (120 s) on each of its retries, for an hour and more.
    server = serve(demo_tables(demo_as_of()), DEMO_CREDENTIALS, faults=Faults(delay=300.0))
    home = make_dagster_home(tmp_path / "dagster")
    published = tmp_path / "warehouse.duckdb"
    config = tmp_path / "scorecard.yaml"
    config.write_text("schedule: {max_runtime_hours: 0.005}\n")  # 18 s
    env = user_environment(
        home,
        SCORECARD_CONFIG=str(config),
        SCORECARD_SOURCES="servicenow",
        SCORECARD_WAREHOUSE=str(published),
        SERVICENOW_INSTANCE_URL=server.url,
        SERVICENOW_USERNAME=DEMO_CREDENTIALS.username,
        SERVICENOW_PASSWORD=DEMO_CREDENTIALS.password,
    )
    launch = dg_command("launch", "--job", "nightly_scorecard")
    try:
        started = time.monotonic()
        stuck = subprocess.run(
            launch, cwd=REPO, env=env, capture_output=True, text=True, timeout=600
        )
        stopped_after = time.monotonic() - started
        server.faults.delay = 0
        assert server.requests >= 1
        config.write_text("schedule: {max_runtime_hours: 1}\n")
        after = subprocess.run(
            launch, cwd=REPO, env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        server.faults.delay = 0
        server.stop()

    assert stuck.returncode != 0
    # 18 s from the run's start, plus the launch; far from the client's read timeout.
    assert stopped_after < 60, stopped_after
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        first, second = reversed(instance.get_runs())
        assert first.tags[MAX_RUNTIME_TAG] == "18"
        # Not re-run by the run retries of dagster.yaml: it would hang as long again.
        assert first.tags["dagster/will_retry"] == "false"
        assert (first.status, second.status) == (
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.SUCCESS,
        )
        cause = failure_cause(instance, first.run_id)
    assert cause == (
        f"run {OVER_TIME} of 18 s ({MAX_RUNTIME_TAG}, from schedule.max_runtime_hours) "
        "in step raw__servicenow"
    )
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.incidents").fetchone()[0] > 0


def a_run_process_that_is_killed(
    home: Path, tags: dict[str, str], then: str, beat_seconds: float = 60.0
) -> tuple[str, str, dg.DagsterRunStatus, list[str]]:
    """A run worker (a process that records itself on a started run with `tags`, runs `then`
    and sleeps) that must be killed within a minute: its run id, pid, status and messages.
    STOP_GRACE_SECONDS is 2 s there."""
    script = textwrap.dedent(
        f"""
        import os, time
        import dagster as dg
        from dagster._core.test_utils import create_run_for_test
        from pipelines import recovery

        recovery.STOP_GRACE_SECONDS, recovery.BEAT_SECONDS = 2.0, {beat_seconds!r}
        instance = dg.DagsterInstance.from_config({str(home)!r})
        run = create_run_for_test(instance, job_name="nightly_scorecard", tags={tags!r})
        instance.report_dagster_event(
            dg.DagsterEvent(event_type_value="PIPELINE_START", job_name=run.job_name), run.run_id
        )
        print(run.run_id, os.getpid(), flush=True)
        recovery.record_run_process(instance, run.run_id)
        {then}
        time.sleep(120)
        """
    )
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=user_environment(home),
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert time.monotonic() - started < 60
    run_id, pid = process.stdout.split()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        status = instance.get_run_by_id(run_id).status
        messages = [record.message for record in instance.all_logs(run_id)]
    return run_id, pid, status, messages


def killed(pid: str, why: str) -> str:
    return (
        f"{why}: its process {pid} on {socket.gethostname()} is killed. Nothing it left "
        "unfinished is kept; the next run resumes from the stored cursors."
    )


@pytest.mark.parametrize("asked", ["report_run_canceling", "report_run_failed"])
def test_a_run_asked_to_stop_that_goes_on_is_killed(tmp_path, asked):
    """At the limit the daemon's run monitoring asks the run to stop (CANCELING), and may mark it
    failed although its worker goes on; a process still going STOP_GRACE_SECONDS later, stuck
    where the request cannot reach it, is killed, with the reason on the run."""
    _, pid, status, messages = a_run_process_that_is_killed(
        make_dagster_home(tmp_path / "dagster"),
        {MAX_RUNTIME_TAG: "1"},
        f"instance.{asked}(instance.get_run_by_id(run.run_id), 'the daemon: over time')",
    )
    assert status == dg.DagsterRunStatus.FAILURE
    assert messages[-2:] == [
        "the daemon: over time",
        killed(
            pid,
            f"Run {OVER_TIME} of 1 s ({MAX_RUNTIME_TAG}, from schedule.max_runtime_hours) and "
            "did not stop within 2 s of being asked to",
        ),
    ], messages


def test_a_run_asked_to_stop_without_a_limit_is_killed_once_it_goes_on(tmp_path):
    """Terminate in the UI interrupts the run; a read the interrupt reached is retried by the
    ingest step's retry policy, so the run went on (writer lock and all) after Dagster marked it
    canceled. Still going STOP_GRACE_SECONDS after being asked, it is killed and canceled."""
    _, pid, status, messages = a_run_process_that_is_killed(
        make_dagster_home(tmp_path / "dagster"),
        {},
        "time.sleep(3); "  # not asked yet: it runs on
        "instance.report_run_canceling(instance.get_run_by_id(run.run_id), 'Terminate')",
        beat_seconds=0.5,
    )
    assert status == dg.DagsterRunStatus.CANCELED
    assert messages[-2:] == [
        "Terminate",
        killed(pid, "Run was asked to stop and was still going 2 s later"),
    ], messages
