"""The code location loads, and every asset says what it is, who owns it and where it lives."""

import os
import subprocess
import sys
from datetime import timedelta

import dagster as dg
import pytest


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    for name in ("SCORECARD_SOURCES", "SCORECARD_CONFIG", "SCORECARD_TIMEZONE"):
        os.environ.pop(name, None)
    from pipelines.definitions import defs

    return defs


def test_nightly_job_and_schedule_of_the_contract(defs):
    job = defs.resolve_job_def("nightly_scorecard")
    schedule = defs.resolve_schedule_def("nightly_scorecard_schedule")
    assert schedule.job_name == job.name
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert schedule.description == (
        "Runs nightly_scorecard at schedule.cron in the schedule's time zone (0 2 * * *, UTC)."
    )
    assert defs.resolve_sensor_def("scorecard_run_failure_alert")
    assert defs.resolve_sensor_def("scorecard_dead_run_check")


def test_the_success_summary_sensor_exists_only_when_configured(tmp_path):
    config = tmp_path / "scorecard.yaml"
    config.write_text(
        "notifications: {webhook_url: 'http://127.0.0.1:9/hook', success_summary: true}\n"
    )
    code = "from pipelines.definitions import defs; print(sorted(s.name for s in defs.sensors))"
    sensors = {}
    for name, env in (("default", {}), ("configured", {"SCORECARD_CONFIG": str(config)})):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        assert out.returncode == 0, out.stderr
        sensors[name] = out.stdout.strip()
    assert sensors["default"] == "['scorecard_dead_run_check', 'scorecard_run_failure_alert']"
    assert sensors["configured"] == (
        "['scorecard_dead_run_check', 'scorecard_run_failure_alert', "
        "'scorecard_run_success_summary']"
    )


def test_the_postgresql_publish_exists_only_for_a_url_that_is_more_than_blanks():
    """An empty secret file gives SCORECARD_PUBLISH_URL a line break: no URL, so no publish
    (check-config, which checks a URL that is set, says nothing either)."""
    code = (
        "from pipelines.definitions import defs; "
        "print(any(k.path == ['publish', 'postgres'] for k in defs.resolve_all_asset_keys()))"
    )
    published = {}
    for url in ("\n", " ", "postgresql://bi@127.0.0.1:9/scorecard"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "SCORECARD_PUBLISH_URL": url},
        )
        assert out.returncode == 0, out.stderr
        published[url] = out.stdout.strip()
    assert published == {
        "\n": "False",
        " ": "False",
        "postgresql://bi@127.0.0.1:9/scorecard": "True",
    }


def test_assets_are_grouped_by_layer_and_fully_described(defs):
    graph = defs.resolve_asset_graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.setdefault(node.group_name, set()).add(key.to_user_string())
        assert node.description, key
        assert node.owners, key
        assert node.kinds, key
    assert {"ingest", "core", "kpi", "scorecard", "publish"} <= set(groups)
    assert "core/incidents" in groups["core"]
    assert groups["publish"] == {"publish/warehouse"}
    # Every source the demo serves is ingested through its real connector.
    assert {"raw/servicenow"} <= groups["ingest"]


def test_checks_cover_core_kpi_and_publish(defs):
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"data_quality", "kpi_values_in_range", "snapshot_readable"} <= checks


def test_sources_from_environment_replace_the_demo():
    code = (
        "from pipelines.definitions import defs;"
        "print(sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == 'raw'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "SCORECARD_SOURCES": "servicenow,focus"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['raw/focus', 'raw/servicenow']"


def test_bad_configuration_stops_loading_with_the_message(tmp_path):
    config = tmp_path / "scorecard.yaml"
    config.write_text("schedule: {cron: nightly}\n")
    out = subprocess.run(
        [sys.executable, "-c", "import pipelines.definitions"],
        capture_output=True,
        text=True,
        env={**os.environ, "SCORECARD_CONFIG": str(config)},
    )
    assert out.returncode != 0
    assert f"{config}: schedule.cron: cron expression 'nightly' has 1 fields" in out.stderr


@pytest.mark.parametrize(
    ("cron", "timezone", "warn_hours", "fail_hours"),
    [
        ("0 2 * * *", "UTC", 26, 30),
        # A weekday schedule's longest wait is the weekend, Friday 02:00 to Monday 02:00.
        ("0 2 * * 1-5", "UTC", 74, 78),
        # A night is 25 hours long once a year in Berlin, where the clocks go back.
        ("0 2 * * *", "Europe/Berlin", 27, 31),
        # ... and so is that weekend: 73 hours pass, though the clocks show 72.
        ("0 2 * * 1-5", "Europe/Berlin", 75, 79),
    ],
)
def test_the_scorecards_freshness_follows_the_schedules_longest_wait(
    tmp_path, cron, timezone, warn_hours, fail_hours
):
    from pipelines.scorecard import scorecard_asset
    from settings import load_settings

    config = tmp_path / "scorecard.yaml"
    config.write_text(f"schedule: {{cron: '{cron}', timezone: {timezone}}}\n")
    (spec,) = scorecard_asset(load_settings(config, env={})).specs
    policy = spec.freshness_policy
    assert policy.warn_window.to_timedelta() == timedelta(hours=warn_hours)
    assert policy.fail_window.to_timedelta() == timedelta(hours=fail_hours)
