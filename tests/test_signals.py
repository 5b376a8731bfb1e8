"""XmR signals, Mann-Kendall trend with Sen's slope, periods to target, progress and on track.

Published worked examples are the fixtures where one exists; the rules around every boundary are
pinned on series whose arithmetic is exact, derived in the comments.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from settings import ConfigError, load_settings
from transforms.scoring import goals_table, score_metrics
from transforms.signals import apply_signals

START = date(2020, 1, 1)


def month(number: int) -> date:
    """The number-th month of the series, 1 = January 2020."""
    return date(START.year + (number - 1) // 12, (number - 1) % 12 + 1, 1)


def score_series(con, values, goals, baseline_periods=6, trend_periods=None):
    """Score one monthly series (None = a complete period without a value) as metric 'm'."""
    con.executemany(
        "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
        "dimension_value, value, unit, period_complete) VALUES ('m', 'month', ?, 'all', 'all', "
        "?, '%', true)",
        [(month(i + 1), value) for i, value in enumerate(values)],
    )
    after_last = month(len(values) + 1)
    as_of = datetime(after_last.year, after_last.month, 1, 2, tzinfo=UTC)
    metrics = {"m": {"objective": "o", "perspective": "customer", **goals}}
    score_metrics(con, metrics, as_of=as_of, signal_baseline_periods=baseline_periods)
    if trend_periods is not None:
        con.register("scorecard_goals", goals_table(metrics, {}))
        apply_signals(con, baseline_periods, trend_periods)
        con.unregister("scorecard_goals")
    rows = con.execute(
        "SELECT period_start, actual, signal, xmr_center, xmr_lower, xmr_upper, mk_s, mk_z, "
        "mk_trend, sen_slope, periods_to_target, progress, on_track, target_date "
        "FROM scorecard.metric_status WHERE metric_id = 'm' ORDER BY period_start"
    ).fetchall()
    names = (
        "period_start", "actual", "signal", "xmr_center", "xmr_lower", "xmr_upper", "mk_s",
        "mk_z", "mk_trend", "sen_slope", "periods_to_target", "progress", "on_track",
        "target_date",
    )  # fmt: skip
    return [dict(zip(names, row, strict=True)) for row in rows]


HIGHER = {"threshold": 50, "target": 100}
LOWER = {"threshold": 100, "target": 50}

# ---------------------------------------------------------------------------------------- XmR

# NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2.2 "Individuals Control Charts",
# example: flow rate of the first 10 batches of a new process. Published: mean 50.81, mean moving
# range 1.8778, UCL = 50.81 + 3 (1.8778 / 1.128) = 55.80, LCL = 45.82 (3 / 1.128 = 2.66, Wheeler's
# constant).
NIST_BATCHES = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]


def test_xmr_limits_of_the_nist_individuals_chart_example(warehouse):
    with warehouse.connect() as con:
        rows = score_series(con, NIST_BATCHES, HIGHER, baseline_periods=10)
    last = rows[-1]
    assert last["xmr_center"] == pytest.approx(50.81)
    assert (last["xmr_upper"] - last["xmr_center"]) / 2.66 == pytest.approx(1.8778, abs=1e-4)
    assert round(last["xmr_upper"], 2) == 55.80
    assert round(last["xmr_lower"], 2) == 45.82
    # every batch lies within the limits, no 3 of 4 beyond 53.31 or 48.31, no run of 8
    assert [r["signal"] for r in rows] == [None] * 10


def test_limits_are_locked_on_the_baseline_window(warehouse):
    # the 11th batch (56.0) lies beyond UCL 55.80; the limits stay those of the first 10 batches
    with warehouse.connect() as con:
        rows = score_series(con, [*NIST_BATCHES, 56.0, 40.0], HIGHER, baseline_periods=10)
    assert {round(r["xmr_upper"], 2) for r in rows} == {55.80}
    assert rows[10]["signal"] == "improving: point beyond limits"
    assert rows[11]["signal"] == "deteriorating: point beyond limits"  # 40.0 below LCL 45.82


def test_no_limits_until_the_baseline_window_is_full(warehouse):
    with warehouse.connect() as con:
        rows = score_series(con, NIST_BATCHES[:5], HIGHER, baseline_periods=6)
    assert {r["xmr_center"] for r in rows} == {None}


def test_baseline_window_below_two_periods_is_refused(warehouse):
    with warehouse.connect() as con, pytest.raises(ValueError, match="signal_baseline_periods"):
        score_series(con, [1.0, 2.0], HIGHER, baseline_periods=1)


def test_baseline_window_is_a_config_key_checked_by_check_config(tmp_path):
    config = tmp_path / "scorecard.yaml"
    config.write_text("name: no signals key\n")
    assert load_settings(config, env={}).signals.baseline_periods == 6
    config.write_text("signals: {baseline_periods: 10}\n")
    assert load_settings(config, env={}).signals.baseline_periods == 10
    config.write_text("signals: {baseline_periods: 1}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})
    expected = (
        f"{config}: signals.baseline_periods: 1 periods cannot lock XmR limits; at least 2 are "
        "needed (one moving range), 6 or more recommended"
    )
    assert str(error.value) == expected
    check = subprocess.run(
        [sys.executable, "-m", "settings", "check-config", str(config)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert check.returncode == 2
    assert expected in check.stdout + check.stderr


def test_the_configured_window_locks_the_limits(warehouse):
    # The first 4 NIST batches: mean (49.6 + 47.6 + 49.9 + 51.3) / 4 = 49.6; moving ranges 2.0,
    # 2.3, 1.4, mean 1.9, so the limits are 49.6 -/+ 2.66 x 1.9 = 44.546 and 54.654.
    settings_window = 4
    with warehouse.connect() as con:
        rows = score_series(con, NIST_BATCHES, HIGHER, baseline_periods=settings_window)
    assert rows[-1]["xmr_center"] == pytest.approx(49.6)
    assert rows[-1]["xmr_lower"] == pytest.approx(44.546)
    assert rows[-1]["xmr_upper"] == pytest.approx(54.654)


# Baseline 100, 150, 100, 150, 100, 150: centre 125, every moving range 50, so the limits are
# 125 -/+ 2.66 x 50 = -8 and 258 (exact in binary), and half-way to them lies 58.5 and 191.5.
BASELINE = [100.0, 150.0] * 3


@pytest.mark.parametrize(
    ("value", "signal"),
    [
        (258.0, None),  # on the limit is not beyond it
        (258.5, "point beyond limits"),
        (-8.0, None),
        (-8.5, "point beyond limits"),
    ],
)
def test_point_beyond_limits_boundary(warehouse, value, signal):
    with warehouse.connect() as con:
        rows = score_series(con, [*BASELINE, value], {})
    assert (rows[-1]["xmr_lower"], rows[-1]["xmr_upper"]) == (-8.0, 258.0)
    # no goals: the rule is named without a verdict
    assert rows[-1]["signal"] == signal


@pytest.mark.parametrize(
    ("tail", "signal"),
    [
        # half-way (191.5) is as close to the centre as to the limit: not in the outer quarter
        ([191.5, 191.5, 191.5], None),
        ([192.0, 192.0, 192.0], "3 of 4 in the outer quarter above the mean"),
        # 3 of the last 4 (192, 192, 130, 192) beyond half-way
        ([192.0, 192.0, 130.0, 192.0], "3 of 4 in the outer quarter above the mean"),
        # only 2 of the last 4 (150 | 192, 130, 192): the baseline's 150 is not beyond 191.5
        ([192.0, 130.0, 192.0], None),
        ([58.0, 58.0, 58.0], "3 of 4 in the outer quarter below the mean"),
        ([58.5, 58.5, 58.5], None),
    ],
)
def test_three_of_four_in_the_outer_quarter_boundary(warehouse, tail, signal):
    with warehouse.connect() as con:
        rows = score_series(con, [*BASELINE, *tail], {})
    assert rows[-1]["signal"] == signal


@pytest.mark.parametrize(
    ("tail", "signal"),
    [
        ([130.0] * 7, "8 in a row above the mean"),  # the baseline's last 150 + 7 = 8 above
        ([130.0] * 6, None),  # 150 + 6 = 7 above (the 100 before them is below)
        ([126.0] * 8, "8 in a row above the mean"),
        ([124.0] * 8, "8 in a row below the mean"),
        ([124.0] * 7, None),  # 150 before them is above: 7 below only
        ([126.0] * 3 + [125.0] + [126.0] * 4, None),  # a value on the centre line breaks the run
    ],
)
def test_eight_in_a_row_boundary(warehouse, tail, signal):
    with warehouse.connect() as con:
        rows = score_series(con, [*BASELINE, *tail], {})
    assert rows[-1]["signal"] == signal


@pytest.mark.parametrize(
    ("goals", "tail", "signal"),
    [
        (HIGHER, [300.0], "improving: point beyond limits"),
        (LOWER, [300.0], "deteriorating: point beyond limits"),
        (HIGHER, [-10.0], "deteriorating: point beyond limits"),
        (LOWER, [-10.0], "improving: point beyond limits"),
        (LOWER, [124.0] * 8, "improving: 8 in a row below the mean"),
        (HIGHER, [192.0] * 3, "improving: 3 of 4 in the outer quarter above the mean"),
        # a band [200, 300] above the centre 125 (middle 250): 300 lies 50 from the middle, the
        # centre 125 lies 125 away, so the point moved toward the band
        ({"band": [200, 300]}, [300.0], "improving: point beyond limits"),
        # a band [0, 20] (middle 10): 300 is farther from it than the centre
        ({"band": [0, 20]}, [300.0], "deteriorating: point beyond limits"),
        # a run above the centre moves toward a band above it, away from one below it
        ({"band": [200, 300]}, [126.0] * 8, "improving: 8 in a row above the mean"),
        ({"band": [0, 20]}, [126.0] * 8, "deteriorating: 8 in a row above the mean"),
        # a band centred on the centre line (middle 125): any shift moves away from the middle
        ({"band": [100, 150]}, [124.0] * 8, "deteriorating: 8 in a row below the mean"),
    ],
)
def test_signals_are_labelled_by_direction(warehouse, goals, tail, signal):
    with warehouse.connect() as con:
        rows = score_series(con, [*BASELINE, *tail], goals)
    assert rows[-1]["signal"] == signal


# ------------------------------------------------------------------------ Mann-Kendall and Sen

# "A Mann-Kendall Example (By Hand)", J. Little, College of the Holy Cross
# (mathcs.holycross.edu/~little/Montserrat/MannKendallByHand.txt): 14 values, 91 pairs, 72 up,
# 18 down, 1 tie -> S = 54; V = (14)(13)(33)/18 - (2)(1)(9)/18 = 332.67; Z = (S - 1)/sqrt(V) = 2.9058.
LITTLE = [12.9, 14.8, 13.2, 15.7, 13.8, 15.6, 12.9, 11.0, 17.3, 15.9, 19.0, 18.3, 20.1, 21.7]


def test_mann_kendall_of_the_published_worked_example(warehouse):
    with warehouse.connect() as con:
        rows = score_series(con, LITTLE, HIGHER, trend_periods=14)
    last = rows[-1]
    assert last["mk_s"] == 54
    assert last["mk_z"] == pytest.approx(2.9058, abs=1e-4)
    assert last["mk_trend"] == "increasing"


def test_mann_kendall_of_the_example_reversed_is_decreasing(warehouse):
    with warehouse.connect() as con:
        rows = score_series(con, LITTLE[::-1], HIGHER, trend_periods=14)
    assert (rows[-1]["mk_s"], rows[-1]["mk_trend"]) == (-54, "decreasing")
    assert rows[-1]["mk_z"] == pytest.approx(-2.9058, abs=1e-4)


@pytest.mark.parametrize(
    ("values", "s", "z", "trend"),
    [
        # n = 4 rising: S = 6, Var = 4 x 3 x 13 / 18 = 8.667, Z = 5 / 2.944 = 1.698 < 1.96
        ([1.0, 2.0, 3.0, 4.0], 6, 5 / (156 / 18) ** 0.5, "no trend"),
        # n = 5 rising: S = 10, Var = 5 x 4 x 15 / 18 = 16.667, Z = 9 / 4.082 = 2.205 >= 1.96
        ([1.0, 2.0, 3.0, 4.0, 5.0], 10, 9 / (300 / 18) ** 0.5, "increasing"),
        ([5.0, 4.0, 3.0, 2.0, 1.0], -10, -9 / (300 / 18) ** 0.5, "decreasing"),
        # one tie of two: S = 9, Var = (300 - 2 x 1 x 9) / 18 = 15.667, Z = 8 / 3.958 = 2.021
        ([1.0, 1.0, 2.0, 3.0, 4.0], 9, 8 / (282 / 18) ** 0.5, "increasing"),
        # all equal: S = 0, Z = 0
        ([3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0], 0, None, None),
        # two values: too few
        ([1.0, 2.0], None, None, None),
    ],
)
def test_mann_kendall_around_the_95_percent_boundary(warehouse, values, s, z, trend):
    with warehouse.connect() as con:
        last = score_series(con, values, HIGHER)[-1]
    assert last["mk_s"] == s
    if z is None:
        # all tied: Var = (7 x 6 x 19 - 7 x 6 x 19) / 18 = 0, so no Z; too few values: no test
        assert (last["mk_z"], last["mk_trend"]) == (None, trend)
    else:
        assert last["mk_z"] == pytest.approx(z)
        assert last["mk_trend"] == trend


def test_trend_window_is_the_last_twelve_periods(warehouse):
    # 1..12 rising, then 12 falling: at the 24th period the window holds only the fall
    values = [float(i) for i in range(1, 13)] + [float(i) for i in range(12, 0, -1)]
    with warehouse.connect() as con:
        rows = score_series(con, values, HIGHER)
    assert rows[11]["mk_s"] == 66  # 12 x 11 / 2 pairs, all up
    assert rows[23]["mk_s"] == -66
    assert rows[23]["sen_slope"] == -1.0


def test_sen_slope_counts_periods_without_a_value_as_time(warehouse):
    # 1, 2, 4, 3: slopes 1, 1.5, 2/3, 2, 1/2, -1 -> median (2/3 + 1) / 2 = 5/6
    with warehouse.connect() as con:
        assert score_series(con, [1.0, 2.0, 4.0, 3.0], HIGHER)[-1]["sen_slope"] == pytest.approx(
            5 / 6
        )
    # 1, 2, (none), 3 at periods 1, 2, 4: slopes 1, 2/3, 1/2 -> median 2/3
    with warehouse.connect() as con:
        con.execute("DELETE FROM kpi.metric_values")
        rows = score_series(con, [1.0, 2.0, None, 3.0], HIGHER)
    assert rows[-1]["sen_slope"] == pytest.approx(2 / 3)


def test_sen_slope_progress_and_periods_to_target_worked_by_hand(warehouse):
    """Sen's slope (Sen 1968; the even-N median rule 1/2 (Q[N/2] + Q[(N+2)/2]) as given in PNNL's
    Visual Sample Plan help, "Nonparametric Estimate of Trend", after Gilbert 1987 pp. 217-218)
    and progress (x - B) / (G - B) (../shared/reference/metrics.md), worked by hand: no published
    worked example with its numbers was at hand to check against, so the arithmetic is stated.

    Values 10, 12, 11, 15, 14 in periods 1-5. The N = 5 x 4 / 2 = 10 slopes (x_j - x_i)/(j - i):
    (1,2) 2, (1,3) 1/2, (1,4) 5/3, (1,5) 1, (2,3) -1, (2,4) 3/2, (2,5) 2/3, (3,4) 4, (3,5) 3/2,
    (4,5) -1. Ranked: -1, -1, 1/2, 2/3, 1, 3/2, 3/2, 5/3, 2, 4; N even, so the slope is
    (Q[5] + Q[6]) / 2 = (1 + 3/2) / 2 = 1.25 per period. Mann-Kendall S = 8 up - 2 down = 6.
    With baseline B = 10 and target G = 20 (higher is better), progress at x = 14 is
    (14 - 10) / (20 - 10) = 0.4, and periods to target (20 - 14) / 1.25 = 4.8.
    """
    goals = {"threshold": 15, "target": 20, "baseline": 10}
    with warehouse.connect() as con:
        last = score_series(con, [10.0, 12.0, 11.0, 15.0, 14.0], goals)[-1]
    assert last["sen_slope"] == pytest.approx(1.25)
    assert last["mk_s"] == 6
    assert last["progress"] == pytest.approx(0.4)
    assert last["periods_to_target"] == pytest.approx(4.8)


@pytest.mark.parametrize(
    ("goals", "values", "periods"),
    [
        # higher, target 100: 96, 97, 98 rise by 1 a period -> (100 - 98) / 1 = 2
        (HIGHER, [96.0, 97.0, 98.0], 2.0),
        (HIGHER, [98.0, 97.0, 96.0], None),  # falling away from the target
        (HIGHER, [98.0, 99.0, 100.0], 0.0),  # at the target
        (HIGHER, [99.0, 100.0, 101.0], 0.0),  # beyond it
        # lower, target 50: 56, 54, 52 fall by 2 -> (50 - 52) / -2 = 1
        (LOWER, [56.0, 54.0, 52.0], 1.0),
        (LOWER, [52.0, 54.0, 56.0], None),
        (LOWER, [52.0, 51.0, 50.0], 0.0),
        # band [2, 5]: 8, 7, 6 fall by 1 toward the upper edge 5 -> 1; inside -> 0
        ({"band": [2, 5]}, [8.0, 7.0, 6.0], 1.0),
        ({"band": [2, 5]}, [6.0, 7.0, 8.0], None),
        ({"band": [2, 5]}, [4.0, 3.0, 2.0], 0.0),
        # below the band rising by 0.5 toward its lower edge 2: (2 - 1) / 0.5 = 2
        ({"band": [2, 5]}, [0.0, 0.5, 1.0], 2.0),
    ],
)
def test_periods_to_target(warehouse, goals, values, periods):
    with warehouse.connect() as con:
        assert score_series(con, values, goals)[-1]["periods_to_target"] == periods


# ------------------------------------------------------------------------- progress, on track

# metrics.md scoring model: progress = (x - B) / (G - B); on track = at or better than the straight
# line from (baseline date, B) to (target date, G). The baseline date is the first period with a
# value (2020-01-01); a target date of 2020-05-01 is 121 days later, so the line at 2020-03-01
# (60 days in) is B + (G - B) x 60 / 121.


@pytest.mark.parametrize(
    ("goals", "march", "progress", "on_track"),
    [
        # higher, B 80, G 100: line at March 80 + 20 x 60/121 = 89.917
        ({**HIGHER, "baseline": 80}, 90.0, 0.5, True),
        ({**HIGHER, "baseline": 80}, 80 + 20 * 60 / 121, (20 * 60 / 121) / 20, True),  # on it
        ({**HIGHER, "baseline": 80}, 89.9, 0.495, False),
        # lower, B 80, G 50: line at March 80 - 30 x 60/121 = 65.124
        ({**LOWER, "baseline": 80}, 65.0, 0.5, True),
        ({**LOWER, "baseline": 80}, 65.2, 14.8 / 30, False),
        # band [2, 5] with B 8 above it: G is the upper edge 5, line at March 8 - 3 x 60/121
        ({"band": [2, 5], "baseline": 8}, 6.5, 0.5, True),
        ({"band": [2, 5], "baseline": 8}, 6.6, 1.4 / 3, False),
        # band with B 1 below it: G 2, line at March 1 + 60/121 = 1.496
        ({"band": [2, 5], "baseline": 1}, 1.5, 0.5, True),
        ({"band": [2, 5], "baseline": 1}, 1.4, 0.4, False),
        # B inside the band: nothing to progress toward
        ({"band": [2, 5], "baseline": 3}, 4.0, None, None),
    ],
)
def test_progress_and_on_track_against_the_straight_line(
    warehouse, goals, march, progress, on_track
):
    with warehouse.connect() as con:
        rows = score_series(
            con,
            [goals["baseline"], goals["baseline"], march],
            {**goals, "target_date": "2020-05-01"},
        )
    assert rows[2]["target_date"] == date(2020, 5, 1)
    assert rows[2]["progress"] == pytest.approx(progress)
    assert rows[2]["on_track"] is on_track


def test_on_track_needs_a_target_date_and_is_judged_at_goal_after_it(warehouse):
    goals = {**HIGHER, "baseline": 80}
    with warehouse.connect() as con:
        rows = score_series(con, [80.0, 91.0, 99.0, 100.0], goals)
        assert [r["on_track"] for r in rows] == [None] * 4
        assert rows[1]["progress"] == pytest.approx(0.55)  # (91 - 80) / (100 - 80)
        con.execute("DELETE FROM kpi.metric_values")
        # target date 2020-03-01 (60 days): Jan on the line at 80; Feb line 80 + 20 x 31/60 =
        # 90.33, 91 is above it; from March on the line is G itself: 99 below, 100 on it
        rows = score_series(con, [80.0, 91.0, 99.0, 100.0], {**goals, "target_date": "2020-03-01"})
    assert [r["on_track"] for r in rows] == [True, True, False, True]


# ------------------------------------------------------------- forecast to miss the target date

# metrics.md escalation triggers: "forecast to miss the target date", with periods-to-target =
# (G - x) / slope (Sen's). Higher is better, T 70, G 90 by 2020-12-01 from a baseline of 80.


@pytest.mark.parametrize(
    ("values", "forecast_misses"),
    [
        # Flat at 86 since February: ahead of the straight line in June (80 + 10 x 152 / 335 =
        # 84.5), but Sen's slope is 0 (10 of the 15 pairs are flat), so 90 is never reached.
        ([80.0, 86.0, 86.0, 86.0, 86.0, 86.0], True),
        # One a month: Sen's slope 1, (90 - 85) / 1 = 5 months from June is November: in time.
        ([80.0, 81.0, 82.0, 83.0, 84.0, 85.0], False),
        # At the goal already: nothing left to forecast.
        ([80.0, 85.0, 88.0, 90.0, 90.0, 91.0], False),
    ],
    ids=["flat-ahead-of-the-line", "climbing-in-time", "at-the-goal"],
)
def test_an_action_opens_when_the_trend_forecasts_the_goal_after_its_target_date(
    warehouse, values, forecast_misses
):
    goals = {"threshold": 70, "target": 90, "baseline": 80, "target_date": "2020-12-01"}
    with warehouse.connect() as con:
        june = score_series(con, values, goals)[-1]
        opened = con.execute(
            "SELECT opened_period FROM scorecard.actions "
            "WHERE trigger = 'forecast_misses_target_date' AND status = 'open'"
        ).fetchall()
    assert june["on_track"] is True  # the straight line alone finds all three on track
    assert bool(opened) is forecast_misses
