"""Commentary validation, governance findings, versioned goals and retired metrics, initiatives."""

from datetime import UTC, date, datetime

import pytest

from settings.commentary import load_commentary
from settings.config import ConfigError, Settings
from settings.governance import governance_findings
from transforms.scoring import initiative_rows, score_metrics

SETTINGS = Settings.model_validate(
    {
        "owner": "CIO",
        "metrics": {
            "change_failure_rate": {
                "threshold": 15,
                "target": 10,
                "owner": "Change Manager",
                "objective": "Change safely",
                # From April the goals tighten: T 12, G 8.
                "goals": [{"effective": "2026-04-01", "threshold": 12, "target": 8}],
            },
            "reopen_rate": {
                "threshold": 8,
                "target": 5,
                "objective": "Change safely",
                "retired": "2026-03-01",
            },
            "csat": {"threshold": 75, "target": 85, "owner": "Head of Service Desk"},
        },
        "scorecards": {"service_desk": {"metrics": {"csat": {"objective": "Delight users"}}}},
        "initiatives": {
            "safer_releases": {
                "name": "Safer releases",
                "owner": "Head of Engineering",
                "start": "2026-02-01",
                "metrics": ["change_failure_rate"],
                "review_periods": 2,
            },
            "orphan": {"owner": "PMO", "metrics": ["csat"]},
        },
    }
)


