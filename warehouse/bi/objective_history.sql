-- Every complete period's score for each objective of each scorecard (the weighted mean of its
-- metrics' scores). Passes every scorecard.objective_scores column through.
CREATE OR REPLACE VIEW bi.objective_history AS
SELECT
    objective_row.*,
    CAST(
        objective_row.period_start + CASE objective_row.grain
            WHEN 'week' THEN INTERVAL 7 DAY
            WHEN 'month' THEN INTERVAL 1 MONTH
            ELSE INTERVAL 3 MONTH
        END - INTERVAL 1 DAY AS DATE
    ) AS period_last_day
FROM scorecard.objective_scores AS objective_row
ORDER BY
    objective_row.scorecard_id, objective_row.objective, objective_row.grain,
    objective_row.period_start;

COMMENT ON VIEW bi.objective_history IS
    'One row per scorecard, objective and complete period: score 0-100, coverage and status.';
