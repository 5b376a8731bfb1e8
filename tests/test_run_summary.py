"""The nightly summary's news: quarantined KPI values and status changes in the latest complete period."""

from datetime import date

from pipelines.run_summary import RunSummary, StatusChange, scorecard_news

# (metric, grain, period_start, complete, status): KPI values exist for running periods too
# (complete = false), but only complete periods are scored, so only those reach metric_status;
# the latest complete period of each scorecard and grain counts. A pilot scorecard has its own.
HISTORY = [
    ("change_failure_rate", "month", "2026-09-01", True, "green"),
    ("change_failure_rate", "month", "2026-10-01", True, "green"),
    ("change_failure_rate", "month", "2026-11-01", True, "red"),
    ("change_failure_rate", "month", "2026-12-01", False, "green"),
    ("sla_attainment", "month", "2026-10-01", True, "amber"),
    ("sla_attainment", "month", "2026-11-01", True, "amber"),
    ("sla_attainment", "month", "2026-12-01", False, "red"),
    ("cost_per_ticket", "month", "2026-10-01", True, "red"),
    ("cost_per_ticket", "month", "2026-11-01", True, "green"),
    ("first_contact_resolution", "month", "2026-11-01", True, "green"),
    ("retention_rate", "month", "2026-09-01", True, "red"),
    ("retention_rate", "month", "2026-10-01", True, "green"),
    ("deployment_frequency", "week", "2026-11-16", True, "amber"),
    ("deployment_frequency", "week", "2026-11-23", True, "green"),
    ("deployment_frequency", "week", "2026-11-30", False, "red"),
]


def test_status_changes_and_quarantined_values_of_the_latest_complete_period(warehouse):
    with warehouse.connect() as con:
        for metric_id, grain, period, complete, status in HISTORY:
            con.execute(
                "INSERT INTO kpi.metric_values BY NAME SELECT ? AS metric_id, ? AS grain, "
                "?::DATE AS period_start, 'all' AS dimension, 'all' AS dimension_value, "
                "? AS period_complete",
                [metric_id, grain, period, complete],
            )
            if complete:
                con.execute(
                    "INSERT INTO scorecard.metric_status BY NAME SELECT 'it' AS scorecard_id, "
                    "? AS metric_id, ? AS grain, ?::DATE AS period_start, ? AS status",
                    [metric_id, grain, period, status],
                )
        # The pilot's change_failure_rate stayed red: no change for it, whatever 'it' did.
        for period in ("2026-10-01", "2026-11-01"):
            con.execute(
                "INSERT INTO scorecard.metric_status BY NAME SELECT 'pilot' AS scorecard_id, "
                "'change_failure_rate' AS metric_id, 'month' AS grain, ?::DATE AS period_start, "
                "'red' AS status",
                [period],
            )
        con.execute(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, reason) VALUES "
            "('mttr', 'month', '2026-10-01', 'service', 'mail', "
            " 'quarantined: kpi_values_in_range: -3 outside 0-inf'), "
            "('mttr', 'month', '2026-11-01', 'service', 'mail', "
            " 'quarantined: kpi_values_in_range: nan is not a finite number'), "
            "('mttr', 'month', '2026-11-01', 'service', 'web', 'no records in period')"
        )
        con.execute(
            "INSERT INTO scorecard.data_quality (source, table_name, problem) VALUES "
            "('servicenow', 'incidents', 'unparseable date')"
        )

    quarantined, changes = scorecard_news(warehouse.working_path)

    # Two values were set aside; a value with no data and a staging problem are not quarantines.
    assert quarantined == 2
    # Latest complete month is November: change_failure_rate went green -> red and cost_per_ticket
    # red -> green; sla_attainment stayed amber (its December red is a running period);
    # first_contact_resolution has no earlier status; retention_rate changed in October, not in
    # the latest complete month. Latest complete week starts 2026-11-23: deployment_frequency
    # amber -> green (its running week's red is not reported).
    assert changes == [
        StatusChange("it", "change_failure_rate", "month", date(2026, 11, 1), "green", "red"),
        StatusChange("it", "cost_per_ticket", "month", date(2026, 11, 1), "red", "green"),
        StatusChange("it", "deployment_frequency", "week", date(2026, 11, 23), "amber", "green"),
    ]


def test_summary_text_names_each_source_the_quarantine_and_each_change():
    summary = RunSummary(
        run_id="r-1",
        job_name="nightly_scorecard",
        loaded={"servicenow": 12500, "focus": 3},
        quarantined=2,
        changes=[
            StatusChange("it", "change_failure_rate", "month", date(2026, 11, 1), "green", "red"),
            StatusChange("it", "automation_coverage", "quarter", date(2026, 7, 1), "red", "amber"),
            StatusChange("it", "deployment_frequency", "week", date(2026, 11, 22), "red", "amber"),
        ],
    )
    # Each period is named as the executive page names it.
    assert summary.text().splitlines() == [
        "ITSM Scorecard run r-1 of job nightly_scorecard succeeded.",
        "Loaded (records per source): focus 3, servicenow 12,500.",
        "Quarantined KPI values: 2.",
        "Status changes in the latest complete period: "
        "it/change_failure_rate (November 2026) green -> red; "
        "it/automation_coverage (Q3 2026) red -> amber; "
        "it/deployment_frequency (week of 2026-11-22) red -> amber.",
    ]


def test_summary_text_names_the_files_refused_while_the_run_went_on():
    summary = RunSummary(
        run_id="r-2",
        job_name="nightly_scorecard",
        loaded={"focus": 1000},
        quarantined=0,
        changes=[],
        refused={"focus": "focus: /exports/2024-10.csv is empty"},
    )
    assert summary.text().splitlines()[-2:] == [
        "Status changes in the latest complete period: none.",
        "Files refused by focus: focus: /exports/2024-10.csv is empty",
    ]
