"""scorecard.yaml errors name the file, the key and what was expected, and exit non-zero."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from settings import ConfigError, enabled_sources, load_settings
from settings.cli import main
from settings.preflight import preflight
from warehouse.store import Warehouse, WarehouseError


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


@pytest.mark.parametrize("cron", ["0 2 * * MON-FRI", "0 6 * * sun", "0 2 1 JAN,JUL *"])
def test_month_and_weekday_names_are_accepted_as_the_scheduler_accepts_them(tmp_path, cron):
    settings = load_settings(write(tmp_path, f"schedule:\n  cron: '{cron}'\n"), env={})
    assert settings.schedule.cron == cron


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
    ("url", "expected"),
    [
        (
            "http://hooks.example/services/T1/B2/tok3n",
            "plain http only to this machine), got http://hooks.example",
        ),
        (
            "ftp://hooks.example/services/T1/B2/tok3n",
            "expected an https:// URL, got ftp://hooks.example",
        ),
    ],
)
def test_a_webhook_url_that_would_send_its_token_in_clear_is_refused_without_it(
    tmp_path, url, expected
):
    """The path of a chat webhook is its token: refused unless https (or loopback), and the
    error shows no more than scheme and host."""
    path = write(tmp_path, "notifications:\n  webhook_url: ${HOOK}\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(path, env={"HOOK": url})
    assert expected in str(refused.value)
    assert "tok3n" not in str(refused.value)
    local = load_settings(path, env={"HOOK": "http://127.0.0.1:8080/hook"})
    assert local.notifications.webhook_url == "http://127.0.0.1:8080/hook"


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
        ("schedule:\n  cron: '*/0 2 * * *'\n", r"field '\*/0' steps by 0"),
        (
            "schedule:\n  cron: '0 2 * * MONDAY'\n",
            r"field 'MONDAY' is not valid \(allowed 0-7 or names such as MON, JAN\)",
        ),
        ("schedule:\n  cron: '0 2 JAN * *'\n", r"field 'JAN' is not valid \(allowed 1-31\)"),
        (
            "schedule:\n  cron: '0 2 30 2 *'\n",
            r"cron expression '0 2 30 2 \*' is refused by the scheduler \(a date that never",
        ),
        (
            "calendar:\n  timezone: Mars/Olympus\n",
            r"calendar.timezone: unknown time zone 'Mars/Olympus'",
        ),
        ("calendar:\n  tz: UTC\n", r"calendar.tz: unknown key"),
        (
            "actions:\n  due_days: {month: -5}\n",
            r"actions.due_days.month: Input should be greater than or equal to 0",
        ),
        (
            "initiatives:\n  INI-1: {start: 2026-01-01, end: 2025-06-30}\n",
            r"initiatives.INI-1: end 2025-06-30 is before start 2026-01-01",
        ),
        ("- just\n- a list\n", r"expected a mapping at the top level"),
    ],
)
def test_invalid_config_names_file_key_and_expectation(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as error:
        load_settings(path, env={})
    assert str(path) in str(error.value)


def test_a_key_given_twice_is_refused_naming_both_lines_instead_of_the_last_silently_winning(
    tmp_path,
):
    path = write(
        tmp_path,
        "metrics:\n"
        "  csat: {threshold: 75, target: 85, owner: Head of Service Desk}\n"
        "  sla_attainment: {threshold: 90, target: 95}\n"
        "  csat: {owner: CIO}\n",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value).splitlines()[0] == (
        f"{path}:4: metrics.csat: given twice (first on line 2); keep one, as only the last "
        "would count"
    )


def test_a_date_the_calendar_does_not_have_names_file_line_and_key(tmp_path):
    path = write(
        tmp_path,
        "metrics:\n"
        "  csat:\n"
        "    threshold: 75\n"
        "    target: 85\n"
        "    goals:\n"
        "      - {effective: 2026-02-30, threshold: 80, target: 88}\n"
        "    retired: 2026-13-01\n",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value).splitlines() == [
        f"{path}:6: metrics.csat.goals[0].effective: '2026-02-30' is not a date "
        "(day is out of range for month)",
        f"{path}:7: metrics.csat.retired: '2026-13-01' is not a date (month must be in 1..12)",
    ]
    # check-config lists them like any other problem (exit 2), instead of a traceback.
    result = check_config(path, SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"))
    assert result.returncode == 2, result.stderr
    assert "metrics.csat.retired: '2026-13-01' is not a date" in result.stderr
    assert "Traceback" not in result.stderr


def test_merge_keys_may_be_overridden_without_counting_as_a_key_given_twice(tmp_path):
    path = write(
        tmp_path,
        "x-owner: &desk {owner: Head of Service Desk, perspective: customer}\n"
        "metrics:\n"
        "  csat: {<<: *desk, owner: CIO, threshold: 75, target: 85}\n",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == f"{path}: x-owner: unknown key"


def test_a_bad_time_zone_variable_is_blamed_on_the_variable_and_blanks_around_it_are_dropped(
    tmp_path,
):
    path = write(tmp_path, "calendar:\n  timezone: UTC\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={"SCORECARD_TIMEZONE": "Europe/Berln"})
    assert str(error.value).startswith("SCORECARD_TIMEZONE: unknown time zone 'Europe/Berln'")
    # As an env file can leave it.
    settings = load_settings(path, env={"SCORECARD_TIMEZONE": "Europe/Berlin "})
    assert settings.calendar.timezone == "Europe/Berlin"


def test_a_config_file_that_is_not_utf8_or_not_a_file_is_named_without_a_traceback(tmp_path):
    path = tmp_path / "scorecard.yaml"
    path.write_bytes("metrics:\n  csat:\n    owner: J\xfcrgen\n".encode("cp1252"))
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert str(error.value) == f"{path}: not UTF-8 text (byte 30 reads 0xfc); save it as UTF-8"
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path, env={})
    assert str(error.value) == f"{tmp_path}: cannot be read: Is a directory"
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path / "typo.yml", env={})
    assert str(error.value).endswith("configuration file not found (given on the command line)")


def test_a_yaml_syntax_error_is_one_problem_at_its_line(tmp_path):
    path = write(tmp_path, "scorecard:\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert len(str(error.value).splitlines()) == 1
    assert str(error.value).startswith(f"{path}:3: not valid YAML: while parsing a flow sequence")


def test_the_demo_beside_a_real_source_is_refused_rather_than_the_real_one_dropped(tmp_path):
    settings = load_settings(write(tmp_path, "sources:\n  demo: {enabled: true}\n"), env={})
    with pytest.raises(ConfigError) as error:
        enabled_sources(settings, env={"SCORECARD_SOURCES": "demo,jira"})
    assert str(error.value) == (
        "SCORECARD_SOURCES: demo runs the built-in demo sources alone, so jira would not be "
        "read; list either demo or your sources"
    )


def test_unknown_source_in_environment(tmp_path):
    settings = load_settings(write(tmp_path, ""), env={})
    with pytest.raises(ConfigError, match="SCORECARD_SOURCES: unknown source 'servicenw'"):
        enabled_sources(settings, env={"SCORECARD_SOURCES": "servicenw"})


@pytest.mark.parametrize("listed", [",", " , ", ",,"])
def test_a_source_list_naming_no_source_is_refused_rather_than_reading_nothing(tmp_path, listed):
    settings = load_settings(write(tmp_path, ""), env={})
    with pytest.raises(ConfigError, match=f"SCORECARD_SOURCES: {listed.strip()!r} names no source"):
        enabled_sources(settings, env={"SCORECARD_SOURCES": listed})


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


def test_every_source_name_of_the_contract_has_a_connector(tmp_path):
    """jira, pagerduty and freshservice were reserved names; now each opens its own connector."""
    settings = load_settings(write(tmp_path, "sources:\n  pagerduty: {enabled: true}\n"), env={})
    assert enabled_sources(settings, env={}) == ["pagerduty"]
    assert enabled_sources(settings, env={"SCORECARD_SOURCES": "servicenow,jira,freshservice"}) == [
        "servicenow",
        "jira",
        "freshservice",
    ]


@pytest.mark.parametrize(
    ("goals", "expected"),
    [
        (
            "cost_per_ticket: {threshold: 40, target: 25, stretch: 30}",
            "metrics.cost_per_ticket.stretch: 30 is not beyond target 25 in the direction "
            "lower-is-better (threshold 40 -> target 25)",
        ),
        (
            "sla_attainment: {threshold: 90, target: 95, stretch: 95}",
            "metrics.sla_attainment.stretch: 95 is not beyond target 95 in the direction "
            "higher-is-better (threshold 90 -> target 95)",
        ),
        (
            "sla_attainment: {threshold: 90, target: 95, stretch: 92.5}",
            "metrics.sla_attainment.stretch: 92.5 is not beyond target 95",
        ),
        (
            "csat: {threshold: 80, target: 80}",
            "metrics.csat.target: 80 equals threshold 80; the order of threshold and target sets "
            "the direction, so they must differ",
        ),
        (
            "csat: {stretch: 90}",
            "metrics.csat.stretch: 90 needs a threshold and a target",
        ),
        (
            "it_spend_pct_revenue: {band: [5, 2]}",
            "metrics.it_spend_pct_revenue.band: low 5 is not below high 2",
        ),
        (
            "it_spend_pct_revenue: {band: [3, 3]}",
            "metrics.it_spend_pct_revenue.band: low 3 is not below high 3",
        ),
        (
            "it_spend_pct_revenue: {band: [2, 5], threshold: 8, target: 5}",
            "metrics.it_spend_pct_revenue.band: a metric is scored against a band or against "
            "threshold / target / stretch, not both",
        ),
    ],
)
def test_goals_out_of_order_name_the_key_path(tmp_path, goals, expected):
    path = write(tmp_path, f"metrics:\n  {goals}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert f"{path}: {expected}" in str(error.value)


@pytest.mark.parametrize(
    "goals",
    [
        "cost_per_ticket: {threshold: 40, target: 25, stretch: 18}",
        "cost_per_ticket: {threshold: 40, target: 25}",
        "csat: {threshold: 75, target: 85, stretch: 92}",
        "deployment_frequency: {threshold: 5, target: 0}",
        "it_spend_pct_revenue: {band: [2, 5]}",
        "csat: {owner: Head of Service Desk}",
    ],
)
def test_goals_in_order_are_accepted(tmp_path, goals):
    load_settings(write(tmp_path, f"metrics:\n  {goals}\n"), env={})


@pytest.mark.parametrize(
    ("overlay", "expected"),
    [
        (
            "{params: {survey: pilot}}",
            "scorecards.pilot.metrics.csat.params: KPI values are computed once for every "
            "scorecard; set params under metrics.csat instead",
        ),
        ("{min_n: 50}", "scorecards.pilot.metrics.csat.min_n: KPI values are computed once"),
    ],
)
def test_a_scorecard_overlay_cannot_change_how_kpis_are_computed(tmp_path, overlay, expected):
    path = write(
        tmp_path,
        "metrics:\n  csat: {threshold: 75, target: 85, stretch: 92}\n"
        f"scorecards:\n  pilot:\n    metrics:\n      csat: {overlay}\n",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert expected in str(error.value)


def test_an_overlay_naming_threshold_and_target_drops_the_stretch_underneath(tmp_path):
    """The top-level stretch 92 lies behind the pilot's target 95: the default 95 + 7 applies."""
    path = write(
        tmp_path,
        "metrics:\n  csat: {threshold: 75, target: 85, stretch: 92, owner: Head of Service}\n"
        "scorecards:\n  pilot:\n    metrics:\n      csat: {threshold: 88, target: 95}\n",
    )
    pilot = load_settings(path, env={}).scorecard_metrics()["pilot"]["csat"]
    assert (pilot["threshold"], pilot["target"], pilot.get("stretch")) == (88, 95, None)
    assert pilot["owner"] == "Head of Service"


