"""Restatements: values of periods already complete in the previous run that this run changed.

Late data (a source read again, restated cloud costs, a ticket closed late) moves a period that
was scored; kpi.metric_restatements lists each such value of dimension 'all', previous and new,
for the run that just finished, and nothing when the runs cannot be compared.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from kpi_fixtures.support import AS_OF, load_fixture

from transforms.kpis import compute_metrics

JAN = date(2024, 1, 1)
WEEK_OF_JAN_8, WEEK_OF_JAN_22 = date(2024, 1, 8), date(2024, 1, 22)
BERLIN = {"timezone": "Europe/Berlin", "min_n": 1, "as_of": AS_OF}

# A cost line billed late for Wednesday 2024-01-10: untagged, so unallocated.
LATE_COST = """
INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ChargeCategory,
    BilledCost, EffectiveCost, ProviderName, ServiceCategory, ServiceName, Tags, cost_centre,
    service)
VALUES ('K6', 'focus', '2024-01-10 00:00+00', '2024-01-11 00:00+00', 'Usage', 25, 25, 'AWS',
    'Compute', 'EC2', NULL, NULL, NULL)
"""


def restatements(con) -> dict[tuple, tuple]:
    """{(metric, grain, period): (previous_value, value)}"""
    rows = con.execute(
        "SELECT metric_id, grain, period_start, previous_value, value FROM kpi.metric_restatements"
    ).fetchall()
    return {tuple(row[:3]): tuple(row[3:]) for row in rows}


def last_computed_at(con):
    return con.execute("SELECT computed_at FROM kpi.metric_runs").fetchall()[0][0]


def test_a_late_cost_in_a_closed_month_restates_each_changed_value_once(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        first = compute_metrics(con, **BERLIN)
        first_computed_at = last_computed_at(con)
        con.execute(LATE_COST)
        second = compute_metrics(con, **BERLIN)
        restated = restatements(con)
        stamps = con.execute(
            "SELECT DISTINCT previous_computed_at, computed_at, unit IS NOT NULL "
            "FROM kpi.metric_restatements"
        ).fetchall()
        second_computed_at = last_computed_at(con)
    assert first.restated == 0  # the first run has nothing to compare with
    assert second.restated == 4
    # January in Berlin (as of 2024-03-31, complete; Q1 and March are still running):
    # cloud spend K1 100 + K2 50 + K3 30 + K4 credit -20 = 160 (K5 starts on Feb 1 in Berlin),
    # plus K6 25 = 185. Allocation coverage leaves the credit out of both sides: owned K1 100 +
    # K2 50 over charges 100 + 50 + 30 = 150 / 180; with the unowned K6, 150 / 205.
    # The week of Jan 8 had no cost at all (NULL, no data); now K6 alone: 25, 0% allocated.
    # Every other metric and period is unchanged, and not listed.
    assert restated.keys() == {
        ("cloud_spend", "month", JAN),
        ("cloud_spend", "week", WEEK_OF_JAN_8),
        ("cost_allocation_coverage", "month", JAN),
        ("cost_allocation_coverage", "week", WEEK_OF_JAN_8),
    }
    assert restated[("cloud_spend", "month", JAN)] == pytest.approx((160, 185))
    assert restated[("cloud_spend", "week", WEEK_OF_JAN_8)] == (None, pytest.approx(25))
    assert restated[("cost_allocation_coverage", "month", JAN)] == pytest.approx(
        (100 * 150 / 180, 100 * 150 / 205)
    )
    assert restated[("cost_allocation_coverage", "week", WEEK_OF_JAN_8)] == (
        None,
        pytest.approx(0),
    )
    assert stamps == [(first_computed_at, second_computed_at, True)]


def test_a_value_that_lost_its_records_is_restated_to_no_value_with_the_reason(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        # The credit K4 (-20, Jan 25) was the only cost line of the week of Jan 22; the provider
        # withdrew it.
        con.execute("DELETE FROM core.costs WHERE cost_id = 'K4'")
        compute_metrics(con, **BERLIN)
        week = con.execute(
            "SELECT previous_value, value, reason FROM kpi.metric_restatements "
            "WHERE metric_id = 'cloud_spend' AND grain = 'week' AND period_start = ?",
            [WEEK_OF_JAN_22],
        ).fetchall()
        month = restatements(con)[("cloud_spend", "month", JAN)]
    assert week == [(-20, None, "no data: no cost rows in period")]
    # January: 160 without the credit's -20.
    assert month == pytest.approx((160, 180))


def test_a_value_dated_back_before_a_metrics_first_period_is_restated_from_no_value(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        first_computed_at = last_computed_at(con)
        # A cost line of Sunday 2023-12-10 arrives late: cloud spend so far began with January
        # 2024, so December, its week and Q4 2023 had no row at all, though all three were over.
        con.execute(
            LATE_COST.replace("2024-01-10", "2023-12-10").replace("2024-01-11", "2023-12-11")
        )
        compute_metrics(con, **BERLIN)
        restated = restatements(con)
        stamps = con.execute(
            "SELECT DISTINCT previous_computed_at, reason FROM kpi.metric_restatements"
        ).fetchall()
    dec, week_of_dec_4, q4 = date(2023, 12, 1), date(2023, 12, 4), date(2023, 10, 1)
    # 25 of spend in each, none of it allocated (untagged). The weeks of Dec 11, 18 and 25 have
    # rows now too, without a value as before: not listed.
    assert restated == {
        (metric, grain, period): (None, pytest.approx(value))
        for metric, value in (("cloud_spend", 25), ("cost_allocation_coverage", 0))
        for grain, period in (("month", dec), ("week", week_of_dec_4), ("quarter", q4))
    }
    assert stamps == [(first_computed_at, None)]


@pytest.mark.parametrize(("put_back", "listed"), [(25, []), (30, [(25, 30)])])
def test_a_withdrawn_first_value_put_back_on_a_same_day_rerun_is_compared_once(
    warehouse, put_back, listed
):
    """Last night December 2023 had cloud spend 25 (its only line); tonight's run finds the line
    withdrawn (restated to no value) and a re-run that day finds it back: the day's baseline,
    25, decides, so 25 again is no news and 30 is one restatement, not also one from none."""
    december_line = LATE_COST.replace("2024-01-10", "2023-12-10").replace(
        "2024-01-11", "2023-12-11"
    )
    with warehouse.connect() as con:
        load_fixture(con)
        con.execute(december_line)
        compute_metrics(con, **(BERLIN | {"as_of": AS_OF - timedelta(days=1)}))
        con.execute("DELETE FROM core.costs WHERE cost_id = 'K6'")
        compute_metrics(con, **BERLIN)
        assert restatements(con)[("cloud_spend", "month", date(2023, 12, 1))] == (25, None)
        con.execute(december_line.replace("25, 25", f"{put_back}, {put_back}"))
        compute_metrics(con, **(BERLIN | {"as_of": AS_OF + timedelta(minutes=30)}))
        december = con.execute(
            "SELECT previous_value, value FROM kpi.metric_restatements "
            "WHERE metric_id = 'cloud_spend' AND grain = 'month' AND period_start = ?",
            [date(2023, 12, 1)],
        ).fetchall()
    assert december == listed


def test_the_next_nights_run_without_new_data_restates_nothing(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        con.execute(LATE_COST)
        assert compute_metrics(con, **BERLIN).restated == 4
        # The next night's run sees the same records: the last run's list is replaced by none.
        next_night = compute_metrics(con, **(BERLIN | {"as_of": AS_OF + timedelta(days=1)}))
        rows = con.execute("SELECT count(*) FROM kpi.metric_restatements").fetchall()[0][0]
    assert (next_night.restated, rows) == (0, 0)


def test_a_rerun_on_the_same_day_keeps_the_days_restatements_and_drops_a_value_put_back(
    warehouse,
):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        first_computed_at = last_computed_at(con)
        con.execute(LATE_COST)
        compute_metrics(con, **BERLIN)
        # Re-run half an hour later, 23:30 in Berlin: the same day, nothing new.
        rerun = compute_metrics(con, **(BERLIN | {"as_of": AS_OF + timedelta(minutes=30)}))
        kept = restatements(con)
        baselines = con.execute(
            "SELECT DISTINCT previous_computed_at FROM kpi.metric_restatements"
        ).fetchall()
        # The late cost was a mistake and is withdrawn before a third run that day: January is
        # back at 160, the value leaders saw, so nothing is restated any more.
        con.execute("DELETE FROM core.costs WHERE cost_id = 'K6'")
        put_back = compute_metrics(con, **(BERLIN | {"as_of": AS_OF + timedelta(minutes=45)}))
    assert rerun.restated == 4
    assert kept[("cloud_spend", "month", JAN)] == pytest.approx((160, 185))
    assert kept[("cloud_spend", "week", WEEK_OF_JAN_8)] == (None, pytest.approx(25))
    # Compared with the first run, before the late cost, not with the run just before.
    assert baselines == [(first_computed_at,)]
    assert put_back.restated == 0


@pytest.mark.parametrize(
    "calendar",
    [{"timezone": "UTC"}, {"week_start": "sunday"}],
    ids=["another_time_zone", "another_week_start"],
)
def test_a_run_under_another_calendar_restates_nothing(warehouse, calendar):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        con.execute(LATE_COST)
        # The late cost changes January either way, but periods of another calendar are other
        # periods (I5 and C9 move to January in UTC): no value is comparable.
        summary = compute_metrics(con, **(BERLIN | calendar))
        rows = restatements(con)
    assert (summary.restated, rows) == (0, {})


def test_a_backfill_of_an_earlier_night_restates_nothing(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        con.execute(LATE_COST)
        # January was complete on both nights, but the earlier night is not "since" the later.
        summary = compute_metrics(con, **(BERLIN | {"as_of": AS_OF - timedelta(days=1)}))
    assert summary.restated == 0


def test_a_metric_whose_definition_changed_is_not_restated_but_the_others_are(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        con.execute(LATE_COST)
        # cloud_spend now sums BilledCost: a new meaning, not late data. Allocation coverage keeps
        # its definition, so the late cost still restates it.
        compute_metrics(
            con, **BERLIN, overrides={"cloud_spend": {"params": {"cost_column": "BilledCost"}}}
        )
        restated = restatements(con)
    assert {metric for metric, _, _ in restated} == {"cost_allocation_coverage"}


@pytest.mark.parametrize(
    ("drift", "restated"), [(1e-12, False), (1e-6, True)], ids=["float_noise", "a_real_change"]
)
def test_only_a_difference_beyond_float_noise_is_a_restatement(warehouse, drift, restated):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, **BERLIN)
        # As if the previous run had summed January's cost in another order (or found more).
        con.execute(
            "UPDATE kpi.metric_values SET value = value * (1 + ?) WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = ? AND dimension = 'all'",
            [drift, JAN],
        )
        compute_metrics(con, **BERLIN)
        rows = restatements(con)
    assert rows.keys() == ({("cloud_spend", "month", JAN)} if restated else set())
