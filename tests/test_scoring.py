"""Scores, statuses and roll-ups against goals, with the arithmetic of metrics.md by hand."""

from datetime import date

import pytest

from transforms.scoring import score_metrics

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

VALUES = [
    (
        "change_failure_rate",
        date(2026, 1, 1),
        12.0,
    ),  # position (12-15)/(10-15) = 0.6 -> 100/3*1.6 = 53.3 amber
    (
        "change_failure_rate",
        date(2026, 2, 1),
        14.0,
    ),  # position 0.2 -> 40.0 amber (second amber: escalate)
    (
        "change_failure_rate",
        date(2026, 3, 1),
        4.0,
    ),  # position 1 + (4-10)/(5-10) = 2.2 -> clamp 100 blue
    ("change_failure_rate", date(2026, 4, 1), 17.5),  # position -0.5 -> 16.7 red
    ("sla_attainment", date(2026, 1, 1), 97.0),  # position 1 + 2/4 = 1.5 -> 83.3 green
    ("sla_attainment", date(2026, 2, 1), 92.0),  # position 0.4 -> 46.7 amber
    ("sla_attainment", date(2026, 3, 1), 85.0),  # position -1 -> 0.0 red
    ("sla_attainment", date(2026, 4, 1), None),  # too little data -> grey
    ("it_spend_pct_revenue", date(2026, 1, 1), 3.0),  # inside the band -> 100 green
    (
        "it_spend_pct_revenue",
        date(2026, 2, 1),
        6.0,
    ),  # 1 outside a band 3 wide -> 100*(1-1/3) = 66.7 red
]


@pytest.fixture
def scored(warehouse):
    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, dimension_value, value, unit) "
            "VALUES (?, 'month', ?, 'all', 'all', ?, '%')",
            VALUES,
        )
        con.execute(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, dimension_value, value, unit) "
            "VALUES ('change_failure_rate', 'month', DATE '2026-01-01', 'service', 'Email', 99, '%')"
        )
        summary = score_metrics(con, GOALS, {"change_failure_rate": "ignored: explicit wins"})
        status = {
            (r[0], r[1].month): r[2:]
            for r in con.execute(
                "SELECT metric_id, period_start, score, status, trend, escalate, direction, stretch, baseline "
                "FROM scorecard.metric_status"
            ).fetchall()
        }
        objectives = {
            (r[0], r[1].month): r[2:]
            for r in con.execute(
                "SELECT objective, period_start, score, coverage, status FROM scorecard.objective_scores"
            ).fetchall()
        }
        perspectives = {
            (r[0], r[1].month): r[2:]
            for r in con.execute(
                "SELECT perspective, period_start, score, coverage, status FROM scorecard.perspective_scores"
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
    assert status[("it_spend_pct_revenue", 2)][:2] == (66.7, "red")


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
    assert objectives[("Reliable change", 1)] == (68.3, 100.0, "green")
    # March: (100 + 0) / 2 = 50; critical sla_attainment is red, so the objective is red
    assert objectives[("Reliable change", 3)] == (50.0, 100.0, "red")
    # April: only change_failure_rate has data: coverage 50% -> insufficient data
    assert objectives[("Reliable change", 4)] == (None, 50.0, "insufficient data")
    # Spend wisely: band metric has data, cost_per_ticket never does -> 50% coverage
    assert objectives[("Spend wisely", 1)] == (None, 50.0, "insufficient data")
    assert perspectives[("customer", 1)] == (83.3, 100.0, "green")