def test_an_overlay_with_its_own_goals_keeps_them_when_the_top_level_goals_change(tmp_path):
    """The IT-wide goals move to 92 / 97 in April; the pilot scores against its own 80 / 90 all
    year, while a scorecard that only reweights the metric follows the IT-wide versions."""
    path = write(
        tmp_path,
        "metrics:\n  sla_attainment:\n    threshold: 90\n    target: 95\n"
        "    goals: [{effective: 2026-04-01, threshold: 92, target: 97}]\n"
        "scorecards:\n  pilot:\n    metrics:\n      sla_attainment: {threshold: 80, target: 90}\n"
        "  ops:\n    metrics:\n      sla_attainment: {weight: 2}\n",
    )
    cards = load_settings(path, env={}).scorecard_metrics()
    pilot, ops = cards["pilot"]["sla_attainment"], cards["ops"]["sla_attainment"]
    assert (pilot["threshold"], pilot["target"], pilot["goals"]) == (80, 90, [])
    assert [(g["threshold"], g["target"]) for g in ops["goals"]] == [(92, 97)]


def test_the_shipped_scorecard_has_goals_in_order():
    settings = load_settings(Path(__file__).resolve().parents[1] / "scorecard.yaml", env={})
    assert len(settings.metrics) > 10


def test_check_config_exits_2_on_goals_out_of_order(tmp_path, capsys):
    path = write(
        tmp_path, "metrics:\n  cost_per_ticket: {threshold: 40, target: 25, stretch: 30}\n"
    )
    assert main(["check-config", str(path)]) == 2
    assert "metrics.cost_per_ticket.stretch: 30 is not beyond target 25" in capsys.readouterr().err


