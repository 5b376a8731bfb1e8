-- Score each metric's headline value (dimension 'all', the metric's own grain) against its goals,
-- for every scorecard of the config. Inputs: kpi.metric_values, scorecard.metric_goals (one row per
-- scorecard, metric and goal version, from metric_goals.sql in the same run), scorecard_commentary
-- (owners' notes) and the variable scoring_as_of (the run's "now" in the calendar's time zone).
-- The score model is in ../shared/reference/metrics.md; README "Reading the scorecard" says how
-- to read the result.
WITH goals AS (
    SELECT
        *,
        stretch AS stretch_or_default,
        CASE grain
            WHEN 'week' THEN INTERVAL 7 DAY
            WHEN 'month' THEN INTERVAL 1 MONTH
            ELSE INTERVAL 3 MONTH
        END AS cadence,
        -- A value is stale once 1.5 cadences have passed since its period ended.
        CASE grain
            WHEN 'week' THEN INTERVAL '10 days 12 hours'
            WHEN 'month' THEN INTERVAL '1 month 15 days'
            ELSE INTERVAL '4 months 15 days'
        END AS stale_after
    FROM scorecard.metric_goals
),

-- One row per metric on each scorecard (its goal versions share grain and cadence).
cards AS (
    SELECT DISTINCT scorecard_id, metric_id, grain, cadence, stale_after FROM goals
),

headline_rows AS (
    SELECT
        v.metric_id, v.grain, v.period_start, v.value, v.n, v.reason, v.period_complete,
        regexp_extract(v.coverage, 'not complete until read again: (.*)$', 1) AS awaiting,
        true AS kpi_row
    FROM kpi.metric_values AS v
    SEMI JOIN cards AS c ON c.metric_id = v.metric_id AND c.grain = v.grain
    WHERE v.dimension = 'all'
),

-- Every period that ended by the as-of, from the metric's first period on, so periods after a
-- source stopped delivering are there to be marked instead of the last value standing in (and a
-- first period still pending is listed too).
period_grid AS (
    SELECT
        c.scorecard_id,
        c.metric_id,
        c.grain,
        CAST(unnest(generate_series(
            first_period.period_start::TIMESTAMP,
            getvariable('scoring_as_of') - c.cadence,
            c.cadence
        )) AS DATE) AS period_start
    FROM cards AS c
    JOIN (
        SELECT metric_id, grain, min(period_start) AS period_start
        FROM headline_rows
        GROUP BY metric_id, grain
    ) AS first_period USING (metric_id, grain)
),

-- The goals in force for each period: a later version never rewrites an earlier period, and
-- periods from a metric's retirement on have none, so they drop out of scoring and reports.
versioned_grid AS (
    SELECT p.*, g.goals_from
    FROM period_grid AS p
    JOIN goals AS g
        ON g.scorecard_id = p.scorecard_id AND g.metric_id = p.metric_id
        AND p.period_start >= coalesce(g.goals_from, DATE '0001-01-01')
        AND p.period_start < coalesce(g.goals_to, DATE '9999-12-31')
),

-- Complete periods are scored. A period that ended but that the KPI step did not mark complete
-- (a source not read since it ended, or values computed before it ended) is pending: listed
-- without a value, so the metric stays on the scorecard with the reason, and scored by the run
-- that completes it. A row left unmarked is never scored.
complete_periods AS (
    SELECT
        p.scorecard_id, p.metric_id, p.grain, p.period_start, p.goals_from,
        CASE WHEN h.period_complete THEN h.value END AS value,
        h.reason,
        coalesce(h.n, 0) AS records,
        h.kpi_row IS NULL AS no_row,
        NOT coalesce(h.period_complete, true) AS pending,
        h.awaiting
    FROM versioned_grid AS p
    LEFT JOIN headline_rows AS h USING (metric_id, grain, period_start)
    WHERE h.period_complete IS NOT NULL OR h.kpi_row IS NULL
),

numbered AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY scorecard_id, metric_id ORDER BY period_start)
            AS period_number
    FROM complete_periods
    WHERE value IS NOT NULL
),

baselines AS (
    -- The median of the first three complete periods that have a value, unless the definition
    -- gives one.
    SELECT scorecard_id, metric_id, median(value) AS first_periods_median
    FROM numbered
    WHERE period_number <= 3
    GROUP BY scorecard_id, metric_id
),

last_values AS (
    SELECT scorecard_id, metric_id, max(period_start) AS period_start
    FROM numbered
    GROUP BY scorecard_id, metric_id
),

