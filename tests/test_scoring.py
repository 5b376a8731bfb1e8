"""Scores, statuses and roll-ups against goals, with the arithmetic of metrics.md by hand.

Score scale: 0 one step below threshold, 33.3 at threshold, 66.7 at target, 100 at stretch,
i.e. score = 100/3 * (1 + position) with position 0 at T, 1 at G, 2 at S. Status: red below
33.3, amber below 66.7, green below 100, blue at 100 (a band is green inside, never blue).
"""

from datetime import UTC, date, datetime

import pytest

from settings import load_settings
from transforms.scoring import score_metrics
from warehouse import Warehouse

MAY_1ST = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
DECEMBER_1ST = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def insert_values(con, rows, grain="month"):
    """Headline KPI rows: (metric_id, period_start, value, period_complete[, reason])."""
    con.executemany(
        "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
        "dimension_value, value, unit, period_complete, reason) "
        "VALUES (?, ?, ?, 'all', 'all', ?, '%', ?, ?)",
        [(r[0], grain, r[1], r[2], r[3], r[4] if len(r) > 4 else None) for r in rows],
    )


def statuses(con, columns="score, status, reason"):
    rows = con.execute(
        f"SELECT metric_id, period_start, {columns} FROM scorecard.metric_status"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


GOALS = {
    # lower is better: T 15, G 10, S defaults to G + (G - T) = 5
    "change_failure_rate": {
        "threshold": 15,
        "target": 10,
        "objective": "Reliable change",
        "perspective": "internal_process",
    },
    # higher is better: T 90, G 95, S 99; critical to its objective
    "sla_attainment": {
        "threshold": 90,
        "target": 95,
        "stretch": 99,
        "objective": "Reliable change",
        "critical": True,
        "perspective": "customer",
    },
    # a band: best inside [2, 5]
    "it_spend_pct_revenue": {
        "band": [2, 5],
        "objective": "Spend wisely",
        "perspective": "financial",
    },
    # no data at all: lowers coverage of its objective
    "cost_per_ticket": {
        "threshold": 40,
        "target": 25,
        "objective": "Spend wisely",
        "perspective": "financial",
    },
    "csat": {"enabled": False, "threshold": 1, "target": 2},
}

JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))
VALUES = [
    ("change_failure_rate", JAN, 12.0, True),  # position (12-15)/(10-15) = 0.6 -> 53.3 amber
    ("change_failure_rate", FEB, 14.0, True),  # position 0.2 -> 40.0 amber (second: escalate)
    ("change_failure_rate", MAR, 4.0, True),  # position 1 + (4-10)/(5-10) = 2.2 -> 100 blue
    ("change_failure_rate", APR, 17.5, True),  # position -0.5 -> 16.7 red
    ("sla_attainment", JAN, 97.0, True),  # position 1 + 2/4 = 1.5 -> 83.3 green
    ("sla_attainment", FEB, 92.0, True),  # position 0.4 -> 46.7 amber
    ("sla_attainment", MAR, 85.0, True),  # position -1 -> 0.0 red
    ("sla_attainment", APR, None, True, "too little data: n=2 below the minimum of 5"),
    ("it_spend_pct_revenue", JAN, 3.0, True),  # inside the band -> 100 green
    ("it_spend_pct_revenue", FEB, 6.0, True),  # a third of the width outside -> 66.7 green
]


@pytest.fixture
def scored(warehouse):
    with warehouse.connect() as con:
        insert_values(con, VALUES)
        con.execute(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) VALUES "
            "('change_failure_rate', 'month', DATE '2026-01-01', 'service', 'Email', 99, '%', true)"
        )
        summary = score_metrics(
            con, GOALS, {"change_failure_rate": "ignored: explicit wins"}, as_of=MAY_1ST
        )
        status = {
            (r[0], r[1].month): r[2:]
            for r in con.execute(
                "SELECT metric_id, period_start, score, status, trend, escalate, direction, "
                "stretch, baseline FROM scorecard.metric_status"
            ).fetchall()
        }
        objectives = {
            (r[0], r[1].month): r[2:]
            for r in con.execute(
                "SELECT objective, period_start, score, coverage, status, capped_at "
                "FROM scorecard.objective_scores"
            ).fetchall()
        }
        perspectives = {
            (r[0], r[1].month): r[2:]
            for r in con.execute(
                "SELECT perspective, period_start, score, coverage, status "
                "FROM scorecard.perspective_scores"
            ).fetchall()
        }
    return summary, status, objectives, perspectives