def test_check_config_names_each_variable_an_enabled_source_misses(tmp_path):
    result = check_config(
        write(tmp_path, ""),
        SCORECARD_SOURCES="servicenow",
        SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
    )
    assert result.returncode == 2
    assert "servicenow: SERVICENOW_INSTANCE_URL is not set" in result.stderr
    assert "servicenow: SERVICENOW_USERNAME is not set (or set SERVICENOW_TOKEN" in result.stderr


def test_check_config_names_file_key_and_close_match_of_a_metric_id_typo(tmp_path):
    path = write(tmp_path, "metrics:\n  change_failur_rate:\n    threshold: 20\n    target: 10\n")
    result = check_config(path, SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"))
    assert result.returncode == 2
    assert (
        f"{path}: metrics.change_failur_rate: unknown metric id 'change_failur_rate' "
        "(did you mean 'change_failure_rate'?)"
    ) in result.stderr


def test_check_config_names_unknown_metric_ids_of_a_scorecard_overlay_and_an_initiative(
    tmp_path, capsys
):
    path = write(
        tmp_path,
        "scorecard_id: it\n"
        "metrics:\n"
        "  csat: {objective: Delight, owner: CIO, threshold: 75, target: 85}\n"
        "  change_failure_rate: {objective: Change safely, owner: CIO, threshold: 15, target: 10}\n"
        "scorecards:\n"
        "  desk:\n"
        "    owner: Head of Service Desk\n"
        "    metrics:\n"
        "      cast: {objective: Delight}\n"
        "      reopen_rate: {objective: Fix it, threshold: 8, target: 5}\n"
        "initiatives:\n"
        "  portal: {owner: CIO, objectives: [Delight], metrics: [csat, csatt]}\n"
        "  releases: {owner: CIO, scorecard: desk, metrics: [reopen_rate, change_failure_rate]}\n",
    )
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path}: scorecards.desk.metrics.cast: unknown metric id 'cast' (did you mean 'csat'?)"
    ) in err
    assert (
        f"{path}: initiatives.portal.metrics[1]: 'csatt' is not a metric of scorecard 'it' "
        "(did you mean 'csat'?)"
    ) in err
    # Known to the KPIs but not scored on the initiative's scorecard: no progress would show.
    assert (
        f"{path}: initiatives.releases.metrics[1]: 'change_failure_rate' is not a metric of "
        "scorecard 'desk'"
    ) in err
    assert "initiatives.portal.metrics[0]" not in err
    assert "initiatives.releases.metrics[0]" not in err