def test_commentary_errors_name_file_line_and_key(tmp_path):
    file = tmp_path / "commentary.yaml"
    file.write_text(
        "- {metric: csat, period: 2026-03, commentary: Survey changed}\n"
        "- {metric: nope, period: 2026-03, decision: x}\n"
        "- {metric: csat, period: March, commentary: y, mood: sad}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_commentary(file, SETTINGS)
    assert str(error.value).splitlines() == [
        f"{file}:2: metric: 'nope' is not on scorecard 'default'",
        f"{file}:3: mood: unknown key (expected scorecard, metric, period, commentary, "
        "decision, author)",
        f"{file}:3: period: expected YYYY-MM or YYYY-MM-DD (the period's first day)",
    ]


def test_commentary_for_a_day_that_starts_no_period_of_the_metric_is_refused(tmp_path):
    settings = Settings.model_validate(
        {
            "calendar": {"week_start": "sunday"},
            "metrics": {
                "csat": {"threshold": 75, "target": 85},
                "retention_rate": {"grain": "quarter", "threshold": 85, "target": 90},
                "deployment_frequency": {"grain": "week", "threshold": 5, "target": 10},
            },
        }
    )
    file = tmp_path / "commentary.yaml"
    file.write_text(
        "- {metric: csat, period: 2026-03-15, commentary: Mid-month}\n"
        "- {metric: retention_rate, period: 2026-05, commentary: Not a quarter}\n"
        # 2026-03-02 is a Monday; weeks start on Sunday (2026-03-01).
        "- {metric: deployment_frequency, period: 2026-03-02, commentary: Monday}\n"
        "- {metric: csat, period: 2026-03, commentary: March}\n"
        "- {metric: retention_rate, period: 2026-04-01, commentary: Q2}\n"
        "- {metric: deployment_frequency, period: 2026-03-08, commentary: Sunday}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_commentary(file, settings)
    assert str(error.value).splitlines() == [
        f"{file}:1: period: 2026-03-15 does not start a month; csat is scored per month, so "
        "this period would never show (the month holding it starts 2026-03-01)",
        f"{file}:2: period: 2026-05-01 does not start a quarter; retention_rate is scored per "
        "quarter, so this period would never show (the quarter holding it starts 2026-04-01)",
        f"{file}:3: period: 2026-03-02 does not start a week; deployment_frequency is scored "
        "per week, so this period would never show (the week holding it starts 2026-03-01)",
    ]


def test_commentary_csv_lines_count_the_header(tmp_path):
    file = tmp_path / "commentary.csv"
    file.write_text(
        "scorecard,metric,period,commentary,decision\n"
        "service_desk,csat,2026-03,Survey changed,\n"
        "service_desk,reopen_rate,2026-03,,Drop it\n"
    )
    with pytest.raises(ConfigError, match=rf"{file}:3: metric: 'reopen_rate' is not on"):
        load_commentary(file, SETTINGS)
    file.write_text("metric,period,decision\ncsat,2026-03-01,Keep\n")
    [comment] = load_commentary(file, SETTINGS)
    assert (comment.scorecard_id, comment.period_start, comment.decision) == (
        "default",
        date(2026, 3, 1),
        "Keep",
    )


def test_governance_findings():
    found = {(f.record_key, f.problem) for f in governance_findings(SETTINGS)}
    assert found == {
        # reopen_rate is retired, so only change_failure_rate and csat count as active.
        ("default/metrics/csat", "metric that no objective uses"),
        ("service_desk", "scorecard has no owner"),
        ("default/initiatives/orphan", "initiative traces to no objective"),
    }


def test_a_metric_retired_later_is_still_in_use_for_the_design_checks():
    # Before its retirement on 2026-03-01 reopen_rate counts, and it has no owner.
    before = {(f.record_key, f.problem) for f in governance_findings(SETTINGS, date(2026, 2, 28))}
    after = {(f.record_key, f.problem) for f in governance_findings(SETTINGS, date(2026, 3, 1))}
    assert before - after == {("default/metrics/reopen_rate", "metric has no owner")}
    assert after - before == set()


def test_goals_effective_mid_period_are_flagged_with_the_period_they_apply_from():
    settings = Settings.model_validate(
        {
            "owner": "CIO",
            "calendar": {"week_start": "sunday"},
            "metrics": {
                "csat": {
                    "objective": "Delight",
                    "owner": "Head of Service Desk",
                    "threshold": 75,
                    "target": 85,
                    "goals": [
                        {"effective": "2026-04-01", "threshold": 78, "target": 88},
                        {"effective": "2026-06-15", "threshold": 80, "target": 90},
                    ],
                },
                "deployment_frequency": {
                    "objective": "Delight",
                    "owner": "CIO",
                    "grain": "week",
                    "threshold": 5,
                    "target": 10,
                    # 2026-03-01 is a Sunday, 2026-03-02 a Monday.
                    "goals": [
                        {"effective": "2026-03-01", "threshold": 6, "target": 12},
                        {"effective": "2026-03-09", "threshold": 7, "target": 14},
                    ],
                },
            },
        }
    )
    flagged = [str(f) for f in governance_findings(settings) if f.field == "goals"]
    assert flagged == [
        "default/metrics/csat: goals: effective in the middle of a month: they apply from the "
        "next month, 2026-07-01; the month starting 2026-06-01 keeps the goals before them "
        "(2026-06-15)",
        "default/metrics/deployment_frequency: goals: effective in the middle of a week: they "
        "apply from the next week, 2026-03-15; the week starting 2026-03-08 keeps the goals "
        "before them (2026-03-09)",
    ]


@pytest.fixture
def scored(warehouse):
    # change_failure_rate 12 in Jan-Mar, 11 in Apr and May; reopen_rate 6 every month.
    values = [
        ("change_failure_rate", date(2026, m, 1), 12.0 if m <= 3 else 11.0) for m in range(1, 6)
    ]
    values += [("reopen_rate", date(2026, m, 1), 6.0) for m in range(1, 6)]
    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) VALUES (?, 'month', ?, 'all', 'all', "
            "?, '%', true)",
            values,
        )
        score_metrics(
            con,
            {},
            as_of=datetime(2026, 6, 1, 2, tzinfo=UTC),
            scorecards=SETTINGS.scorecard_metrics(),
            initiatives=initiative_rows(SETTINGS.initiatives),
            governance=governance_findings(SETTINGS),
        )
        yield con


def test_versioned_goals_never_rewrite_earlier_periods(scored):
    rows = scored.execute(
        "SELECT period_start, threshold, target, status, score FROM scorecard.metric_status "
        "WHERE metric_id = 'change_failure_rate' ORDER BY period_start"
    ).fetchall()
    # March: 12 against T 15 G 10: position (12-15)/(10-15) = 0.6 -> 53.3 amber.
    assert rows[2] == (date(2026, 3, 1), 15.0, 10.0, "amber", 53.3)
    # April: 11 against T 12 G 8: position (11-12)/(8-12) = 0.25 -> 41.7 amber.
    assert rows[3] == (date(2026, 4, 1), 12.0, 8.0, "amber", 41.7)


def test_a_retired_metric_keeps_its_history_and_leaves_scoring(scored):
    periods = scored.execute(
        "SELECT period_start FROM scorecard.metric_status WHERE metric_id = 'reopen_rate'"
    ).fetchall()
    # Retired 1 March: January and February remain, nothing after.
    assert sorted(p for (p,) in periods) == [date(2026, 1, 1), date(2026, 2, 1)]


def test_a_metric_retired_before_a_goal_change_it_had_scheduled_leaves_scoring_at_retirement(
    warehouse,
):
    # New goals were planned from April, then the metric was retired on 1 March.
    settings = Settings.model_validate(
        {
            "metrics": {
                "reopen_rate": {
                    "threshold": 8,
                    "target": 5,
                    "objective": "Fix it",
                    "retired": "2026-03-01",
                    "goals": [{"effective": "2026-04-01", "threshold": 7, "target": 4}],
                },
                "csat": {"threshold": 75, "target": 85, "objective": "Fix it"},
            }
        }
    )
    values = [(date(2026, m, 1), 6.0, 80.0) for m in range(1, 6)]
    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) VALUES "
            "('reopen_rate', 'month', $1, 'all', 'all', $2, '%', true), "
            "('csat', 'month', $1, 'all', 'all', $3, '%', true)",
            values,
        )
        score_metrics(
            con,
            {},
            as_of=datetime(2026, 6, 1, 2, tzinfo=UTC),
            scorecards=settings.scorecard_metrics(),
        )
        periods = con.execute(
            "SELECT period_start FROM scorecard.metric_status WHERE metric_id = 'reopen_rate' "
            "ORDER BY period_start"
        ).fetchall()
        objective = con.execute(
            "SELECT period_start, score, coverage FROM scorecard.objective_scores "
            "WHERE objective = 'Fix it' ORDER BY period_start"
        ).fetchall()
    assert [p for (p,) in periods] == [date(2026, 1, 1), date(2026, 2, 1)]
    # csat 80 against T 75 G 85: position 0.5 -> 50.0; reopen_rate 6 against T 8 G 5: position
    # 2/3 -> 55.6. Jan-Feb: (50 + 55.6) / 2 = 52.8; from March csat alone, coverage 100%.
    assert objective == [
        (date(2026, 1, 1), 52.8, 100.0),
        (date(2026, 2, 1), 52.8, 100.0),
        (date(2026, 3, 1), 50.0, 100.0),
        (date(2026, 4, 1), 50.0, 100.0),
        (date(2026, 5, 1), 50.0, 100.0),
    ]


