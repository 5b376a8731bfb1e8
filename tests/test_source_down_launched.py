"""A source that stays down (HTTP 503 on every request) is given up after the ingest step's last
retry: its read check fails with the cause, the other sources are scored and published, and the
run's last step fails naming it. The waits between retries come from SCORECARD_RETRY_DELAY and
SCORECARD_HTTP_RETRY_DELAY, so this night takes seconds instead of minutes.
"""

import time

import duckdb
import pytest
from dagster._core.instance import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from connectors.emulators.server import Faults
from connectors.emulators.servicenow import Credentials, serve
from tests.conftest import SHARED_DATA, launch_nightly_job
from tests.test_fail_fast import (
    check_config_problems,
    empty_config,
    failed_steps,
    run_events,
    step_attempts,
)

PASSWORD = "the-right-password-4711"


def read_check_results(home) -> list[tuple[str, bool, str | None]]:
    """(asset, passed, description) of every read check evaluated in the one run of `home`."""
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        (run,) = instance.get_runs()
        return [
            (data.asset_key.to_user_string(), data.passed, data.description)
            for data in (
                entry.dagster_event.event_specific_data
                for entry in instance.all_logs(run.run_id)
                if entry.dagster_event is not None
                and entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
            )
            if data.check_name == "read"
        ]
    finally:
        instance.dispose()


def test_a_source_down_all_night_is_given_up_after_the_last_retry_and_named(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "2024-09.csv").write_bytes(
        (SHARED_DATA / "focus" / "focus-1.0-sample.csv").read_bytes()
    )
    warehouse = tmp_path / "warehouse.duckdb"
    down = serve({}, Credentials("scorecard.reader", PASSWORD), faults=Faults(error_every=1))
    started = time.monotonic()
    try:
        run = launch_nightly_job(
            check=False,
            dagster_home=tmp_path / "home",
            timeout=150,
            SCORECARD_SOURCES="servicenow,focus",
            SCORECARD_CONFIG=str(empty_config(tmp_path)),
            SCORECARD_WAREHOUSE=str(warehouse),
            SCORECARD_RETRY_DELAY="0.2",
            SCORECARD_HTTP_RETRY_DELAY="0.01",
            SERVICENOW_INSTANCE_URL=down.url,
            SERVICENOW_USERNAME="scorecard.reader",
            SERVICENOW_PASSWORD=PASSWORD,
            FOCUS_PATHS=str(exports),
        )
        requests = down.requests
    finally:
        down.stop()
    elapsed = time.monotonic() - started

    assert run.returncode != 0
    output = run.stdout + run.stderr
    events = run_events(tmp_path / "home")
    # The first try and the policy's three retries, each asking the source six times.
    tries = [kind for _, kind, key, _ in events if key == "raw__servicenow"]
    assert step_attempts(events, "raw__servicenow") == 1, tries
    assert tries.count("STEP_UP_FOR_RETRY") == 3, tries
    assert tries.count("STEP_RESTARTED") == 3, tries
    assert requests == 4 * 6
    cause = (
        "servicenow: SourceError: servicenow: gave up reading table incident at offset 0 after "
        "6 attempts (last: HTTP 503)"
    )
    assert (
        "not read tonight (the other sources were scored and published; the periods of these "
        f"stay pending): {cause}" in output
    )
    checks = read_check_results(tmp_path / "home")
    assert sorted(checks) == [("raw/focus", True, None), ("raw/servicenow", False, cause)]
    # Only the last step fails: the costs were loaded, computed, scored, published, reported.
    assert failed_steps(events) == ["scorecard__sources_read"]
    succeeded = {key for _, kind, key, _ in events if kind == "STEP_SUCCESS"}
    assert {
        "raw__focus",
        "kpi__metric_values",
        "publish__warehouse",
        "scorecard__executive_summary",
    } <= succeeded
    assert PASSWORD not in output
    assert not [message for *_, message in events if message and PASSWORD in message]
    with duckdb.connect(str(warehouse), read_only=True) as published:
        september = published.execute(
            "SELECT round(value, 2) FROM kpi.metric_values WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = DATE '2024-09-01' AND dimension = 'all'"
        ).fetchall()
    assert september == [(14.98,)]  # the FOCUS sample's September EffectiveCost
    print(f"source down all night: run ended after {elapsed:.1f}s")
    assert elapsed < 90


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "SCORECARD_RETRY_DELAY",
            "ten",
            "SCORECARD_RETRY_DELAY: 'ten' is not a number of seconds from 0 to 600",
        ),
        (
            "SCORECARD_RETRY_DELAY",
            "-1",
            "SCORECARD_RETRY_DELAY: '-1' is not a number of seconds from 0 to 600",
        ),
        (
            "SCORECARD_HTTP_RETRY_DELAY",
            "nan",
            "SCORECARD_HTTP_RETRY_DELAY: 'nan' is not a number of seconds from 0 to 60",
        ),
        (
            "SCORECARD_HTTP_RETRY_DELAY",
            "3600",
            "SCORECARD_HTTP_RETRY_DELAY: '3600' is not a number of seconds from 0 to 60",
        ),
    ],
)
def test_a_retry_delay_that_is_not_a_sane_number_of_seconds_is_named_by_check_config(
    tmp_path, variable, value, expected
):
    problems = check_config_problems(
        SCORECARD_CONFIG=str(empty_config(tmp_path)),
        SCORECARD_SOURCES="servicenow",
        SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        SERVICENOW_INSTANCE_URL="https://example.service-now.com",
        SERVICENOW_USERNAME="scorecard.reader",
        SERVICENOW_PASSWORD=PASSWORD,
        **{variable: value},
    )
    assert problems == [expected]
