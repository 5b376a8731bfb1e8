-- Every metric of the current period with a sparkline of its last twelve complete periods.
-- The sparkline is 114 x 24 px with a 2 px margin: twelve slots 10 px apart, the current
-- period in the last one; y runs from the highest of actuals, threshold and target (top) to the
-- lowest (bottom). The band is drawn between the current threshold and target, or a band
-- metric's band edges (its goal; it has no threshold or target).
WITH current_metric AS (
    SELECT status.*
    FROM report_status AS status
    JOIN report_grain_periods USING (scorecard_id, grain, period_start)
),

history AS (
    SELECT
        status.scorecard_id, status.metric_id, status.actual,
        row_number() OVER (
            PARTITION BY status.scorecard_id, status.metric_id ORDER BY status.period_start DESC
        ) AS periods_back
    FROM report_status AS status
    JOIN report_grain_periods AS periods
        ON periods.scorecard_id = status.scorecard_id
       AND periods.grain = status.grain
       AND status.period_start <= periods.period_start
    QUALIFY periods_back <= 12
),

scale AS (
    SELECT
        current_metric.scorecard_id, current_metric.metric_id,
        least(min(history.actual), any_value(current_metric.threshold),
              any_value(current_metric.target), any_value(current_metric.band_low)) AS low,
        greatest(max(history.actual), any_value(current_metric.threshold),
                 any_value(current_metric.target), any_value(current_metric.band_high)) AS high
    FROM current_metric
    JOIN history USING (scorecard_id, metric_id)
    GROUP BY ALL
),

plotted AS (
    SELECT
        history.scorecard_id, history.metric_id, history.periods_back,
        2 + (12 - history.periods_back) * 10 AS x,
        CASE WHEN scale.high > scale.low
             THEN 2 + 20 * (scale.high - history.actual) / (scale.high - scale.low)
             ELSE 12 END AS y
    FROM history
    JOIN scale USING (scorecard_id, metric_id)
    WHERE history.actual IS NOT NULL
),

sparkline AS (
    SELECT
        scorecard_id, metric_id,
        string_agg(printf('%d,%.1f', x, y), ' ' ORDER BY periods_back DESC) AS points
    FROM plotted
    GROUP BY ALL
)

SELECT
    metric.scorecard_id, metric.metric_id, metric.grain, metric.period_start, metric.perspective, metric.owner, metric.actual,
    metric.threshold, metric.target, metric.band_low, metric.band_high, metric.score, metric.status,
    metric.trend, metric.reason,
    sparkline.points,
    CASE WHEN scale.high > scale.low THEN
        2 + 20 * (scale.high - greatest(metric.threshold, metric.target, metric.band_high))
            / (scale.high - scale.low)
    END AS band_top,
    CASE WHEN scale.high > scale.low THEN
        2 + 20 * (scale.high - least(metric.threshold, metric.target, metric.band_low))
            / (scale.high - scale.low)
    END AS band_bottom
FROM current_metric AS metric
LEFT JOIN sparkline USING (scorecard_id, metric_id)
LEFT JOIN scale USING (scorecard_id, metric_id)
ORDER BY metric.scorecard_id, metric.perspective, metric.metric_id;
