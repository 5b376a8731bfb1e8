-- Every complete period each scorecard metric was scored in, oldest first: the series behind a
-- trend or XmR chart (filter on scorecard_id: several scorecards can score the same metric).
-- Passes every scorecard.metric_status column through.
CREATE OR REPLACE VIEW bi.metric_history AS
SELECT
    status_row.*,
    definition.name AS metric_name,
    definition.unit,
    bi.period_last_day(status_row.grain, status_row.period_start) AS period_last_day
FROM scorecard.metric_status AS status_row
LEFT JOIN kpi.metric_definitions AS definition USING (metric_id)
ORDER BY
    status_row.scorecard_id, status_row.metric_id, status_row.grain, status_row.period_start;

COMMENT ON VIEW bi.metric_history IS
    'One row per scorecard, metric and complete period: actual, goals, score, status, trend, signals.';