def test_check_config_refuses_one_objective_name_under_two_perspectives(tmp_path, capsys):
    # Objectives roll up, take initiatives and are counted by name within a scorecard: the same
    # name under two perspectives would merge into one objective score with either perspective.
    path = write(
        tmp_path,
        "scorecard_id: it\n"
        "metrics:\n"
        "  csat: {objective: Do it well, owner: CIO, threshold: 75, target: 85}\n"
        "  change_failure_rate: {objective: Do it well, owner: CIO, threshold: 15, target: 10}\n"
        "  reopen_rate: {objective: Do it well, perspective: customer, threshold: 8, target: 5}\n"
        "scorecards:\n"
        "  desk:\n"
        "    owner: Head of Service Desk\n"
        "    metrics:\n"
        "      csat: {objective: Fix it}\n"
        "      reopen_rate: {objective: Fix it, perspective: customer}\n"
        "      change_failure_rate: {objective: Ship it, enabled: false}\n",
    )
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path}: metrics: objective 'Do it well' is under more than one perspective: "
        "customer (csat, reopen_rate), internal_process (change_failure_rate); an objective "
        "rolls up within one perspective, so name the objectives apart"
    ) in err
    # The desk's objectives each stay within one perspective.
    assert "scorecards.desk" not in err


def test_check_config_lists_every_problem_at_once_without_secrets(tmp_path):
    path = write(
        tmp_path,
        "schedule:\n  cron: every night\n"
        "metrics:\n  change_failur_rate: {}\n  csat:\n    params: {nonsense: 1}\n",
    )
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("")
    result = check_config(
        path,
        SCORECARD_SOURCES="servicenow,focus",
        SERVICENOW_INSTANCE_URL="http://reader:s3cret-pw@itsm.example.com",
        SERVICENOW_PASSWORD="s3cret-pw",
        FOCUS_PATHS=f"{tmp_path}/exports/*.csv",
        SCORECARD_AS_OF="last tuesday",
        SCORECARD_TIMEZONE="Europe/Atlantis",
        SCORECARD_WAREHOUSE=str(not_a_folder / "warehouse.duckdb"),
    )
    assert result.returncode == 2
    expected = [
        "configuration has 9 problems; nothing was run:",
        "SCORECARD_TIMEZONE: unknown time zone 'Europe/Atlantis'",
        f"{path}: schedule.cron: cron expression 'every night' has 2 fields",
        f"{path}: metrics.change_failur_rate: unknown metric id 'change_failur_rate' (did you mean",
        f"{path}: metrics.csat.params: unknown parameter(s) ['nonsense']",
        "SERVICENOW_INSTANCE_URL: servicenow: refusing plain-http URL http://itsm.example.com",
        "servicenow: SERVICENOW_USERNAME is not set",
        f"focus: FOCUS_PATHS pattern '{tmp_path}/exports/*.csv' matched no files",
        "SCORECARD_AS_OF: 'last tuesday' is not an ISO timestamp",
        f"SCORECARD_WAREHOUSE: cannot create the folder {not_a_folder}: {not_a_folder} is a file",
    ]
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected), result.stderr
    for line, start in zip(lines, expected, strict=True):
        assert line.strip().startswith(start), (line, start)
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_an_unreadable_as_of_is_reported_once_with_cost_api_sources(tmp_path):
    # The cost API sources end their window at the run's as-of too; the clock's own line says
    # what is wrong, so each source does not repeat it.
    result = check_config(
        write(tmp_path, ""),
        SCORECARD_SOURCES="aws_ce,azure_cost",
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret-key",
        AZURE_COST_SCOPE="/subscriptions/0000",
        AZURE_TENANT_ID="tenant",
        AZURE_CLIENT_ID="client",
        AZURE_CLIENT_SECRET="client-secret",
        SCORECARD_AS_OF="yesterday",
        SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
    )
    assert result.returncode == 2
    assert result.stderr.count("SCORECARD_AS_OF") == 1, result.stderr
    assert "SCORECARD_AS_OF: 'yesterday' is not an ISO timestamp" in result.stderr


