-- Values the last KPI run changed in periods already complete before it (late data), for the
-- metrics each scorecard shows and at the grain it scores them: what a reader saw last time.
WITH scored AS (
    SELECT DISTINCT scorecard_id, metric_id, grain
    FROM report_status
)

SELECT
    scored.scorecard_id, restated.metric_id, restated.grain, restated.period_start,
    restated.unit, restated.previous_value, restated.value
FROM kpi.metric_restatements AS restated
JOIN scored USING (metric_id, grain)
ORDER BY scored.scorecard_id, restated.period_start DESC, restated.metric_id;
