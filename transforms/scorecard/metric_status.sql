-- Score each metric's headline value (dimension 'all', the metric's own grain) against its goals.
-- Inputs: kpi.metric_values and scorecard_goals (one row per configured metric, registered by
-- transforms/scoring.py). The score model is in ../shared/reference/metrics.md.
WITH goals AS (
    SELECT
        *,
        coalesce(stretch, target + (target - threshold)) AS stretch_or_default,
        CASE
            WHEN band_low IS NOT NULL THEN 'band'
            WHEN target > threshold THEN 'higher'
            WHEN target < threshold THEN 'lower'
        END AS direction
    FROM scorecard_goals
),

headline_values AS (
    SELECT v.metric_id, v.grain, v.period_start, v.value
    FROM kpi.metric_values AS v
    JOIN goals AS g ON g.metric_id = v.metric_id AND g.grain = v.grain
    WHERE v.dimension = 'all'
),

numbered AS (
    SELECT *, row_number() OVER (PARTITION BY metric_id ORDER BY period_start) AS period_number
    FROM headline_values
    WHERE value IS NOT NULL
),

baselines AS (
    -- The median of the first three periods that have a value, unless the definition gives one.
    SELECT metric_id, median(value) AS first_periods_median
    FROM numbered
    WHERE period_number <= 3
    GROUP BY metric_id
),

positioned AS (
    SELECT
        h.*,
        g.perspective, g.objective, g.owner, g.threshold, g.target,
        g.stretch_or_default AS stretch, g.direction, g.band_low, g.band_high,
        coalesce(g.baseline, b.first_periods_median) AS baseline,
        -- Position on the goal scale: 0 at threshold, 1 at target, 2 at stretch.
        CASE
            WHEN h.value IS NULL OR g.direction IS NULL OR g.direction = 'band' THEN NULL
            WHEN (h.value - g.target) * (g.target - g.threshold) <= 0
                THEN (h.value - g.threshold) / (g.target - g.threshold)
            ELSE 1 + (h.value - g.target) / (g.stretch_or_default - g.target)
        END AS position,
        lag(h.value) OVER (PARTITION BY h.metric_id ORDER BY h.period_start) AS previous_value
    FROM headline_values AS h
    JOIN goals AS g USING (metric_id)
    LEFT JOIN baselines AS b USING (metric_id)
),

scored AS (
    SELECT
        *,
        CASE
            WHEN value IS NULL THEN NULL
            WHEN direction = 'band' THEN
                CASE
                    WHEN value BETWEEN band_low AND band_high THEN 100.0
                    ELSE greatest(0.0, 100.0 * (1 - least(abs(value - band_low), abs(value - band_high))
                        / nullif(band_high - band_low, 0)))
                END
            ELSE greatest(0.0, least(100.0, 100.0 / 3 * (1 + position)))
        END AS score,
        CASE
            WHEN value IS NULL THEN 'grey'
            WHEN direction = 'band' THEN
                CASE WHEN value BETWEEN band_low AND band_high THEN 'green' ELSE 'red' END
            WHEN direction IS NULL THEN NULL
            WHEN position >= 2 THEN 'blue'
            WHEN position >= 1 THEN 'green'
            WHEN position >= 0 THEN 'amber'
            ELSE 'red'
        END AS status,
        CASE
            WHEN value IS NULL OR previous_value IS NULL OR value = previous_value THEN 'flat'
            WHEN direction = 'band' THEN NULL
            WHEN (value - previous_value) * (target - threshold) > 0 THEN 'improving'
            ELSE 'deteriorating'
        END AS trend
    FROM positioned
),

with_escalation AS (
    SELECT
        *,
        status = 'red'
            OR (status = 'amber'
                AND lag(status) OVER (PARTITION BY metric_id ORDER BY period_start) = 'amber')
            AS escalate
    FROM scored
)

SELECT
    metric_id, grain, period_start, perspective, objective, owner,
    value AS actual, baseline, threshold, target,
    CASE WHEN direction = 'band' THEN NULL ELSE stretch END AS stretch,
    direction, round(score, 1) AS score, status, trend,
    NULL AS signal,
    coalesce(escalate, false) AS escalate
FROM with_escalation
