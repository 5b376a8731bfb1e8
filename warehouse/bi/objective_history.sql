-- Every complete period's score for each objective of each scorecard (the weighted mean of its
-- metrics' scores). Passes every scorecard.objective_scores column through.
CREATE OR REPLACE VIEW bi.objective_history AS
SELECT
    objective_row.*,
    bi.period_last_day(objective_row.grain, objective_row.period_start) AS period_last_day
FROM scorecard.objective_scores AS objective_row
ORDER BY
    objective_row.scorecard_id, objective_row.objective, objective_row.grain,
    objective_row.period_start;

COMMENT ON VIEW bi.objective_history IS
    'One row per scorecard, objective and complete period: score 0-100, coverage and status.';