def test_metric_scores_and_statuses(scored):
    _, status, _, _ = scored
    assert status[("change_failure_rate", 1)][:2] == (53.3, "amber")
    assert status[("change_failure_rate", 2)][:2] == (40.0, "amber")
    assert status[("change_failure_rate", 3)][:2] == (100.0, "blue")
    assert status[("change_failure_rate", 4)][:2] == (16.7, "red")
    assert status[("sla_attainment", 1)][:2] == (83.3, "green")
    assert status[("sla_attainment", 2)][:2] == (46.7, "amber")
    assert status[("sla_attainment", 3)][:2] == (0.0, "red")
    assert status[("sla_attainment", 4)][:2] == (None, "grey")
    assert status[("it_spend_pct_revenue", 1)][:2] == (100.0, "green")
    assert status[("it_spend_pct_revenue", 2)][:2] == (66.7, "green")


def test_direction_default_stretch_baseline_trend_and_escalation(scored):
    _, status, _, _ = scored
    score, state, trend, escalate, direction, stretch, baseline = status[("change_failure_rate", 2)]
    assert (direction, stretch) == ("lower", 5.0)
    assert baseline == 12.0  # median of the first three values 12, 14, 4
    assert trend == "deteriorating"  # 12 -> 14 on a lower-is-better metric
    assert escalate is True  # amber two periods running
    assert status[("change_failure_rate", 1)][3] is False
    assert status[("change_failure_rate", 3)][2] == "improving"
    assert status[("change_failure_rate", 4)][3] is True  # red
    assert status[("sla_attainment", 1)][4] == "higher"


def test_rollups_weight_cover_and_cap(scored):
    summary, _, objectives, perspectives = scored
    assert summary.metrics_scored == 3  # cost_per_ticket has no values, csat is disabled
    # January: (53.3.. + 83.3..) / 2 = 68.3 green
    # (critical sla_attainment is green: it would keep the objective from blue)
    assert objectives[("Reliable change", 1)] == (68.3, 100.0, "green", "green")
    # March: (100 + 0) / 2 = 50; critical sla_attainment is red, so the objective is red, and
    # says what capped it
    assert objectives[("Reliable change", 3)] == (50.0, 100.0, "red", "red")
    # April: only change_failure_rate has data: coverage 50% -> insufficient data
    assert objectives[("Reliable change", 4)] == (None, 50.0, "insufficient data", None)
    # Spend wisely: band metric has data, cost_per_ticket never does -> 50% coverage
    assert objectives[("Spend wisely", 1)] == (None, 50.0, "insufficient data", None)
    assert perspectives[("customer", 1)] == (83.3, 100.0, "green")


# Day one of a month: the KPI step has a December row (value 0 so far, period_complete false).
DEPLOYMENTS = {
    # higher is better: T 5, G 10, S 20
    "deployment_frequency": {
        "threshold": 5,
        "target": 10,
        "stretch": 20,
        "objective": "Change safely and often",
        "perspective": "internal_process",
    }
}