def test_check_config_passes_the_demo_and_a_source_with_everything_set(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "costs.csv").write_text("BilledCost\n1\n")
    warehouse = str(tmp_path / "new" / "folder" / "warehouse.duckdb")
    demo = check_config(write(tmp_path, ""), SCORECARD_WAREHOUSE=warehouse)
    assert demo.returncode == 0, demo.stderr
    assert "configuration OK: sources demo" in demo.stdout
    configured = check_config(
        write(tmp_path, ""),
        SCORECARD_SOURCES="servicenow,focus",
        SERVICENOW_INSTANCE_URL="http://127.0.0.1:8080",
        SERVICENOW_TOKEN="a-token",
        FOCUS_PATHS=f"{exports}/*.csv",
        SCORECARD_AS_OF="2026-12-01",
        SCORECARD_WAREHOUSE=warehouse,
    )
    assert configured.returncode == 0, configured.stderr
    assert "configuration OK: sources servicenow, focus" in configured.stdout
    # Checking creates nothing: the warehouse folder is created by the run.
    assert not (tmp_path / "new").exists()


def test_the_interval_of_whole_reads_is_set_per_source(tmp_path):
    path = write(
        tmp_path,
        "sources:\n  jira: {refresh_every_days: 3}\n  freshservice: {refresh_every_days: 0}\n"
        "  servicenow: {}\n",
    )
    settings = load_settings(path, env={})
    assert settings.refresh_every("jira") == timedelta(days=3)
    assert settings.refresh_every("freshservice") == timedelta(0)
    assert settings.refresh_every("servicenow") is None  # the connector's own default