def test_initiative_progress_and_published_governance(scored):
    progress = scored.execute(
        "SELECT start_period, start_value, latest_period, latest_value, movement, improved, "
        "moved_in_review_window FROM scorecard.initiative_progress "
        "WHERE initiative_id = 'safer_releases'"
    ).fetchall()
    # Started February (12), latest May (11): down 1 on a lower-is-better metric. The review
    # window is May and the two periods before it: 12, 11, 11 -> moved.
    assert progress == [(date(2026, 2, 1), 12.0, date(2026, 5, 1), 11.0, -1.0, True, True)]
    governance = scored.execute(
        "SELECT scorecard_id, record_key FROM scorecard.data_quality "
        "WHERE table_name = 'governance' ORDER BY record_key"
    ).fetchall()
    # orphan's csat has no values on the default card, so it has not moved either.
    assert ("default", "default/initiatives/orphan") in governance
    assert ("service_desk", "service_desk") in governance


def _initiative(key: str, start: date, metrics: list[str]) -> dict:
    return {
        "scorecard_id": "default",
        "initiative_id": key,
        "name": key,
        "owner": "PMO",
        "budget": 1.0,
        "status": "active",
        "start_date": start,
        "end_date": date(2027, 12, 31),
        "objectives": [],
        "metrics": metrics,
        "review_periods": 3,
    }


