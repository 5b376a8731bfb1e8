"""With the daemon running, runs launched by `dg launch` reach the webhook: failures and summaries.

`dg launch` runs carry no code-location origin; a sensor that watched only its own code location
skipped them and moved its cursor past them. Here a real daemon, a real `dg launch` and a real
HTTP server stand in for the user's machine and their chat webhook.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.definitions.run_request import InstigatorType

from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.server import EmulatorServer
from connectors.emulators.servicenow import start_demo
from tests.conftest import (
    REPO,
    VENV,
    Webhook,
    launch_nightly_job,
    make_dagster_home,
    user_environment,
)

SENSOR_WAIT_SECONDS = 150


class Daemon:
    """`dagster-daemon run` on the project's code location, in its own process group."""

    def __init__(self, home: Path, log: Path, **env: str) -> None:
        self.home = home
        self.log = log
        # Create the instance's storage first, so the test's reads never race its creation.
        with dg.DagsterInstance.from_config(str(home)) as instance:
            instance.all_instigator_state()
        self._process = subprocess.Popen(
            [str(VENV / "bin" / "dagster-daemon"), "run"],
            cwd=REPO,
            env=user_environment(home, **env),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def sensor_has_ticked(self, name: str) -> bool:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
                if state.name == name and instance.get_ticks(
                    state.instigator_origin_id, state.selector_id, limit=1
                ):
                    return True
        return False

    def stop(self) -> None:
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()


def latest_run(home: Path) -> dg.DagsterRun:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return instance.get_runs(limit=1)[0]


def wait_for(condition: Callable[[], object], what: str, log: Path) -> object:
    deadline = time.monotonic() + SENSOR_WAIT_SECONDS
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(1)
    pytest.fail(f"no {what} within {SENSOR_WAIT_SECONDS} s; daemon log:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[tuple[Daemon, Webhook, dict[str, str]]]:
    """The daemon with a webhook and the success summary configured, its sensors started."""
    folder = tmp_path_factory.mktemp("alerts")
    hook = Webhook()
    with EmulatorServer(hook) as server:
        config = folder / "scorecard.yaml"
        config.write_text(
            "notifications:\n"
            f"  webhook_url: {server.url}/hooks/secret-token\n"
            "  success_summary: true\n"
        )
        env = {"SCORECARD_CONFIG": str(config)}
        daemon = Daemon(make_dagster_home(folder / "dagster"), folder / "daemon.log", **env)
        try:
            for sensor in ("scorecard_run_failure_alert", "scorecard_run_success_summary"):
                wait_for(lambda s=sensor: daemon.sensor_has_ticked(s), f"{sensor} tick", daemon.log)
            yield daemon, hook, env
        finally:
            daemon.stop()


def test_a_failed_dg_launch_run_reaches_the_webhook(running, tmp_path):
    daemon, hook, env = running
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("")
    run = launch_nightly_job(
        check=False,
        dagster_home=daemon.home,
        SCORECARD_WAREHOUSE=str(not_a_folder / "warehouse.duckdb"),
        **env,
    )
    assert run.returncode != 0
    failed = latest_run(daemon.home)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    run_id = failed.run_id

    def alert() -> str | None:
        return next((t for t in hook.texts() if run_id in t and "failed" in t), None)

    text = wait_for(alert, f"failure alert for run {run_id}", daemon.log)
    assert f"ITSM Scorecard run {run_id} of job nightly_scorecard failed" in text
    assert "secret-token" not in daemon.log.read_text()


def test_a_successful_nightly_run_posts_one_summary(running, tmp_path):
    daemon, hook, env = running
    source_env, stop = start_demo(demo_as_of(), tmp_path)
    published = tmp_path / "warehouse.duckdb"
    try:
        launch_nightly_job(
            dagster_home=daemon.home,
            SCORECARD_SOURCES="servicenow",
            SCORECARD_WAREHOUSE=str(published),
            **source_env,
            **env,
        )
    finally:
        stop()
    succeeded = latest_run(daemon.home)
    assert succeeded.status == dg.DagsterRunStatus.SUCCESS
    run_id = succeeded.run_id

    def summaries() -> list[str]:
        return [t for t in hook.texts() if run_id in t and "succeeded" in t]

    text = wait_for(summaries, f"success summary for run {run_id}", daemon.log)[0]
    with duckdb.connect(str(published), read_only=True) as con:
        # A first load receives every record once: the raw tables hold exactly what arrived.
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name LIKE 'servicenow_%'"
        ).fetchall()
        raw_rows = sum(
            con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0] for (table,) in tables
        )
        quarantined = con.execute(
            "SELECT count(*) FROM scorecard.data_quality WHERE table_name = 'metric_values'"
        ).fetchone()[0]
    assert f"Loaded (records per source): servicenow {raw_rows:,}." in text
    assert f"Quarantined KPI values: {quarantined}." in text
    assert "Status changes in the latest complete period: " in text
    # One message per run, even after further sensor ticks.
    time.sleep(35)
    assert len(summaries()) == 1
