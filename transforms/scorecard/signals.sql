-- Signals, trend and progress for every scored series (metric and grain) at once, read from the
-- freshly filled scorecard.metric_status, one row per period; transforms/signals.py writes them
-- back in the scoring transaction. Inputs besides metric_status: scorecard_goals (band edges and the
-- optional target_date) and the variables signal_baseline_periods and trend_periods.
--
-- XmR chart (Wheeler, "Understanding Variation", 2nd ed. 2000; "Making Sense of Data", 2003):
-- centre line = mean of the baseline window, natural process limits = centre +/- 2.66 x the mean
-- moving range, both LOCKED on the baseline window (the first signal_baseline_periods complete
-- periods with a value) and never recomputed as new values arrive. Wheeler's three detection rules,
-- checked on the successive values (periods without a value are skipped):
--   1. a point beyond the limits (strictly above the upper or below the lower limit);
--   2. three of four successive values in the outer quarter on the same side: closer to that
--      limit than to the centre line, i.e. more than half-way from the centre line to the limit
--      (the outer quarter of the band between the limits);
--   3. eight successive values on the same side of the centre line (a value on it breaks the run).
-- When several rules fire at once the label names the first of them.
--
-- Mann-Kendall (Mann 1945, Kendall 1975; Gilbert 1987 ch. 16) over the trend_periods most recent
-- complete periods ending at each period: S = sum of sign(x_j - x_i) over earlier i, later j;
-- Var(S) = [n(n-1)(2n+5) - sum over groups of tied values t(t-1)(2t+5)] / 18; Z = (S - 1) / sd if
-- S > 0, (S + 1) / sd if S < 0, else 0; a trend at 95% (two-sided) when |Z| >= 1.959964.
-- Sen's slope (Sen 1968) = the median of (x_j - x_i) / (j - i), with i, j numbering periods, so a
-- period without a value still counts as time passing. At least 3 values are needed.
WITH series AS (
    SELECT
        s.scorecard_id, s.metric_id, s.grain, s.period_start, s.actual, s.baseline, s.target,
        s.direction,
        g.band_low, g.band_high, g.target_date,
        row_number() OVER (PARTITION BY s.scorecard_id, s.metric_id, s.grain ORDER BY s.period_start)
            AS period_number
    FROM scorecard.metric_status AS s
    -- The goals in force for the period (goals may change with an effective date).
    LEFT JOIN scorecard_goals AS g
        ON g.scorecard_id = s.scorecard_id AND g.metric_id = s.metric_id AND g.grain = s.grain
        AND s.period_start >= coalesce(g.goals_from, DATE '0001-01-01')
        AND s.period_start < coalesce(g.goals_to, DATE '9999-12-31')
),

observed AS (
    SELECT
        scorecard_id, metric_id, grain, period_start, period_number, actual,
        row_number() OVER successive AS value_number,
        abs(actual - lag(actual) OVER successive) AS moving_range
    FROM series
    WHERE actual IS NOT NULL
    WINDOW successive AS (PARTITION BY scorecard_id, metric_id, grain ORDER BY period_start)
),

-- Limits exist only once the whole baseline window has values.
natural_limits AS (
    SELECT
        scorecard_id, metric_id, grain,
        avg(actual) AS xmr_center,
        avg(actual) - 2.66 * coalesce(avg(moving_range), 0) AS xmr_lower,
        avg(actual) + 2.66 * coalesce(avg(moving_range), 0) AS xmr_upper
    FROM observed
    WHERE value_number <= getvariable('signal_baseline_periods')
    GROUP BY scorecard_id, metric_id, grain
    HAVING count(*) = getvariable('signal_baseline_periods')
),

charted AS (
    SELECT
        o.*,
        l.xmr_center, l.xmr_lower, l.xmr_upper,
        sign(o.actual - l.xmr_center) AS side,
        o.actual > l.xmr_upper OR o.actual < l.xmr_lower AS beyond_limits,
        CASE
            WHEN o.actual - l.xmr_center > (l.xmr_upper - l.xmr_center) / 2 THEN 1
            WHEN l.xmr_center - o.actual > (l.xmr_center - l.xmr_lower) / 2 THEN -1
            ELSE 0
        END AS outer_quarter
    FROM observed AS o
    JOIN natural_limits AS l USING (scorecard_id, metric_id, grain)
),

