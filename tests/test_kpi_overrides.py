"""scorecard.yaml can disable or redefine a metric without code changes; bad settings name their path."""

from __future__ import annotations

from datetime import date

import pytest
from kpi_fixtures.support import AS_OF, load_fixture, values_by_key

import transforms.kpis as kpis
from transforms.kpis import compute_metrics

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def compute(warehouse, overrides):
    with warehouse.connect() as con:
        load_fixture(con)
        summary = compute_metrics(
            con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF, overrides=overrides
        )
        return summary, values_by_key(con)


def value(values, metric, period, grain="month", dimension="all", dimension_value="all"):
    return values[(metric, grain, period, dimension, dimension_value)]["value"]


def test_redefined_metrics(warehouse):
    overrides = {
        # owner/target keys belong to the scorecard and are ignored here
        "change_failure_rate": {
            "owner": "Head of Change",
            "target": 10,
            "params": {"failed_outcomes": ["Unsuccessful", "successful_issues"]},
        },
        "mean_time_to_restore": {
            "params": {"major_priorities": [1], "include_change_caused": False}
        },
        "self_service_adoption": {"params": {"self_service_channels": ["phone"]}},
        "cloud_spend": {"params": {"cost_column": "BilledCost"}},
        "it_spend_pct_revenue": {"params": {"include_cloud_costs": True}},
        "csat": {"params": {"top_box_points": 1}},
    }
    _, values = compute(warehouse, overrides)
    # Feb: C7 (successful_issues) and C9 (unsuccessful) now both fail
    assert value(values, "change_failure_rate", FEB) == 100.0
    # only P1 counts: Jan I1 2 h; Mar I9 4 h
    assert value(values, "mean_time_to_restore", JAN) == 2.0
    assert value(values, "mean_time_to_restore", MAR) == 4.0
    # Jan phone tickets: I2, I6, R2 of 9
    assert value(values, "self_service_adoption", JAN) == pytest.approx(300 / 9)
    # BilledCost: 120 + 50 + 30 - 20
    assert value(values, "cloud_spend", JAN) == 180.0
    # (50,000 + 160) / 2,000,000
    assert value(values, "it_spend_pct_revenue", JAN) == pytest.approx(2.508)
    # The quarter: K5 (40, on 1 February in Berlin) lies outside the only it_spend input
    # (January), so it is left out rather than added to January's spend; and with spend for
    # January alone, the quarter has no value.
    quarter = values[("it_spend_pct_revenue", "quarter", date(2024, 1, 1), "all", "all")]
    assert (quarter["value"], quarter["numerator"]) == (None, pytest.approx(50160))
    assert quarter["reason"] == "incomplete spend inputs: 31 of 91 days covered"
    # top-1-box: Q1 5/5 and no 10/10: 1 of 5
    assert value(values, "csat", JAN) == 20.0


def test_caused_by_links_can_be_switched_off(warehouse):
    _, values = compute(
        warehouse, {"change_failure_rate": {"params": {"count_caused_incidents": False}}}
    )
    # C2 no longer fails: C3, C4 of 5
    assert value(values, "change_failure_rate", JAN) == 40.0


def test_a_survey_named_in_capitals_finds_its_answers(warehouse):
    # spreadsheets' survey names are stored in lower case, so "Engagement" is the survey E1-E3 took
    _, values = compute(warehouse, {"employee_engagement": {"params": {"survey": "Engagement"}}})
    # February: E2 7/10 = 70 and E3 3/5 = 60
    assert value(values, "employee_engagement", FEB) == pytest.approx(65.0)


def test_disabled_metric_and_own_min_n(warehouse):
    summary, values = compute(
        warehouse,
        {
            "incident_resolution_time": {"enabled": False},
            "reopen_rate": {"min_n": 4},
        },
    )
    assert "incident_resolution_time" in summary.disabled
    assert not any(key[0] == "incident_resolution_time" for key in values)
    # the P90 companion still runs on the shared facts
    assert value(values, "incident_resolution_time_p90", JAN) == pytest.approx(18.6)
    assert value(values, "reopen_rate", JAN) == 25.0
    assert values[("reopen_rate", "month", MAR, "all", "all")]["reason"] == (
        "too little data: n=3 below the minimum of 4"
    )
    assert summary.rows_by_metric["reopen_rate"] > 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"change_failure_rate": {"params": {"failed_close_codes": ["x"]}}},
            "metrics.change_failure_rate.params: unknown parameter(s) ['failed_close_codes']",
        ),
        (
            {"change_failure_rate": {"params": {"failed_outcomes": "unsuccessful"}}},
            "metrics.change_failure_rate.params.failed_outcomes: expected a list of strings",
        ),
        (
            {"mean_time_to_restore": {"params": {"major_priorities": ["P1"]}}},
            "metrics.mean_time_to_restore.params.major_priorities: expected a list of integers",
        ),
        ({"csat": {"enabled": "yes"}}, "metrics.csat.enabled: expected true or false"),
        ({"csat": {"min_n": -1}}, "metrics.csat.min_n: expected a whole number >= 0"),
        (
            {"cloud_spend": {"params": {"cost_column": "ListCost"}}},
            "metrics.cloud_spend.params.cost_column: expected one of ['EffectiveCost', 'BilledCost']",
        ),
        (
            {"mttr": {"enabled": True}},
            "metrics: unknown metric id 'mttr'; known ids: cost_per_ticket",
        ),
        (
            {"change_failur_rate": {"enabled": True}},
            "metrics: unknown metric id 'change_failur_rate' (did you mean 'change_failure_rate'?)",
        ),
    ],
)
def test_bad_overrides_name_their_path(warehouse, overrides, message):
    with warehouse.connect() as con, pytest.raises(ValueError) as error:
        compute_metrics(con, overrides=overrides, as_of=AS_OF)
    assert message in str(error.value)


