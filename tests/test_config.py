"""scorecard.yaml errors name the file, the key and what was expected, and exit non-zero."""

import subprocess
import sys
from pathlib import Path

import pytest

from settings import ConfigError, enabled_sources, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scorecard.yaml"
    path.write_text(text)
    return path


def check_config(path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "settings", "check-config", str(path)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_defaults_run_the_demo_at_two_in_the_morning_utc(tmp_path):
    settings = load_settings(write(tmp_path, ""), env={})
    assert (settings.schedule.cron, settings.schedule_timezone) == ("0 2 * * *", "UTC")
    assert enabled_sources(settings, env={}) == ["demo"]


def test_environment_overrides_sources_and_time_zone(tmp_path):
    path = write(tmp_path, "sources:\n  servicenow: {enabled: true}\n  focus: {enabled: false}\n")
    settings = load_settings(path, env={"SCORECARD_TIMEZONE": "Europe/Berlin"})
    assert settings.calendar.timezone == "Europe/Berlin" == settings.schedule_timezone
    assert enabled_sources(settings, env={}) == ["servicenow"]
    assert enabled_sources(settings, env={"SCORECARD_SOURCES": "focus, measures"}) == [
        "focus",
        "measures",
    ]


def test_env_interpolation_and_missing_variable(tmp_path):
    path = write(tmp_path, "notifications:\n  webhook_url: ${HOOK}\n")
    assert (
        load_settings(path, env={"HOOK": "https://hooks.example/abc"}).notifications.webhook_url
        == "https://hooks.example/abc"
    )
    with pytest.raises(
        ConfigError,
        match=r"scorecard.yaml: notifications.webhook_url: environment variable HOOK is not set",
    ):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "metrics:\n  change_failure_rate: {threshold: 15}\n",
            r"metrics.change_failure_rate.target: required key is missing",
        ),
        ("kpi:\n  min_n: many\n", r"kpi.min_n: Input should be a valid integer"),
        (
            "sources:\n  remedy: {enabled: true}\n",
            r"sources: unknown source 'remedy'; known sources: servicenow, jira",
        ),
        (
            "schedule:\n  cron: '0 2 * *'\n",
            r"schedule.cron: cron expression '0 2 \* \*' has 4 fields",
        ),
        ("schedule:\n  cron: '0 25 * * *'\n", r"field '25' is not valid \(allowed 0-23\)"),
        (
            "calendar:\n  timezone: Mars/Olympus\n",
            r"calendar.timezone: unknown time zone 'Mars/Olympus'",
        ),
        ("calendar:\n  tz: UTC\n", r"calendar.tz: unknown key"),
        ("- just\n- a list\n", r"expected a mapping at the top level"),
    ],
)
def test_invalid_config_names_file_key_and_expectation(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as error:
        load_settings(path, env={})
    assert str(path) in str(error.value)


def test_unknown_source_in_environment(tmp_path):
    settings = load_settings(write(tmp_path, ""), env={})
    with pytest.raises(ConfigError, match="SCORECARD_SOURCES: unknown source 'servicenw'"):
        enabled_sources(settings, env={"SCORECARD_SOURCES": "servicenw"})


def test_check_config_command_exits_non_zero_with_the_message(tmp_path):
    bad = check_config(write(tmp_path, "schedule:\n  cron: every night\n"))
    assert bad.returncode == 2
    assert "schedule.cron: cron expression 'every night' has 2 fields" in bad.stderr
    good = check_config(write(tmp_path, "calendar: {timezone: Europe/Paris}\n"))
    assert good.returncode == 0, good.stderr
    assert "calendar Europe/Paris" in good.stdout


def test_secret_values_never_appear_in_errors(tmp_path):
    path = write(tmp_path, "notifications:\n  webhook_url: ${HOOK}\nkpi: {min_n: ${HOOK}}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={"HOOK": "s3cr3t-token"})
    assert "s3cr3t-token" not in str(error.value)


def test_sources_without_a_connector_yet_are_refused_before_a_run(tmp_path):
    settings = load_settings(write(tmp_path, "sources:\n  pagerduty: {enabled: true}\n"), env={})
    with pytest.raises(
        ConfigError,
        match="sources: no connector for pagerduty in this release; available: servicenow, focus",
    ):
        enabled_sources(settings, env={})
    with pytest.raises(ConfigError, match="SCORECARD_SOURCES: no connector for jira, freshservice"):
        enabled_sources(settings, env={"SCORECARD_SOURCES": "servicenow,jira,freshservice"})