def test_a_memory_limit_duckdb_cannot_read_is_named_before_and_when_the_warehouse_opens(tmp_path):
    (tmp_path / "scorecard.yaml").write_text("name: test\n")
    env = {
        "SCORECARD_SOURCES": "demo",
        "SCORECARD_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "SCORECARD_MEMORY_LIMIT": "2 gigs",
        "SCORECARD_CONFIG": str(tmp_path / "scorecard.yaml"),
    }
    (problem,) = preflight(env=env).problems
    assert problem.startswith("SCORECARD_MEMORY_LIMIT: '2 gigs' is not a memory size (e.g. 2GB")
    warehouse = Warehouse.at(env["SCORECARD_WAREHOUSE"], memory_limit="2 gigs")
    with pytest.raises(WarehouseError) as refused, warehouse.connect():
        pass
    assert str(refused.value) == problem
    assert preflight(env={**env, "SCORECARD_MEMORY_LIMIT": "512MB"}).problems == []


def test_a_warehouse_path_under_the_home_folder_is_expanded_everywhere(tmp_path, monkeypatch):
    """No shell expands `~` in a variable a scheduler sets: DuckDB would open $HOME's file while
    the staging copy, the locks and their clean-up went to a folder named "~" here."""
    from warehouse.publish import publish

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    warehouse = Warehouse.at("~/scorecard/warehouse.duckdb")
    assert warehouse.published_path == tmp_path / "home" / "scorecard" / "warehouse.duckdb"
    with warehouse.connect():
        pass
    publish(warehouse)
    assert sorted(p.name for p in (tmp_path / "home" / "scorecard").iterdir()) == [
        "warehouse.duckdb",
        "warehouse.work.duckdb",
        "warehouse.work.duckdb.lock",
    ]
    assert not (tmp_path / "~").exists()


def test_a_working_file_that_is_the_published_one_is_refused(tmp_path):
    """Loads would write the very file BI tools hold open, and the next night could not open it."""
    (tmp_path / "scorecard.yaml").write_text("name: test\n")
    published = tmp_path / "warehouse.duckdb"
    env = {
        "SCORECARD_SOURCES": "demo",
        "SCORECARD_WAREHOUSE": str(published),
        "SCORECARD_WORK_DATABASE": str(tmp_path / "." / "warehouse.duckdb"),
        "SCORECARD_CONFIG": str(tmp_path / "scorecard.yaml"),
    }
    assert preflight(env=env).problems == [
        "SCORECARD_WORK_DATABASE: the working warehouse and the published one are the same file "
        f"({published}), so loads would write the file BI tools read: set "
        "SCORECARD_WORK_DATABASE to another file, or leave it unset"
    ]
    with pytest.raises(ValueError, match="the working warehouse and the published one are the"):
        Warehouse.at(published, env["SCORECARD_WORK_DATABASE"])