@pytest.mark.parametrize(
    ("grain", "as_of", "periods"),
    [
        # October and November complete, December (the running month) not
        ("month", DECEMBER_1ST, [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]),
        # Monday 30 November: the week that started today is running
        (
            "week",
            datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
            [date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)],
        ),
    ],
)
def test_the_running_period_is_never_scored(warehouse, grain, as_of, periods):
    first, last_complete, running = periods
    goals = {"deployment_frequency": {**DEPLOYMENTS["deployment_frequency"], "grain": grain}}
    with warehouse.connect() as con:
        insert_values(
            con,
            [
                ("deployment_frequency", first, 12.0, True),
                ("deployment_frequency", last_complete, 11.0, True),
                ("deployment_frequency", running, 0.0, False),
            ],
            grain=grain,
        )
        score_metrics(con, goals, as_of=as_of)
        rows = statuses(con, "score, status, trend, escalate, baseline")
        latest = con.execute(
            "SELECT max(period_start) FROM scorecard.metric_status WHERE grain = ?", [grain]
        ).fetchone()[0]
        objective_periods = [
            r[0]
            for r in con.execute(
                "SELECT period_start FROM scorecard.objective_scores ORDER BY 1"
            ).fetchall()
        ]
    assert ("deployment_frequency", running) not in rows
    assert latest == last_complete
    assert objective_periods == [first, last_complete]
    # 11 per week: position 1 + (11-10)/(20-10) = 1.1 -> 100/3 * 2.1 = 70.0 green; 12 -> 11 on a
    # higher-is-better metric deteriorates but is not escalated; baseline median(12, 11) = 11.5
    # (the running 0 would have made it 11).
    assert rows[("deployment_frequency", last_complete)] == (
        70.0,
        "green",
        "deteriorating",
        False,
        11.5,
    )
    assert not any(
        status in ("red", "amber") or escalate for _, status, _, escalate, _ in rows.values()
    )


def test_the_readme_latest_month_query_shows_the_last_complete_month(warehouse):
    with warehouse.connect() as con:
        insert_values(
            con,
            [
                ("deployment_frequency", date(2026, 11, 1), 11.0, True),
                ("deployment_frequency", date(2026, 12, 1), 0.0, False),
            ],
        )
        score_metrics(con, DEPLOYMENTS, as_of=DECEMBER_1ST)
        latest = con.execute(
            "SELECT metric_id, period_start, status FROM scorecard.metric_status "
            "WHERE grain = 'month' AND period_start = "
            "(SELECT max(period_start) FROM scorecard.metric_status WHERE grain = 'month')"
        ).fetchall()
    assert latest == [("deployment_frequency", date(2026, 11, 1), "green")]


def test_rows_not_marked_complete_are_not_scored(warehouse):
    """A KPI row whose period_complete is unknown (NULL) is treated as running, not complete."""
    with warehouse.connect() as con:
        insert_values(
            con,
            [
                ("deployment_frequency", date(2026, 10, 1), 11.0, True),
                ("deployment_frequency", date(2026, 11, 1), 0.0, None),
            ],
        )
        score_metrics(con, DEPLOYMENTS, as_of=DECEMBER_1ST)
        rows = statuses(con)
    assert list(rows) == [("deployment_frequency", date(2026, 10, 1))]


def test_a_metric_without_goals_scores_null_grey_no_goals(warehouse):
    goals = {
        "csat": {"objective": "Delight", "perspective": "customer"},
        "self_service_adoption": {
            "threshold": 30,
            "target": 45,
            "objective": "Delight",
            "perspective": "customer",
        },
    }
    november = date(2026, 11, 1)
    with warehouse.connect() as con:
        insert_values(
            con,
            [
                ("csat", november, 80.0, True),
                # self-service at 45 = target: 66.7 green
                ("self_service_adoption", november, 45.0, True),
            ],
        )
        score_metrics(con, goals, as_of=DECEMBER_1ST)
        rows = statuses(con, "score, status, reason, direction, trend")
        objective = con.execute(
            "SELECT score, coverage, status FROM scorecard.objective_scores"
        ).fetchall()
    assert rows[("csat", november)] == (None, "grey", "no goals", None, None)
    # A metric without goals carries no weight: the objective is self-service alone, 100% covered.
    assert objective == [(66.7, 100.0, "green")]


def test_a_null_actual_is_grey_with_the_kpi_reason(warehouse):
    november = date(2026, 11, 1)
    with warehouse.connect() as con:
        insert_values(
            con,
            [
                ("deployment_frequency", date(2026, 10, 1), 11.0, True),
                ("deployment_frequency", november, None, True, "no data: no changes in period"),
            ],
        )
        score_metrics(con, DEPLOYMENTS, as_of=DECEMBER_1ST)
        rows = statuses(con)
    assert rows[("deployment_frequency", november)] == (
        None,
        "grey",
        "no data: no changes in period",
    )


