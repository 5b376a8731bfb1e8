"""Launched runs that cannot succeed fail at once, with the cause as the failure's message.

A bad setting stops the run in its first step (the same check as `itsm-scorecard check-config`);
rejected credentials and a file that is not a FOCUS export end their source's read at once,
without the step retries that only transient trouble deserves, and fail the run at its end
naming the cause, after the other sources were scored and published. A bad file beside files
that load does not stop the run: it warns, and the scorecard is computed from the files that
loaded.
"""

import csv
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster._core.instance import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from connectors.emulators.servicenow import Credentials, serve
from pipelines.run_summary import summarise_run
from tests.conftest import SHARED_DATA, launch_nightly_job

TYPO = "metrics:\n  change_failur_rate:\n    threshold: 20\n    target: 10\n"


def empty_config(folder: Path) -> Path:
    """A scorecard.yaml with every default, so only the environment's settings matter."""
    path = folder / "scorecard.yaml"
    path.write_text("")
    return path


def run_events(home: Path) -> list[tuple[float, str, str | None, str]]:
    """(time, event type, step, message) of the one run recorded in a DAGSTER_HOME."""
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        (run,) = instance.get_runs()
        return [
            (e.timestamp, e.dagster_event.event_type_value, e.step_key, e.dagster_event.message)
            for e in instance.all_logs(run.run_id)
            if e.dagster_event is not None
        ]
    finally:
        instance.dispose()


def seconds_to_failure(events: list[tuple[float, str, str | None, str]], step: str) -> float:
    """From the run's start to the end of `step`, which gave up on its source (the steps of the
    other sources, and the KPIs, scoring and publish, run after it)."""
    started = next(t for t, kind, _, _ in events if kind == "PIPELINE_START")
    ended = next(
        t for t, kind, key, _ in events if kind in ("STEP_SUCCESS", "STEP_FAILURE") and key == step
    )
    return ended - started


def failed_steps(events: list[tuple[float, str, str | None, str]]) -> list[str | None]:
    return [key for _, kind, key, _ in events if kind == "STEP_FAILURE"]


def step_attempts(events: list[tuple[float, str, str | None, str]], step: str) -> int:
    return sum(1 for _, kind, key, _ in events if key == step and kind == "STEP_START")