def test_bad_settings_are_refused(warehouse):
    with warehouse.connect() as con:
        with pytest.raises(ValueError, match="timezone: unknown time zone 'Mars/Olympus'"):
            compute_metrics(con, timezone="Mars/Olympus", as_of=AS_OF)
        with pytest.raises(ValueError, match="week_start"):
            compute_metrics(con, week_start="funday", as_of=AS_OF)
        with pytest.raises(ValueError, match="grains"):
            compute_metrics(con, grains=("day",), as_of=AS_OF)


def test_failed_run_keeps_previous_values(warehouse, monkeypatch):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        before = values_by_key(con)
        facts_before = con.execute("SELECT count(*) FROM kpi.metric_facts").fetchall()

        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(kpis, "_store_specs", broken)
        con.execute("DELETE FROM core.changes")
        with pytest.raises(RuntimeError, match="disk full"):
            compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        assert values_by_key(con) == before
        assert con.execute("SELECT count(*) FROM kpi.metric_facts").fetchall() == facts_before
        # The run writes its rows unordered; the session's own setting comes back either way.
        setting = "SELECT current_setting('preserve_insertion_order')"
        assert con.execute(setting).fetchall() == [(True,)]


def _it_spend_with(warehouse, statements, include_cloud_costs=True):
    with warehouse.connect() as con:
        load_fixture(con)
        for statement in statements:
            con.execute(statement)
        compute_metrics(
            con,
            timezone="Europe/Berlin",
            min_n=1,
            as_of=AS_OF,
            overrides={
                "it_spend_pct_revenue": {"params": {"include_cloud_costs": include_cloud_costs}}
            },
        )
        return values_by_key(con)[("it_spend_pct_revenue", "month", JAN, "all", "all")]


USD_COSTS = "UPDATE core.costs SET BillingCurrency = 'USD'"


def test_it_spend_in_euros_is_not_added_to_cloud_costs_in_dollars(warehouse):
    """January's it_spend (50,000) and revenue (2,000,000) are entered in EUR; the cloud costs
    the metric would add (EffectiveCost 100 + 50 + 30 - 20 = 160) are in USD. 50,160 / 2,000,000
    would mix the two: no value, and the coverage says why."""
    january = _it_spend_with(
        warehouse,
        [
            USD_COSTS,
            "UPDATE core.measures SET unit = 'EUR' WHERE metric_id IN ('it_spend', 'revenue')",
        ],
    )
    assert january["value"] is None
    assert (
        "excluded: it_spend in EUR, the cloud costs added to it in USD (FOCUS_CURRENCY)"
        in (january["coverage"])
    )


def test_spend_and_revenue_in_two_currencies_give_no_value(warehouse):
    """it_spend in USD over revenue in EUR (lower case, padded: ' eur ') divides dollars by
    euros: no value. Without cloud costs the check on revenue alone applies."""
    january = _it_spend_with(
        warehouse,
        [
            "UPDATE core.measures SET unit = 'USD' WHERE metric_id = 'it_spend'",
            "UPDATE core.measures SET unit = ' eur ' WHERE metric_id = 'revenue'",
        ],
        include_cloud_costs=False,
    )
    assert january["value"] is None
    assert "excluded: it_spend in USD, revenue in EUR" in january["coverage"]


@pytest.mark.parametrize(
    ("spend_unit", "revenue_unit"), [("usd", " USD"), ("$", ""), (None, "USD"), ("USD", None)]
)
def test_one_currency_or_units_that_name_none_still_add_up(warehouse, spend_unit, revenue_unit):
    """Spend and revenue in USD (any case) beside USD costs, or units that name no currency or
    one the other side does not contradict, give (50,000 + 160) / 2,000,000 = 2.508%."""
    january = _it_spend_with(
        warehouse,
        [
            USD_COSTS,
            f"UPDATE core.measures SET unit = {spend_unit!r} WHERE metric_id = 'it_spend'"
            if spend_unit is not None
            else "SELECT 1",
            f"UPDATE core.measures SET unit = {revenue_unit!r} WHERE metric_id = 'revenue'"
            if revenue_unit is not None
            else "SELECT 1",
        ],
    )
    assert january["value"] == pytest.approx(2.508)