# One metric per case, all scored in one warehouse: (goals, actual, score, status).
HIGHER = {"threshold": 90, "target": 95, "stretch": 99}
LOWER = {"threshold": 15, "target": 10}  # stretch defaults to 5
TARGET_ZERO = {"threshold": 5, "target": 0}  # stretch defaults to -5
BAND = {"band": [2, 5]}  # width 3: one step is 1
# Decimal goals whose default stretch adds up to a binary fraction (0.30000000000000004).
TENTHS = {"threshold": 0.1, "target": 0.2}
TENTHS_LOWER = {"threshold": 1.0, "target": 0.7}  # stretch 0.3999999999999999 in binary
BOUNDARIES = [
    # higher is better: position = (x - 90) / 5 below target, 1 + (x - 95) / 4 above
    pytest.param(HIGHER, 80.0, 0.0, "red", id="higher-far-below"),
    pytest.param(HIGHER, 85.0, 0.0, "red", id="higher-one-step-below-threshold"),
    pytest.param(HIGHER, 89.99, 33.2, "red", id="higher-just-below-threshold"),  # 33.27
    pytest.param(HIGHER, 90.0, 33.3, "amber", id="higher-at-threshold"),
    pytest.param(HIGHER, 92.5, 50.0, "amber", id="higher-midway"),
    pytest.param(HIGHER, 94.999, 66.6, "amber", id="higher-just-below-target"),  # 66.66
    pytest.param(HIGHER, 95.0, 66.7, "green", id="higher-at-target"),
    pytest.param(HIGHER, 96.0, 75.0, "green", id="higher-above-target"),  # position 1.25
    pytest.param(HIGHER, 98.999, 99.9, "green", id="higher-just-below-stretch"),  # 99.99
    pytest.param(HIGHER, 99.0, 100.0, "blue", id="higher-at-stretch"),
    pytest.param(HIGHER, 120.0, 100.0, "blue", id="higher-beyond-stretch"),
    # lower is better: position = (x - 15) / -5 below target, 1 + (x - 10) / -5 above
    pytest.param(LOWER, 25.0, 0.0, "red", id="lower-far-above"),
    pytest.param(LOWER, 20.0, 0.0, "red", id="lower-one-step-past-threshold"),
    pytest.param(LOWER, 15.01, 33.2, "red", id="lower-just-past-threshold"),  # 33.27
    pytest.param(LOWER, 15.0, 33.3, "amber", id="lower-at-threshold"),
    pytest.param(LOWER, 12.0, 53.3, "amber", id="lower-between"),  # position 0.6
    pytest.param(LOWER, 10.001, 66.6, "amber", id="lower-just-short-of-target"),  # 66.66
    pytest.param(LOWER, 10.0, 66.7, "green", id="lower-at-target"),
    pytest.param(LOWER, 5.001, 99.9, "green", id="lower-just-short-of-stretch"),  # 99.99
    pytest.param(LOWER, 5.0, 100.0, "blue", id="lower-at-default-stretch"),
    pytest.param(LOWER, 0.0, 100.0, "blue", id="lower-beyond-stretch"),
    pytest.param(TENTHS, 0.3, 100.0, "blue", id="tenths-at-default-stretch"),
    pytest.param(TENTHS_LOWER, 0.4, 100.0, "blue", id="tenths-lower-at-default-stretch"),
    pytest.param(TENTHS, 0.2, 66.7, "green", id="tenths-at-target"),
    # a target of 0: position = (x - 5) / -5
    pytest.param(TARGET_ZERO, 2.5, 50.0, "amber", id="zero-target-midway"),
    pytest.param(TARGET_ZERO, 0.0, 66.7, "green", id="zero-target-met"),
    # band [2, 5]: inside = position 2; outside position = 2 - distance / 1
    pytest.param(BAND, 3.5, 100.0, "green", id="band-inside"),
    pytest.param(BAND, 2.0, 100.0, "green", id="band-at-low-edge"),
    pytest.param(BAND, 5.0, 100.0, "green", id="band-at-high-edge"),
    pytest.param(BAND, 5.01, 99.7, "green", id="band-just-above"),  # the 5.01 on [2, 5]
    pytest.param(BAND, 1.99, 99.7, "green", id="band-just-below"),
    pytest.param(BAND, 6.0, 66.7, "green", id="band-one-step-above"),
    pytest.param(BAND, 6.01, 66.3, "amber", id="band-past-one-step-above"),  # position 0.99
    pytest.param(BAND, 1.0, 66.7, "green", id="band-one-step-below"),
    pytest.param(BAND, 7.0, 33.3, "amber", id="band-two-steps-above"),
    pytest.param(BAND, 0.0, 33.3, "amber", id="band-two-steps-below"),
    pytest.param(BAND, 7.01, 33.0, "red", id="band-past-two-steps-above"),  # position -0.01
    pytest.param(BAND, 8.0, 0.0, "red", id="band-three-steps-above"),
    pytest.param(BAND, -1.0, 0.0, "red", id="band-three-steps-below"),
    pytest.param(BAND, 20.0, 0.0, "red", id="band-far-above"),
]