def test_an_initiative_too_new_or_never_measured_is_not_judged_as_standing_still(warehouse):
    # change_failure_rate improves every month, 20 in January down to 0 in November; csat has
    # no value at all (its survey not wired up yet).
    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) VALUES (?, "
            "'month', ?, 'all', 'all', ?, '%', true)",
            [("change_failure_rate", date(2026, m, 1), 22.0 - 2 * m) for m in range(1, 12)]
            + [("reopen_rate", date(2026, m, 1), 6.0) for m in range(1, 12)],
        )
        score_metrics(
            con,
            {
                "change_failure_rate": {"threshold": 15, "target": 10},
                "reopen_rate": {"threshold": 8, "target": 5},
                "csat": {"threshold": 75},
            },
            as_of=datetime(2026, 12, 1, 2, tzinfo=UTC),
            initiatives=[
                # Started in November, the latest complete month: nothing after its start yet.
                _initiative("new", date(2026, 11, 15), ["change_failure_rate"]),
                _initiative("next_year", date(2027, 1, 1), ["change_failure_rate"]),
                _initiative("since_june", date(2026, 6, 1), ["change_failure_rate"]),
                _initiative("unmeasured", date(2026, 6, 1), ["csat"]),
                # Flat since June: it has not moved, whatever its unmeasured csat does.
                _initiative("flat", date(2026, 6, 1), ["reopen_rate", "csat"]),
            ],
        )
        progress = con.execute(
            "SELECT initiative_id, start_period, latest_period, improved "
            "FROM scorecard.initiative_progress WHERE initiative_id <> 'flat' "
            "ORDER BY initiative_id"
        ).fetchall()
        findings = con.execute(
            "SELECT record_key, problem, value FROM scorecard.data_quality "
            "WHERE record_key LIKE 'default/initiatives/%' ORDER BY record_key"
        ).fetchall()
    november, june = date(2026, 11, 1), date(2026, 6, 1)
    assert progress == [
        ("new", november, november, None),
        ("next_year", november, november, None),
        ("since_june", june, november, True),  # 10 in June, 0 in November
        ("unmeasured", None, None, None),
    ]
    assert findings == [
        (
            "default/initiatives/flat",
            "initiative whose metrics have not moved over its review window",
            "reopen_rate",
        ),
        ("default/initiatives/unmeasured", "initiative whose metrics have no values yet", "csat"),
    ]


def test_initiative_roi_just_after_a_month_ends_is_the_month_s(warehouse):
    from transforms.kpis import compute_metrics

    # INIT-1: December cost 1000 and benefit 500, January cost 1000 and benefit 1500, and a
    # benefit of 100 for the week of 22-28 January. On Friday 2 February January is complete,
    # the week holding its last day (29 January - 4 February) is not.
    as_of = datetime(2024, 2, 2, 12, tzinfo=UTC)
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.measures (metric_id, period_start, period_end, value, dimension, "
            "dimension_value, source) VALUES "
            "('project_cost', '2023-12-01', '2023-12-31', 1000, 'initiative', 'INIT-1', 'm'), "
            "('project_benefit', '2023-12-01', '2023-12-31', 500, 'initiative', 'INIT-1', 'm'), "
            "('project_cost', '2024-01-01', '2024-01-31', 1000, 'initiative', 'INIT-1', 'm'), "
            "('project_benefit', '2024-01-01', '2024-01-31', 1500, 'initiative', 'INIT-1', 'm'), "
            "('project_benefit', '2024-01-22', '2024-01-28', 100, 'initiative', 'INIT-1', 'm')"
        )
        compute_metrics(con, timezone="UTC", min_n=1, as_of=as_of)
        initiative = _initiative("INIT-1", date(2023, 12, 1), ["change_failure_rate"])
        score_metrics(
            con,
            {"change_failure_rate": {"threshold": 15, "target": 10}},
            as_of=as_of,
            initiatives=[initiative],
        )
        roi = con.execute(
            "SELECT project_roi FROM scorecard.initiative_progress WHERE initiative_id = 'INIT-1'"
        ).fetchone()
    # The return so far at the end of January: (500 + 1500 + 100 - 2000) / 2000 = 5%; the week of
    # 22-28 January, the latest complete one, has only December's inputs and its own benefit:
    # (500 + 100 - 1000) / 1000 = -40%.
    assert roi == (5.0,)