def test_publish_settings_a_publish_would_refuse_are_found_before_the_run(tmp_path):
    """A publish runs last, after the night's loads and KPIs: what it would refuse is listed by
    check-config and the run's first step instead, without the password."""
    (tmp_path / "scorecard.yaml").write_text("name: test\n")
    env = {
        "SCORECARD_SOURCES": "demo",
        "SCORECARD_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "SCORECARD_CONFIG": str(tmp_path / "scorecard.yaml"),
        "SCORECARD_PUBLISH_URL": "postgresql://bi:p@ss@db.example.com/scorecard",
        "SCORECARD_PUBLISH_STATEMENT_TIMEOUT": "30m",
        "SCORECARD_PUBLISH_LOCK_WAIT": "-1",
    }
    assert preflight(env=env).problems == [
        "SCORECARD_PUBLISH_URL is not a valid database URL: an @ in the password must be "
        "written %40",
        "SCORECARD_PUBLISH_LOCK_WAIT must be a number of seconds above 0, got '-1'",
        "SCORECARD_PUBLISH_STATEMENT_TIMEOUT must be a number of seconds above 0, got '30m'",
    ]
    mysql = {**env, "SCORECARD_PUBLISH_URL": "mysql://bi:secret@db/scorecard"}
    mysql.pop("SCORECARD_PUBLISH_STATEMENT_TIMEOUT")
    mysql.pop("SCORECARD_PUBLISH_LOCK_WAIT")
    assert preflight(env=mysql).problems == [
        "SCORECARD_PUBLISH_URL names a mysql database; only PostgreSQL (postgresql://...) is "
        "published to"
    ]
    options = {
        **mysql,
        "SCORECARD_PUBLISH_URL": "postgresql://bi:secret@db/scorecard?connect_timeout=30s"
        "&sslmode=required",
    }
    assert preflight(env=options).problems == [
        "SCORECARD_PUBLISH_URL: connect_timeout: expected whole seconds, got '30s'; sslmode: "
        "expected one of disable, allow, prefer, require, verify-ca, verify-full, got 'required'"
    ]
    fine = {
        **mysql,
        "SCORECARD_PUBLISH_URL": "postgresql://bi:p%40ss@db.example.com/scorecard"
        "?connect_timeout=30&sslmode=require",
    }
    assert preflight(env=fine).problems == []
    # Two hosts (libpq tries each), as SQLAlchemy reads repeated host parameters.
    hosts = {
        **mysql,
        "SCORECARD_PUBLISH_URL": "postgresql://bi:secret@/scorecard?host=db1:5432&host=db2:5432"
        "&target_session_attrs=read-write",
    }
    assert preflight(env=hosts).problems == []


def test_a_demo_set_that_does_not_exist_is_found_before_the_run(tmp_path):
    (tmp_path / "scorecard.yaml").write_text("name: test\n")
    env = {
        "SCORECARD_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "SCORECARD_CONFIG": str(tmp_path / "scorecard.yaml"),
        "SCORECARD_DEMO": "bogus",
    }
    assert preflight(env=env).problems == [
        "SCORECARD_DEMO='bogus' is not a demo set; choose one of servicenow, jsm"
    ]
    assert preflight(env={**env, "SCORECARD_DEMO": "jsm"}).problems == []


def test_check_config_refuses_goals_ordered_against_what_the_metric_measures(tmp_path, capsys):
    """A median resolution time given threshold 4 h -> target 8 h would score 34 h as blue: the
    order of threshold and target must follow the catalogue's direction (better lower), also in
    a goal version and a scorecard's overlay; goals in the right order pass."""
    path = write(
        tmp_path,
        "metrics:\n"
        "  incident_resolution_time: {threshold: 4, target: 8, stretch: 24}\n"
        "  csat:\n"
        "    threshold: 78\n"
        "    target: 86\n"
        "    goals: [{effective: 2026-04-01, threshold: 90, target: 80}]\n"
        "  change_failure_rate: {threshold: 15, target: 10}\n"
        "scorecards:\n"
        "  desk:\n"
        "    metrics:\n"
        "      change_failure_rate: {threshold: 5, target: 10}\n",
    )
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path}: metrics.incident_resolution_time: threshold 4 -> target 8 scores higher values "
        "as better, but incident_resolution_time is better lower (docs/metrics.md); give the "
        "threshold above the target and the stretch beyond it"
    ) in err
    assert (
        f"{path}: metrics.csat.goals[0]: threshold 90 -> target 80 scores lower values as better, "
        "but csat is better higher"
    ) in err
    assert f"{path}: scorecards.desk.metrics.change_failure_rate: threshold 5 -> target 10" in err
    assert f"{path}: metrics.change_failure_rate:" not in err
    assert f"{path}: metrics.csat:" not in err


def test_check_config_warns_of_a_perspective_the_catalogue_does_not_name(tmp_path, capsys):
    """A misspelt perspective would roll up beside the one it was meant for: named, with the
    closest known one; a metric in another known perspective raises nothing."""
    path = write(
        tmp_path,
        "scorecard_id: it\nowner: CIO\n"
        "metrics:\n"
        "  csat: {perspective: custmer, objective: Delight, owner: CIO, threshold: 75, target: 85}\n"
        "  reopen_rate: {perspective: customer, objective: Fix, owner: CIO, threshold: 8, "
        "target: 5}\n",
    )
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "warning: it/metrics/csat: perspective: perspective 'custmer' is not one of the "
        "catalogue's (customer, financial, internal_process, learning_growth, security); did you "
        "mean 'customer'? it rolls up as a perspective of its own"
    ) in out
    assert "reopen_rate: perspective" not in out