@pytest.fixture(scope="module")
def boundary_scores(tmp_path_factory):
    cases = {f"case_{i}": p.values for i, p in enumerate(BOUNDARIES)}
    november = date(2026, 11, 1)
    with Warehouse.at(tmp_path_factory.mktemp("boundaries") / "w.duckdb").connect() as con:
        insert_values(con, [(m, november, actual, True) for m, (_, actual, *_) in cases.items()])
        score_metrics(con, {m: goals for m, (goals, *_) in cases.items()}, as_of=DECEMBER_1ST)
        rows = statuses(con, "score, status")
    return {m: rows[(m, november)] for m in cases}


@pytest.mark.parametrize(("goals", "actual", "score", "status"), BOUNDARIES)
def test_score_and_status_agree_at_every_boundary(boundary_scores, goals, actual, score, status):
    case = next(f"case_{i}" for i, p in enumerate(BOUNDARIES) if p.values[:2] == (goals, actual))
    assert boundary_scores[case] == (score, status)
    # The published score alone tells the status, with one set of cut-offs for every direction.
    cut = "red" if score < 33.3 else "amber" if score < 66.7 else "green" if score < 100 else "top"
    assert cut == status or (cut == "top" and status == ("green" if "band" in goals else "blue"))


# A monthly metric whose source stopped after September (its KPI rows end there).
SEPTEMBER, OCTOBER, NOVEMBER = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
DECEMBER = date(2026, 12, 1)
STOPPED = {
    # higher is better: T 80, G 90
    "cost_allocation_coverage": {
        "threshold": 80,
        "target": 90,
        "objective": "Accountable spend",
        "perspective": "financial",
    },
    "cloud_spend": {
        "threshold": 1000,
        "target": 800,
        "objective": "Accountable spend",
        "perspective": "financial",
    },
}


def score_stopped_source(warehouse, as_of, coverage_rows):
    with warehouse.connect() as con:
        insert_values(con, coverage_rows)
        insert_values(
            con,
            [("cloud_spend", p, 700.0, True) for p in (SEPTEMBER, OCTOBER, NOVEMBER)],
        )
        score_metrics(con, STOPPED, as_of=as_of)
        rows = statuses(con)
        objectives = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT period_start, score, coverage, status FROM scorecard.objective_scores"
            ).fetchall()
        }
    return rows, objectives


def test_a_source_that_stopped_is_stale_not_green_as_the_latest(warehouse):
    # September ended on October 1st; 1.5 months later (November 16th) it is stale.
    rows, objectives = score_stopped_source(
        warehouse,
        DECEMBER_1ST,
        [
            ("cost_allocation_coverage", date(2026, 8, 1), 92.0, True),
            ("cost_allocation_coverage", SEPTEMBER, 95.0, True),
        ],
    )
    reason = "stale: no value since the month starting 2026-09-01"
    # September keeps its own score: position 1 + (95-90)/10 = 1.5 -> 83.3 green.
    assert rows[("cost_allocation_coverage", SEPTEMBER)] == (83.3, "green", None)
    assert rows[("cost_allocation_coverage", OCTOBER)] == (None, "stale", reason)
    assert rows[("cost_allocation_coverage", NOVEMBER)] == (None, "stale", reason)
    # cloud_spend 700 against T 1000, G 800, S 600: position 1 + (700-800)/(600-800) = 1.5 -> 83.3.
    # September: (83.3 + 83.3) / 2. November: stale counts as missing, so cloud_spend alone covers
    # half the weight -> insufficient data, not green.
    assert objectives[SEPTEMBER] == (83.3, 100.0, "green")
    assert objectives[NOVEMBER] == (None, 50.0, "insufficient data")