positioned AS (
    SELECT
        c.*,
        g.perspective, g.objective, g.owner, g.threshold, g.target, g.weight, g.cadence,
        g.stretch_or_default AS stretch, g.direction, g.band_low, g.band_high,
        coalesce(g.baseline, b.first_periods_median) AS baseline,
        l.period_start AS last_value_period,
        -- The source stopped delivering: every period after its last value is stale, once the
        -- value is 1.5 cadences old, unless the period has records (too few for a value, or
        -- inputs short of the period): the source delivers, and the period's reason says why
        -- there is no value.
        coalesce(
            c.period_start > l.period_start
            AND l.period_start + g.cadence + g.stale_after < getvariable('scoring_as_of')
            AND c.records = 0,
            false
        ) AS stale,
        -- Position on the goal scale: 0 at threshold, 1 at target, 2 at stretch. A band counts
        -- as stretch inside it and loses one step per third of its width outside it. Rounded at
        -- 9 decimals, so a value at a goal is at it despite binary fractions: 0.3 is at the
        -- default stretch 0.2 + (0.2 - 0.1), which adds up to 0.30000000000000004.
        round(CASE
            WHEN c.value IS NULL OR g.direction IS NULL THEN NULL
            WHEN g.direction = 'band'
                THEN 2 - 3 * greatest(g.band_low - c.value, c.value - g.band_high, 0)
                    / (g.band_high - g.band_low)
            WHEN (c.value - g.target) * (g.target - g.threshold) <= 0
                THEN (c.value - g.threshold) / (g.target - g.threshold)
            ELSE 1 + (c.value - g.target) / (g.stretch_or_default - g.target)
        END, 9) AS position,
        -- The last earlier value: a period without one does not hide the trend across it.
        lag(c.value IGNORE NULLS) OVER (
            PARTITION BY c.scorecard_id, c.metric_id ORDER BY c.period_start
        ) AS previous_value
    FROM complete_periods AS c
    JOIN goals AS g
        ON g.scorecard_id = c.scorecard_id AND g.metric_id = c.metric_id
        AND g.goals_from IS NOT DISTINCT FROM c.goals_from
    LEFT JOIN baselines AS b ON b.scorecard_id = c.scorecard_id AND b.metric_id = c.metric_id
    LEFT JOIN last_values AS l ON l.scorecard_id = c.scorecard_id AND l.metric_id = c.metric_id
),

-- Status follows the position, and the score (0 at one step below threshold, 33.3 at threshold,
-- 66.7 at target, 100 at stretch) is rounded without crossing into the next status.
scored AS (
    SELECT
        *,
        CASE
            WHEN stale THEN 'stale'
            WHEN direction IS NULL OR position IS NULL THEN 'grey'
            WHEN position >= 2 AND direction = 'band' THEN 'green'
            WHEN position >= 2 THEN 'blue'
            WHEN position >= 1 THEN 'green'
            WHEN position >= 0 THEN 'amber'
            ELSE 'red'
        END AS status,
        CASE
            WHEN position >= 2 THEN 100.0
            WHEN position >= 1 THEN least(round(100.0 / 3 * (1 + position), 1), 99.9)
            WHEN position >= 0 THEN least(round(100.0 / 3 * (1 + position), 1), 66.6)
            WHEN position >= -1 THEN least(round(100.0 / 3 * (1 + position), 1), 33.2)
            WHEN position < -1 THEN 0.0
        END AS score,
        CASE
            WHEN stale THEN format(
                'stale: no value since the {} starting {}',
                grain, strftime(last_value_period, '%Y-%m-%d')
            )
            WHEN direction IS NULL THEN 'no goals'
            WHEN pending AND awaiting <> '' THEN 'pending: not complete until read again: '
                || awaiting
            WHEN pending THEN 'pending: not complete when the values were computed'
            WHEN value IS NULL AND no_row THEN 'no value computed for this period'
            WHEN value IS NULL THEN coalesce(reason, 'no value for this period')
        END AS status_reason,
        CASE
            WHEN value IS NULL OR previous_value IS NULL OR direction IS NULL THEN NULL
            WHEN value = previous_value THEN 'flat'
            WHEN direction = 'band' THEN NULL
            WHEN (value - previous_value) * (target - threshold) > 0 THEN 'improving'
            ELSE 'deteriorating'
        END AS trend
    FROM positioned
),


SELECT
    e.scorecard_id, e.metric_id, e.grain, e.period_start, e.perspective, e.objective, e.owner,
    e.value AS actual, e.baseline, e.threshold, e.target,
    CASE WHEN e.direction = 'band' THEN NULL ELSE e.stretch END AS stretch,
    CASE WHEN e.direction = 'band' THEN e.band_low END AS band_low,
    CASE WHEN e.direction = 'band' THEN e.band_high END AS band_high,
    e.weight, e.goals_from, e.direction, e.score, e.status, e.status_reason AS reason, e.trend,
    e.pending,
    NULL AS signal,
    -- Set by actions.sql, which judges every escalation trigger.
    false AS escalate,
    n.commentary, n.decision,
    -- A red period nobody has explained yet: the monthly review's first agenda item.
    e.status = 'red' AND n.commentary IS NULL AS missing_commentary
FROM scored AS e
LEFT JOIN scorecard_commentary AS n USING (scorecard_id, metric_id, period_start)
