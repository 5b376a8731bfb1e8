-- Each initiative's progress on the metrics it should move: the value in the period it started
-- (or the first after), the latest value, the movement between them in the metric's good
-- direction, whether anything moved over its review window, and its project_roi where the
-- benefit and cost inputs exist. Inputs: scorecard.initiatives, scorecard.metric_status,
-- kpi.metric_values.
WITH initiative_metrics AS (
    SELECT scorecard_id, initiative_id, name, start_date, review_periods, unnest(metrics) AS metric_id
    FROM scorecard.initiatives
),

valued AS (
    SELECT i.*, s.period_start, s.actual, s.direction
    FROM initiative_metrics AS i
    JOIN scorecard.metric_status AS s USING (scorecard_id, metric_id)
    WHERE s.actual IS NOT NULL
),

start_values AS (
    SELECT
        scorecard_id, initiative_id, metric_id,
        -- The last value on or before the start, else the first one after it.
        coalesce(
            max(period_start) FILTER (WHERE period_start <= start_date),
            min(period_start)
        ) AS start_period
    FROM valued
    GROUP BY ALL
),

latest_values AS (
    SELECT
        scorecard_id, initiative_id, metric_id,
        arg_max(actual, period_start) AS latest_value,
        max(period_start) AS latest_period,
        any_value(direction) AS direction
    FROM valued
    GROUP BY ALL
),

review_window AS (
    SELECT
        scorecard_id, initiative_id, metric_id,
        max(actual) > min(actual) AS moved_in_review_window
    FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY scorecard_id, initiative_id, metric_id ORDER BY period_start DESC
            ) AS periods_back
        FROM valued
    )
    -- The latest period and the review_periods before it.
    WHERE periods_back <= review_periods + 1
    GROUP BY ALL
),

-- The return so far at the latest end of a complete period, whatever its grain: the values of
-- periods ending on the same day agree. The latest start would take, in the days after a month
-- ends, its last complete week, which ended before the month's inputs count.
roi AS (
    SELECT
        dimension_value AS initiative,
        arg_max(
            value,
            period_start + CASE grain
                WHEN 'week' THEN INTERVAL 7 DAY
                WHEN 'month' THEN INTERVAL 1 MONTH
                ELSE INTERVAL 3 MONTH
            END
        ) AS project_roi
    FROM kpi.metric_values
    WHERE metric_id = 'project_roi' AND dimension = 'initiative' AND period_complete
      AND value IS NOT NULL
    GROUP BY ALL
)

SELECT
    i.scorecard_id, i.initiative_id, i.metric_id,
    st.start_period, v.actual AS start_value, l.latest_period, l.latest_value,
    l.latest_value - v.actual AS movement,
    -- Only a period after the start can tell: an initiative that started in the latest period (or
    -- starts later) has not improved nor failed to yet.
    CASE
        WHEN l.latest_period <= st.start_period THEN NULL
        WHEN l.direction = 'higher' THEN l.latest_value > v.actual
        WHEN l.direction = 'lower' THEN l.latest_value < v.actual
    END AS improved,
    w.moved_in_review_window,
    coalesce(r_id.project_roi, r_name.project_roi) AS project_roi
FROM initiative_metrics AS i
LEFT JOIN start_values AS st USING (scorecard_id, initiative_id, metric_id)
LEFT JOIN valued AS v
    ON v.scorecard_id = i.scorecard_id AND v.initiative_id = i.initiative_id
    AND v.metric_id = i.metric_id AND v.period_start = st.start_period
LEFT JOIN latest_values AS l USING (scorecard_id, initiative_id, metric_id)
LEFT JOIN review_window AS w USING (scorecard_id, initiative_id, metric_id)
LEFT JOIN roi AS r_id ON r_id.initiative = i.initiative_id
LEFT JOIN roi AS r_name ON r_name.initiative = i.name