def test_stale_also_replaces_empty_kpi_rows_after_the_last_value(warehouse):
    rows, _ = score_stopped_source(
        warehouse,
        DECEMBER_1ST,
        [
            ("cost_allocation_coverage", SEPTEMBER, 95.0, True),
            ("cost_allocation_coverage", OCTOBER, None, True, "no data: no costs in period"),
            ("cost_allocation_coverage", NOVEMBER, None, True, "no data: no costs in period"),
        ],
    )
    assert rows[("cost_allocation_coverage", NOVEMBER)][1] == "stale"


def test_periods_with_records_too_few_for_a_value_stay_grey_with_their_reason(warehouse):
    """The source still delivers, only too little for a value: October and November keep the
    KPI step's reason and open no stale action; the owner reads why there is no value."""
    with warehouse.connect() as con:
        insert_values(con, [("cost_allocation_coverage", SEPTEMBER, 95.0, True)])
        too_few = "too little data: n=2 below the minimum of 5"
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, n, unit, period_complete, reason) "
            "VALUES ('cost_allocation_coverage', 'month', ?, 'all', 'all', NULL, 2, '%', true, ?)",
            [(OCTOBER, too_few), (NOVEMBER, too_few)],
        )
        score_metrics(con, STOPPED, as_of=datetime(2027, 1, 1, 2, tzinfo=UTC))
        rows = statuses(con)
        triggers = con.execute("SELECT DISTINCT trigger FROM scorecard.actions").fetchall()
    assert rows[("cost_allocation_coverage", OCTOBER)] == (None, "grey", too_few)
    assert rows[("cost_allocation_coverage", NOVEMBER)] == (None, "grey", too_few)
    # December has no row at all: three months after September's value, stale.
    assert rows[("cost_allocation_coverage", DECEMBER)][1] == "stale"
    assert ("stale_over_two_cadences",) not in triggers


@pytest.mark.parametrize(
    ("as_of", "november"),
    [
        # October ended November 1st: + 1 month 15 days = December 16th, 00:00.
        (
            datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
            (None, "grey", "no value computed for this period"),
        ),
        (
            datetime(2026, 12, 16, 0, 0, tzinfo=UTC),
            (None, "grey", "no value computed for this period"),
        ),
        (
            datetime(2026, 12, 16, 0, 0, 1, tzinfo=UTC),
            (None, "stale", "stale: no value since the month starting 2026-10-01"),
        ),
    ],
)
def test_a_value_turns_stale_after_one_and_a_half_cadences(warehouse, as_of, november):
    rows, _ = score_stopped_source(
        warehouse, as_of, [("cost_allocation_coverage", OCTOBER, 95.0, True)]
    )
    assert rows[("cost_allocation_coverage", NOVEMBER)] == november
    assert rows[("cost_allocation_coverage", OCTOBER)] == (83.3, "green", None)