detected AS (
    SELECT
        *,
        CASE
            WHEN count(*) OVER last_four < 4 THEN 0
            WHEN sum(CASE WHEN outer_quarter = 1 THEN 1 ELSE 0 END) OVER last_four >= 3 THEN 1
            WHEN sum(CASE WHEN outer_quarter = -1 THEN 1 ELSE 0 END) OVER last_four >= 3 THEN -1
            ELSE 0
        END AS three_of_four_side,
        CASE
            WHEN count(*) OVER last_eight = 8 AND abs(sum(side) OVER last_eight) = 8
                THEN sign(sum(side) OVER last_eight)
            ELSE 0
        END AS eight_in_a_row_side
    FROM charted
    WINDOW
        last_four AS (PARTITION BY scorecard_id, metric_id, grain ORDER BY value_number
            ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
        last_eight AS (PARTITION BY scorecard_id, metric_id, grain ORDER BY value_number
            ROWS BETWEEN 7 PRECEDING AND CURRENT ROW)
),

-- The rule that fired, and to which side of the centre line the process moved.
signalled AS (
    SELECT
        d.*,
        CASE
            WHEN beyond_limits THEN 'point beyond limits'
            WHEN three_of_four_side = 1 THEN '3 of 4 in the outer quarter above the mean'
            WHEN three_of_four_side = -1 THEN '3 of 4 in the outer quarter below the mean'
            WHEN eight_in_a_row_side = 1 THEN '8 in a row above the mean'
            WHEN eight_in_a_row_side = -1 THEN '8 in a row below the mean'
        END AS rule,
        CASE
            WHEN beyond_limits THEN side
            WHEN three_of_four_side <> 0 THEN three_of_four_side
            ELSE eight_in_a_row_side
        END AS shift
    FROM detected AS d
),

-- Improving or deteriorating by the metric's direction. A band is best at its middle: a point
-- beyond the limits deteriorates when it lies farther from the middle than the centre line, a
-- run when it moves the process away from the middle (or off a centre line sitting on it).
labelled AS (
    SELECT
        s.scorecard_id, s.metric_id, s.grain, s.period_start, s.xmr_center, s.xmr_lower, s.xmr_upper,
        CASE
            WHEN s.rule IS NULL THEN NULL
            WHEN m.direction = 'higher' THEN if(s.shift > 0, 'improving', 'deteriorating')
            WHEN m.direction = 'lower' THEN if(s.shift < 0, 'improving', 'deteriorating')
            WHEN m.direction = 'band' AND s.beyond_limits THEN if(
                abs(s.actual - (m.band_low + m.band_high) / 2)
                    > abs(s.xmr_center - (m.band_low + m.band_high) / 2),
                'deteriorating', 'improving')
            WHEN m.direction = 'band' THEN if(
                s.shift * (s.xmr_center - (m.band_low + m.band_high) / 2) >= 0,
                'deteriorating', 'improving')
        END AS verdict,
        s.rule
    FROM signalled AS s
    JOIN series AS m USING (scorecard_id, metric_id, grain, period_start)
),

-- The trend window of each period: the trend_periods periods ending at it (period_number counts
-- every period, so a ROWS frame over series is exactly those periods). Periods without a value
-- count as time passing but are left out as values. Collected per row with a window function so
-- the work and memory stay bounded per row: at most trend_periods values, never a join of pairs.
trend_windows AS (
    SELECT
        scorecard_id, metric_id, grain, period_number,
        list(actual) FILTER (WHERE actual IS NOT NULL) OVER trend_window AS window_values,
        list(period_number) FILTER (WHERE actual IS NOT NULL) OVER trend_window AS window_periods
    FROM series
    WINDOW trend_window AS (PARTITION BY scorecard_id, metric_id, grain ORDER BY period_number
        ROWS BETWEEN getvariable('trend_periods') - 1 PRECEDING AND CURRENT ROW)
),

-- Every pair (i, j), i < j by list position, of the window's values, as a list per row. Which of
-- the two is earlier is read from the period numbers rather than the list order, so the result
-- does not depend on the order the window function lists the values in.
trend_pairs AS (
    SELECT
        scorecard_id, metric_id, grain, period_number,
        len(window_values) AS n,
        flatten(list_transform(range(1, len(window_values)), lambda i: list_transform(
            range(i + 1, len(window_values) + 1), lambda j: {
                'concordance': sign(window_values[j] - window_values[i])
                    * sign(window_periods[j] - window_periods[i]),
                'slope': (window_values[j] - window_values[i])
                    / (window_periods[j] - window_periods[i])
            }))) AS pairs,
        -- How many times each distinct value occurs in the window.
        list_transform(list_distinct(window_values),
            lambda value: len(list_filter(window_values, lambda other: other = value))) AS tie_counts
    FROM trend_windows
    WHERE len(window_values) >= 3
),

-- S, Sen's median slope, and the tie correction: t(t-1)(2t+5) for each distinct value tied t times
-- (an untied value, t = 1, adds nothing).
mann_kendall AS (
    SELECT
        scorecard_id, metric_id, grain, period_number,
        list_sum(list_transform(pairs, lambda pair: pair.concordance)) AS mk_s,
        list_aggregate(list_transform(pairs, lambda pair: pair.slope), 'median') AS sen_slope,
        (n * (n - 1) * (2 * n + 5)
            - list_sum(list_transform(tie_counts, lambda t: t * (t - 1) * (2 * t + 5)))) / 18.0
            AS variance
    FROM trend_pairs
),

trend AS (
    SELECT
        *,
        CASE
            WHEN variance <= 0 THEN NULL
            WHEN mk_s > 0 THEN (mk_s - 1) / sqrt(variance)
            WHEN mk_s < 0 THEN (mk_s + 1) / sqrt(variance)
            ELSE 0.0
        END AS mk_z
    FROM mann_kendall
),

-- Progress runs from the baseline B (placed at the first period with a value) to the goal G: the
-- target, or for a band the edge nearest the baseline. improvement_sign says which way is better.
journeys AS (
    SELECT
        *,
        min(period_start) FILTER (WHERE actual IS NOT NULL)
            OVER (PARTITION BY scorecard_id, metric_id, grain) AS baseline_start,
        CASE
            WHEN direction IN ('higher', 'lower') THEN target
            WHEN baseline < band_low THEN band_low
            WHEN baseline > band_high THEN band_high
        END AS goal,
        CASE
            WHEN direction = 'higher' THEN 1
            WHEN direction = 'lower' THEN -1
            WHEN direction = 'band' AND baseline < band_low THEN 1
            WHEN direction = 'band' AND baseline > band_high THEN -1
        END AS improvement_sign,
        -- What is left to reach from this value: for a band, its nearest edge (none inside).
        CASE
            WHEN direction IN ('higher', 'lower') THEN target
            WHEN actual < band_low THEN band_low
            WHEN actual > band_high THEN band_high
            WHEN actual IS NOT NULL THEN actual
        END AS goal_from_here
    FROM series
),

planned AS (
    SELECT
        *,
        CASE
            WHEN target_date IS NULL OR goal IS NULL OR baseline_start IS NULL
                OR period_start < baseline_start THEN NULL
            WHEN period_start >= target_date THEN goal
            ELSE baseline + (goal - baseline) * date_diff('day', baseline_start, period_start)
                / date_diff('day', baseline_start, target_date)
        END AS planned_value
    FROM journeys
)

SELECT
    p.scorecard_id,
    p.metric_id,
    p.grain,
    p.period_start,
    CASE WHEN l.rule IS NOT NULL THEN concat_ws(': ', l.verdict, l.rule) END AS signal,
    l.xmr_center,
    l.xmr_lower,
    l.xmr_upper,
    CAST(t.mk_s AS INTEGER) AS mk_s,
    t.mk_z,
    CASE
        WHEN t.mk_z IS NULL THEN NULL
        WHEN t.mk_z >= 1.959964 THEN 'increasing'
        WHEN t.mk_z <= -1.959964 THEN 'decreasing'
        ELSE 'no trend'
    END AS mk_trend,
    t.sen_slope,
    -- Zero once the value is at or better than the goal; NULL while the slope points away.
    CASE
        WHEN p.actual IS NULL OR p.goal_from_here IS NULL THEN NULL
        WHEN p.direction = 'higher' AND p.actual >= p.goal_from_here THEN 0.0
        WHEN p.direction = 'lower' AND p.actual <= p.goal_from_here THEN 0.0
        WHEN p.direction = 'band' AND p.actual = p.goal_from_here THEN 0.0
        WHEN (p.goal_from_here - p.actual) * t.sen_slope > 0
            THEN (p.goal_from_here - p.actual) / t.sen_slope
    END AS periods_to_target,
    (p.actual - p.baseline) / nullif(p.goal - p.baseline, 0) AS progress,
    CASE
        WHEN p.planned_value IS NULL OR p.actual IS NULL OR p.improvement_sign IS NULL THEN NULL
        ELSE p.improvement_sign * (p.actual - p.planned_value) >= 0
    END AS on_track,
    p.target_date
FROM planned AS p
LEFT JOIN labelled AS l USING (scorecard_id, metric_id, grain, period_start)
LEFT JOIN trend AS t USING (scorecard_id, metric_id, grain, period_number)