def check_config_problems(**env: str) -> list[str]:
    """The problem lines `itsm-scorecard check-config` prints for these settings."""
    checked = subprocess.run(
        [sys.executable, "-m", "settings", "check-config"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    assert checked.returncode == 2, checked.stdout + checked.stderr
    return [line.strip() for line in checked.stderr.splitlines()[1:]]


@pytest.mark.parametrize(
    ("config", "sources", "extra", "expected"),
    [
        ("", "servicenow", {}, "servicenow: SERVICENOW_INSTANCE_URL is not set"),
        (
            TYPO,
            "focus",
            {},
            "metrics.change_failur_rate: unknown metric id 'change_failur_rate' "
            "(did you mean 'change_failure_rate'?)",
        ),
        # The demo's emulators read it too: they start with the first read, after this step.
        ("", "demo", {"SCORECARD_AS_OF": "2026-12-32"}, "SCORECARD_AS_OF"),
    ],
    ids=["servicenow-variables-missing", "metric-id-typo", "demo-as-of-unreadable"],
)
def test_a_bad_configuration_fails_the_run_in_its_first_step_with_check_configs_message(
    tmp_path, config, sources, extra, expected
):
    (tmp_path / "scorecard.yaml").write_text(config)
    (tmp_path / "costs.csv").write_text("BilledCost\n1\n")  # only its name is checked
    settings = {
        "SCORECARD_CONFIG": str(tmp_path / "scorecard.yaml"),
        "SCORECARD_SOURCES": sources,
        "SCORECARD_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "FOCUS_PATHS": str(tmp_path / "costs.csv"),
        **extra,
    }
    problems = check_config_problems(**settings)
    assert any(expected in line for line in problems), problems

    run = launch_nightly_job(check=False, dagster_home=tmp_path / "home", **settings)

    assert run.returncode != 0
    output = run.stdout + run.stderr
    for problem in problems:
        assert problem in output
    events = run_events(tmp_path / "home")
    started = [key for _, kind, key, _ in events if kind == "STEP_START"]
    assert started == ["preflight__configuration"]
    elapsed = seconds_to_failure(events, "preflight__configuration")
    print(f"{expected[:40]}: run failed {elapsed:.2f}s after its start")
    assert elapsed < 10
    # Nothing was loaded, so not even the working file was created.
    assert not list(tmp_path.glob("warehouse*.duckdb"))


def launch_with_a_wrong_servicenow_password(
    tmp_path: Path, sources: str, **env: str
) -> tuple[subprocess.CompletedProcess, int]:
    """The nightly job with ServiceNow refusing its password; the run and the requests it made."""
    instance = serve({}, Credentials("scorecard.reader", "the-right-password"))
    try:
        run = launch_nightly_job(
            check=False,
            dagster_home=tmp_path / "home",
            SCORECARD_SOURCES=sources,
            SCORECARD_CONFIG=str(empty_config(tmp_path)),
            SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
            SERVICENOW_INSTANCE_URL=instance.url,
            SERVICENOW_USERNAME="scorecard.reader",
            SERVICENOW_PASSWORD="a-wrong-password",
            **env,
        )
        return run, instance.requests
    finally:
        instance.stop()


def test_rejected_credentials_fail_the_ingest_step_once_without_retries(tmp_path):
    run, requests = launch_with_a_wrong_servicenow_password(tmp_path, "servicenow")

    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert (
        "servicenow: authentication failed (HTTP 401) for SERVICENOW_USERNAME; check "
        "SERVICENOW_PASSWORD / SERVICENOW_TOKEN" in output
    )
    assert "User Not Authenticated" in output
    assert "a-wrong-password" not in output
    events = run_events(tmp_path / "home")
    assert step_attempts(events, "raw__servicenow") == 1
    assert not [kind for _, kind, _, _ in events if kind in ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")]
    # One request: neither the HTTP client nor the step asked again.
    assert requests == 1
    # The run fails in its last step, naming the source it could not read.
    assert failed_steps(events) == ["scorecard__sources_read"]
    assert "not read tonight (the other sources were scored and published" in output
    elapsed = seconds_to_failure(events, "raw__servicenow")
    print(f"401: ingest step failed {elapsed:.2f}s after the run's start")
    assert elapsed < 10


def test_a_file_that_is_not_focus_fails_the_ingest_step_once_naming_file_and_columns(tmp_path):
    cur = tmp_path / "cur-export.csv"
    cur.write_text(
        "lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode,product/ProductName\n"
        "2026-10-01T00:00:00Z,12.50,USD,Amazon Elastic Compute Cloud\n"
    )
    run = launch_nightly_job(
        check=False,
        dagster_home=tmp_path / "home",
        SCORECARD_SOURCES="focus",
        SCORECARD_CONFIG=str(empty_config(tmp_path)),
        SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        FOCUS_PATHS=str(cur),
    )

    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert (
        f"focus: {cur} is not a FOCUS export (1.0-preview to 1.3): missing mandatory column(s) "
        "BilledCost, "
        "EffectiveCost, ListCost, BillingPeriodStart" in output
    )
    events = run_events(tmp_path / "home")
    assert step_attempts(events, "raw__focus") == 1
    assert not [kind for _, kind, _, _ in events if kind in ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")]
    assert failed_steps(events) == ["scorecard__sources_read"]
    elapsed = seconds_to_failure(events, "raw__focus")
    print(f"non-FOCUS file: ingest step failed {elapsed:.2f}s after the run's start")
    assert elapsed < 10


def test_a_warehouse_of_a_newer_release_fails_the_run_at_once_naming_the_file(tmp_path):
    """After a downgrade the working file is one schema version ahead: no retry heals that, and
    it is the warehouse's problem, not the source's, so the ingest step fails once with it."""
    published = tmp_path / "warehouse.duckdb"
    working = tmp_path / "warehouse.work.duckdb"
    with duckdb.connect(str(working)) as con:
        con.execute(
            "CREATE SCHEMA meta; CREATE TABLE meta.schema_version "
            "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ); "
            "INSERT INTO meta.schema_version VALUES (999, 'future', now())"
        )
    run = launch_nightly_job(
        check=False,
        dagster_home=tmp_path / "home",
        SCORECARD_SOURCES="focus",
        SCORECARD_CONFIG=str(empty_config(tmp_path)),
        SCORECARD_WAREHOUSE=str(published),
        SCORECARD_RETRY_DELAY="0.2",
        FOCUS_PATHS=str(SHARED_DATA / "focus" / "focus-1.0-sample.csv"),
    )

    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert f"{working} has schema version 999, but this release of itsm-scorecard" in output
    assert "focus not read tonight" not in output
    events = run_events(tmp_path / "home")
    assert step_attempts(events, "raw__focus") == 1
    assert not [kind for _, kind, _, _ in events if kind in ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")]
    # The read fails, and so does every step that opens the warehouse; nothing is published.
    assert "raw__focus" in failed_steps(events)
    assert "publish__warehouse" not in {key for _, kind, key, _ in events if kind == "STEP_SUCCESS"}
    assert not published.exists()


def test_a_source_that_cannot_be_read_fails_the_run_after_the_others_are_published(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "2024-09.csv").write_bytes(
        (SHARED_DATA / "focus" / "focus-1.0-sample.csv").read_bytes()
    )
    warehouse = tmp_path / "warehouse.duckdb"
    run, _ = launch_with_a_wrong_servicenow_password(
        tmp_path, "servicenow,focus", FOCUS_PATHS=str(exports)
    )

    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "a-wrong-password" not in output
    events = run_events(tmp_path / "home")
    # Only the last step fails: the costs were staged, computed, scored, published, reported.
    assert failed_steps(events) == ["scorecard__sources_read"]
    succeeded = {key for _, kind, key, _ in events if kind == "STEP_SUCCESS"}
    assert {"raw__focus", "kpi__metric_values", "publish__warehouse"} <= succeeded
    assert (
        "not read tonight (the other sources were scored and published; the periods of these "
        "stay pending): servicenow: authentication failed (HTTP 401)" in output
    )
    with duckdb.connect(str(warehouse), read_only=True) as published:
        september = published.execute(
            "SELECT round(value, 2) FROM kpi.metric_values WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = DATE '2024-09-01' AND dimension = 'all'"
        ).fetchall()
    # The FOCUS sample's September EffectiveCost, as in the test below.
    assert september == [(14.98,)]


def test_a_refused_focus_file_beside_good_ones_warns_and_the_run_publishes(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    sample = SHARED_DATA / "focus" / "focus-1.0-sample.csv"
    (exports / "2024-09.csv").write_bytes(sample.read_bytes())
    (exports / "2024-10.csv").write_bytes(b"")  # an export still being written
    warehouse = tmp_path / "warehouse.duckdb"
    run = launch_nightly_job(
        check=False,
        dagster_home=tmp_path / "home",
        SCORECARD_SOURCES="focus",
        SCORECARD_CONFIG=str(empty_config(tmp_path)),
        SCORECARD_WAREHOUSE=str(warehouse),
        FOCUS_PATHS=str(exports),
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    output = run.stdout + run.stderr
    assert "focus: files refused, the run goes on with the files that loaded" in output
    events = run_events(tmp_path / "home")
    assert not [key for _, kind, key, _ in events if kind == "STEP_FAILURE"]
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path / "home")))
    try:
        (launched,) = instance.get_runs()
        summary = summarise_run(instance, launched)
    finally:
        instance.dispose()
    assert summary.refused == {
        "focus": f"focus: {exports / '2024-10.csv'} is empty: a FOCUS export starts with a header line"
    }
    with duckdb.connect(str(warehouse), read_only=True) as published:
        lines, files = published.execute(
            "SELECT count(*), list(DISTINCT source_file) FROM core.costs"
        ).fetchall()[0]
        problems = published.execute(
            "SELECT record_key, problem FROM scorecard.data_quality WHERE source = 'focus' "
            "AND record_key NOT LIKE '%#%'"
        ).fetchall()
        september = published.execute(
            "SELECT round(value, 2) FROM kpi.metric_values WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = DATE '2024-09-01' AND dimension = 'all'"
        ).fetchall()
    with sample.open(newline="") as handle:
        # Every line item of the sample is charged in September 2024 (UTC).
        expected = sum(Decimal(row["EffectiveCost"]) for row in csv.DictReader(handle))
    empty = exports / "2024-10.csv"
    assert (lines, files) == (1000, [str(exports / "2024-09.csv")])
    assert problems == [
        (str(empty), f"focus: {empty} is empty: a FOCUS export starts with a header line")
    ]
    assert september == [(float(round(expected, 2)),)]
    assert september == [(14.98,)]


def test_a_demo_that_cannot_start_fails_every_read_rather_than_reading_the_environment(
    tmp_path, monkeypatch
):
    """The demo's emulators start with the first read; when they cannot (here a file stands
    where their folder goes), each read fails so, never one from a real source's settings."""
    from pipelines.resources import SourcesResource

    taken = tmp_path / "demo"
    taken.write_text("a file where the demo's folder goes")
    monkeypatch.setenv("SERVICENOW_INSTANCE_URL", "https://acme.service-now.com")
    monkeypatch.setenv("SERVICENOW_USERNAME", "scorecard.reader")
    monkeypatch.setenv("SERVICENOW_PASSWORD", "not-the-demo")
    sources = SourcesResource(demo=True, demo_workdir=str(taken))
    for _ in range(2):
        with pytest.raises(FileExistsError):
            sources.open("servicenow")
