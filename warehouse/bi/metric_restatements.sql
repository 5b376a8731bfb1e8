-- The values of complete periods that the last KPI run changed (late data: a ticket closed late,
-- restated cloud costs), with the metric's name and how far each moved, so a report can flag a
-- number that differs from the one leaders were shown. Replaced by each run.
CREATE OR REPLACE VIEW bi.metric_restatements AS
SELECT
    restated.metric_id,
    definition.name AS metric_name,
    restated.grain,
    restated.period_start,
    bi.period_last_day(restated.grain, restated.period_start) AS period_last_day,
    restated.unit,
    restated.previous_value,
    restated.value AS restated_value,
    restated.value - restated.previous_value AS value_change,
    restated.reason,
    restated.previous_computed_at,
    restated.computed_at
FROM kpi.metric_restatements AS restated
LEFT JOIN kpi.metric_definitions AS definition USING (metric_id)
ORDER BY restated.metric_id, restated.grain, restated.period_start;

COMMENT ON VIEW bi.metric_restatements IS
    'One row per metric and complete period whose value the last KPI run changed: before, after, why.';