def test_a_weekly_metric_is_stale_after_ten_and_a_half_days(warehouse):
    weekly = {"deployment_frequency": {**DEPLOYMENTS["deployment_frequency"], "grain": "week"}}
    with warehouse.connect() as con:
        insert_values(con, [("deployment_frequency", date(2026, 11, 9), 12.0, True)], grain="week")
        # The week of November 9th ended on the 16th; + 10.5 days = November 26th, 12:00.
        score_metrics(con, weekly, as_of=datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
        rows = statuses(con, "status")
    assert rows == {
        ("deployment_frequency", date(2026, 11, 9)): ("green",),
        ("deployment_frequency", date(2026, 11, 16)): ("stale",),
        ("deployment_frequency", date(2026, 11, 23)): ("stale",),
    }


def test_scoring_uses_the_calendar_time_zone_for_complete_periods(warehouse):
    """23:30 UTC on November 30th is already December 1st in Berlin: November is complete there."""
    with warehouse.connect() as con:
        insert_values(con, [("deployment_frequency", date(2026, 10, 1), 11.0, True)])
        as_of = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
        score_metrics(con, DEPLOYMENTS, as_of=as_of, timezone="UTC")
        in_utc = sorted(p for _, p in statuses(con))
        score_metrics(con, DEPLOYMENTS, as_of=as_of, timezone="Europe/Berlin")
        in_berlin = sorted(p for _, p in statuses(con))
    assert in_utc == [date(2026, 10, 1)]
    assert in_berlin == [date(2026, 10, 1), date(2026, 11, 1)]


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (90.0, (33.3, "amber")),  # at threshold: 33.3 amber, and so is its objective
        (89.99, (33.2, "red")),
        (95.0, (66.7, "green")),  # at target
        (94.999, (66.6, "amber")),
    ],
)
def test_an_objective_of_one_metric_agrees_with_it(warehouse, actual, expected):
    goals = {"sla_attainment": {**HIGHER, "objective": "Keep promises", "perspective": "customer"}}
    with warehouse.connect() as con:
        insert_values(con, [("sla_attainment", date(2026, 11, 1), actual, True)])
        score_metrics(con, goals, as_of=DECEMBER_1ST)
        metric = con.execute("SELECT score, status FROM scorecard.metric_status").fetchone()
        objective = con.execute("SELECT score, status FROM scorecard.objective_scores").fetchone()
    assert metric == objective == expected


JULY_1ST = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def test_a_goal_version_naming_threshold_and_target_replaces_stretch_and_band(warehouse, tmp_path):
    """From April, change failure rate 8 -> 4 (stretch by default 4 + (4 - 8) = 0, not the 5 of
    before, which lies behind the new target) and IT spend from the band [2, 5] to 5 -> 3
    (stretch 1)."""
    path = tmp_path / "scorecard.yaml"
    path.write_text(
        "metrics:\n"
        "  change_failure_rate: {threshold: 15, target: 10, stretch: 5,\n"
        "    goals: [{effective: 2026-04-01, threshold: 8, target: 4}]}\n"
        "  it_spend_pct_revenue: {band: [2, 5],\n"
        "    goals: [{effective: 2026-04-01, threshold: 5, target: 3}]}\n"
    )
    settings = load_settings(path, env={})
    with warehouse.connect() as con:
        insert_values(
            con,
            [
                ("change_failure_rate", date(2026, 3, 1), 4.0, True),
                ("change_failure_rate", date(2026, 4, 1), 4.0, True),
                ("change_failure_rate", date(2026, 5, 1), 3.0, True),
                ("change_failure_rate", date(2026, 6, 1), 0.0, True),
                ("it_spend_pct_revenue", date(2026, 3, 1), 4.5, True),
                ("it_spend_pct_revenue", date(2026, 4, 1), 4.5, True),
                ("it_spend_pct_revenue", date(2026, 5, 1), 1.0, True),
            ],
        )
        score_metrics(
            con,
            settings.metric_overrides(),
            {},
            as_of=JULY_1ST,
            scorecards=settings.scorecard_metrics(),
        )
        scored = statuses(con, "stretch, direction, score, status")
    assert scored == {
        # March, old goals: 4 is beyond the stretch 5.
        ("change_failure_rate", date(2026, 3, 1)): (5.0, "lower", 100.0, "blue"),
        # At the new target 4: 66.7; 3 is a quarter of the way to the stretch 0: 66.7 + 8.3.
        ("change_failure_rate", date(2026, 4, 1)): (0.0, "lower", 66.7, "green"),
        ("change_failure_rate", date(2026, 5, 1)): (0.0, "lower", 75.0, "green"),
        ("change_failure_rate", date(2026, 6, 1)): (0.0, "lower", 100.0, "blue"),
        # Inside the band [2, 5]: green 100.
        ("it_spend_pct_revenue", date(2026, 3, 1)): (None, "band", 100.0, "green"),
        # 4.5 is a quarter of the way from threshold 5 to target 3: 33.3 + 8.3.
        ("it_spend_pct_revenue", date(2026, 4, 1)): (1.0, "lower", 41.7, "amber"),
        # 1.0 is the stretch 3 + (3 - 5).
        ("it_spend_pct_revenue", date(2026, 5, 1)): (1.0, "lower", 100.0, "blue"),
        # June has no value yet: grey, not scored.
        ("it_spend_pct_revenue", date(2026, 6, 1)): (1.0, "lower", None, "grey"),
    }


