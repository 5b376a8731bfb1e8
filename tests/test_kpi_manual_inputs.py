"""KPIs from spreadsheet inputs (core.measures) given per month, per quarter or as one span.

Each case loads only its own inputs and computes the KPIs in Pacific/Auckland as of 00:30 on the
1st of a month, when the month before has just ended; expected values carry their derivation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from kpi_fixtures.support import values_by_key

from transforms.kpis import compute_metrics

# 2026-05-01 00:30 NZST (UTC+12; New Zealand left daylight time on April 5th)
MAY_1_0030_AUCKLAND = datetime(2026, 4, 30, 12, 30, tzinfo=UTC)
Q1, Q2 = date(2026, 1, 1), date(2026, 4, 1)
MAR, APR, MAY = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)


def compute(warehouse, inputs: str, as_of: datetime = MAY_1_0030_AUCKLAND) -> dict:
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.measures (metric_id, period_start, period_end, value, dimension, "
            f"dimension_value, source) VALUES {inputs}"
        )
        compute_metrics(con, timezone="Pacific/Auckland", min_n=1, as_of=as_of)
        return values_by_key(con)


def test_project_roi_by_month_counts_an_initiative_s_quarterly_inputs(warehouse):
    values = compute(
        warehouse,
        # Q1 given as one span, April as a month
        "('project_cost', '2026-01-01', '2026-03-31', 100, 'initiative', 'INI-1', 'measures'),"
        "('project_benefit', '2026-01-01', '2026-03-31', 20, 'initiative', 'INI-1', 'measures'),"
        "('project_cost', '2026-04-01', NULL, 50, 'initiative', 'INI-1', 'measures'),"
        "('project_benefit', '2026-04-01', NULL, 200, 'initiative', 'INI-1', 'measures')",
    )
    # up to the end of March: Q1's (20 - 100) / 100; of April: (220 - 150) / 150, not April's
    # own (200 - 50) / 50 = 300% as if Q1's cost had never been spent
    for dimension, member in (("all", "all"), ("initiative", "INI-1")):
        march = values[("project_roi", "month", MAR, dimension, member)]
        april = values[("project_roi", "month", APR, dimension, member)]
        assert march["value"] == pytest.approx(-80.0)
        assert (april["numerator"], april["denominator"]) == (70.0, 150.0)
        assert april["value"] == pytest.approx(100 * 70 / 150)
    # the quarters agree with the months that end them
    assert values[("project_roi", "quarter", Q1, "all", "all")]["value"] == pytest.approx(-80.0)
    assert values[("project_roi", "quarter", Q2, "all", "all")]["value"] == pytest.approx(
        100 * 70 / 150
    )
    # no month before March has a return so far: Q1's inputs are known by its end only
    assert ("project_roi", "month", date(2026, 2, 1), "all", "all") not in values


def test_it_spend_as_a_share_of_revenue_needs_revenue_for_the_whole_period(warehouse):
    values = compute(
        warehouse,
        # Q1: spend for every month, revenue for January and February only; April has both
        "('it_spend', '2026-01-01', NULL, 30, 'all', 'all', 'measures'),"
        "('it_spend', '2026-02-01', NULL, 30, 'all', 'all', 'measures'),"
        "('it_spend', '2026-03-01', NULL, 30, 'all', 'all', 'measures'),"
        "('revenue', '2026-01-01', NULL, 1000, 'all', 'all', 'measures'),"
        "('revenue', '2026-02-01', NULL, 1000, 'all', 'all', 'measures'),"
        "('it_spend', '2026-04-01', NULL, 40, 'all', 'all', 'measures'),"
        "('revenue', '2026-04-01', NULL, 1000, 'all', 'all', 'measures')",
    )
    # Q1: 90 of spend over 2,000 of revenue would read 4.5% where the quarter's share is nearer 3%
    q1 = values[("it_spend_pct_revenue", "quarter", Q1, "all", "all")]
    assert q1["value"] is None
    assert q1["reason"] == "incomplete revenue inputs: 59 of 90 days covered"
    # March has spend and no revenue at all: no data
    march = values[("it_spend_pct_revenue", "month", MAR, "all", "all")]
    assert (march["value"], march["reason"]) == (None, "no data: no revenue inputs in period")
    # January: 30 / 1,000; April: 40 / 1,000
    assert values[("it_spend_pct_revenue", "month", date(2026, 1, 1), "all", "all")][
        "value"
    ] == pytest.approx(3.0)
    assert values[("it_spend_pct_revenue", "month", APR, "all", "all")]["value"] == pytest.approx(
        4.0
    )


def test_training_hours_per_fte_needs_headcount_for_the_whole_period(warehouse):
    values = compute(
        warehouse,
        # Q4 2025: headcount as one span, training per month; Q1 2026: March's headcount missing
        "('headcount_fte', '2025-10-01', '2025-12-31', 50, 'all', 'all', 'measures'),"
        "('training_hours', '2025-10-01', NULL, 100, 'all', 'all', 'measures'),"
        "('training_hours', '2025-11-01', NULL, 100, 'all', 'all', 'measures'),"
        "('training_hours', '2025-12-01', NULL, 100, 'all', 'all', 'measures'),"
        "('headcount_fte', '2026-01-01', NULL, 50, 'all', 'all', 'measures'),"
        "('headcount_fte', '2026-02-01', NULL, 50, 'all', 'all', 'measures'),"
        "('training_hours', '2026-01-01', NULL, 100, 'all', 'all', 'measures'),"
        "('training_hours', '2026-02-01', NULL, 100, 'all', 'all', 'measures'),"
        "('training_hours', '2026-03-01', NULL, 100, 'all', 'all', 'measures')",
    )
    # Q4: 300 hours over an average of 50 FTE
    assert values[("training_hours_per_fte", "quarter", date(2025, 10, 1), "all", "all")][
        "value"
    ] == pytest.approx(6.0)
    # Q1: March's headcount is not 0 FTE; 300 / (50 x 59 / 90) = 9.2 would overstate it by half
    q1 = values[("training_hours_per_fte", "quarter", Q1, "all", "all")]
    assert q1["value"] is None
    assert q1["reason"] == "incomplete headcount inputs: 59 of 90 days covered"
    # January and February have their own headcount: 100 / 50
    assert values[("training_hours_per_fte", "month", date(2026, 1, 1), "all", "all")][
        "value"
    ] == pytest.approx(2.0)


def test_sums_of_monthly_inputs_need_every_month_of_the_period(warehouse):
    values = compute(
        warehouse,
        # Q1 2026: training hours and certifications for January and March only, headcount for
        # every month; Q4 2025 complete.
        "('headcount_fte', '2025-10-01', '2025-12-31', 50, 'all', 'all', 'measures'),"
        "('headcount_fte', '2026-01-01', NULL, 50, 'all', 'all', 'measures'),"
        "('headcount_fte', '2026-02-01', NULL, 50, 'all', 'all', 'measures'),"
        "('headcount_fte', '2026-03-01', NULL, 50, 'all', 'all', 'measures'),"
        "('training_hours', '2025-10-01', '2025-12-31', 300, 'all', 'all', 'measures'),"
        "('certifications', '2025-10-01', NULL, 2, 'all', 'all', 'measures'),"
        "('certifications', '2025-11-01', NULL, 3, 'all', 'all', 'measures'),"
        "('certifications', '2025-12-01', NULL, 4, 'all', 'all', 'measures'),"
        "('training_hours', '2026-01-01', NULL, 100, 'all', 'all', 'measures'),"
        "('training_hours', '2026-03-01', NULL, 100, 'all', 'all', 'measures'),"
        "('certifications', '2026-01-01', NULL, 5, 'all', 'all', 'measures'),"
        "('certifications', '2026-03-01', NULL, 6, 'all', 'all', 'measures')",
    )
    # Q4: 300 hours over 50 FTE; 2 + 3 + 4 certifications
    q4 = date(2025, 10, 1)
    assert values[("training_hours_per_fte", "quarter", q4, "all", "all")]["value"] == (
        pytest.approx(6.0)
    )
    assert values[("certifications", "quarter", q4, "all", "all")]["value"] == pytest.approx(9.0)
    # Q1: February's inputs are missing, not zero: 200 / 50 = 4.0 and 11 would understate it.
    # January 31 + March 31 = 62 of the quarter's 90 days.
    for metric, noun in (
        ("training_hours_per_fte", "training"),
        ("certifications", "certification"),
    ):
        q1 = values[(metric, "quarter", Q1, "all", "all")]
        assert (q1["value"], q1["reason"]) == (
            None,
            f"incomplete {noun} inputs: 62 of 90 days covered",
        )
    # January alone is complete: 100 / 50 and 5
    jan = date(2026, 1, 1)
    assert values[("training_hours_per_fte", "month", jan, "all", "all")]["value"] == (
        pytest.approx(2.0)
    )
    assert values[("certifications", "month", jan, "all", "all")]["value"] == pytest.approx(5.0)


def test_remediation_days_count_only_beside_the_count_of_the_same_days(warehouse):
    values = compute(
        warehouse,
        # January and February complete; March's days entered, its count not yet
        "('critical_vuln_remediation_days', '2026-01-01', NULL, 40, 'all', 'all', 'measures'),"
        "('critical_vulns_remediated', '2026-01-01', NULL, 4, 'all', 'all', 'measures'),"
        "('critical_vuln_remediation_days', '2026-02-01', NULL, 10, 'all', 'all', 'measures'),"
        "('critical_vulns_remediated', '2026-02-01', NULL, 1, 'all', 'all', 'measures'),"
        "('critical_vuln_remediation_days', '2026-03-01', NULL, 300, 'all', 'all', 'measures')",
    )
    quarter = values[("critical_vulnerability_remediation_time", "quarter", Q1, "all", "all")]
    march = values[("critical_vulnerability_remediation_time", "month", MAR, "all", "all")]
    # Q1: (40 + 10) / (4 + 1), not March's 300 days too over the 5 of January and February
    assert (quarter["numerator"], quarter["denominator"]) == (50.0, 5.0)
    assert quarter["value"] == pytest.approx(10.0)
    assert march["value"] is None
    assert (
        "excluded: no critical_vulns_remediated input over the same days (1)" in (march["coverage"])
    )