def test_a_critical_metric_at_green_keeps_its_objective_from_blue(warehouse):
    """A critical band metric inside its band is green with a score of 100; beside a blue metric
    the objective's mean is 100, but the critical metric caps it at its own green."""
    goals = {
        "it_spend_pct_revenue": {
            "band": [2, 5],
            "objective": "Spend wisely",
            "perspective": "financial",
            "critical": True,
        },
        "cost_per_ticket": {
            "threshold": 40,
            "target": 25,
            "objective": "Spend wisely",
            "perspective": "financial",
        },
    }
    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) "
            "VALUES (?, 'month', DATE '2026-01-01', 'all', 'all', ?, '%', true)",
            [("it_spend_pct_revenue", 3.0), ("cost_per_ticket", 5.0)],
        )
        score_metrics(con, goals, as_of=datetime(2026, 2, 1, 2, tzinfo=UTC))
        statuses = dict(
            con.execute("SELECT metric_id, status FROM scorecard.metric_status").fetchall()
        )
        objective = con.execute(
            "SELECT score, status FROM scorecard.objective_scores WHERE objective = 'Spend wisely'"
        ).fetchall()
    assert statuses == {"it_spend_pct_revenue": "green", "cost_per_ticket": "blue"}
    assert objective == [(100.0, "green")]


def test_a_coverage_just_short_of_70_percent_is_kept_short_of_it(warehouse):
    """Data for 699 of 999 weight is 69.97%: insufficient data, and stored as such (rounded to
    one decimal it read 70.0, and the overall's mean of coverages could reach 70 on it)."""
    goals = {
        "change_failure_rate": {
            "threshold": 15, "target": 10, "weight": 699,
            "objective": "Reliable change", "perspective": "internal_process",
        },
        "sla_attainment": {
            "threshold": 90, "target": 95, "weight": 300,
            "objective": "Reliable change", "perspective": "internal_process",
        },
    }  # fmt: skip
    with warehouse.connect() as con:
        insert_values(con, [("change_failure_rate", date(2026, 11, 1), 12.0, True)])
        score_metrics(con, goals, as_of=DECEMBER_1ST)
        rows = con.execute(
            "SELECT coverage, score, status FROM scorecard.perspective_scores "
            "WHERE period_start = DATE '2026-11-01'"
        ).fetchall()
    assert rows == [(pytest.approx(100 * 699 / 999, abs=1e-6), None, "insufficient data")]
    assert rows[0][0] < 70


def test_a_roll_up_without_a_verdict_records_no_cap(warehouse):
    """sla_attainment (critical, weight 1) is red; csat (weight 3) has no value: a quarter of the
    weight is covered, so the objective has no verdict ('insufficient data') and no cap to pass on
    to the overall, which would otherwise turn red with no red perspective on the page."""
    goals = {
        "sla_attainment": {
            "threshold": 90,
            "target": 95,
            "objective": "Serve",
            "perspective": "customer",
            "critical": True,
        },
        "csat": {
            "threshold": 70,
            "target": 80,
            "objective": "Serve",
            "perspective": "customer",
            "weight": 3,
        },
    }
    with warehouse.connect() as con:
        insert_values(con, [("sla_attainment", date(2026, 4, 1), 80.0, True)])
        insert_values(con, [("csat", date(2026, 4, 1), None, True, "no data: no responses")])
        score_metrics(con, goals, as_of=MAY_1ST)
        levels = con.execute(
            "SELECT status, coverage, capped_at FROM scorecard.objective_scores "
            "UNION ALL SELECT status, coverage, capped_at FROM scorecard.perspective_scores"
        ).fetchall()
    assert levels == [("insufficient data", 25.0, None)] * 2
