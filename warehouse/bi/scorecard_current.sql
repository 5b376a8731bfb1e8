-- Each scorecard as it stands: every scored metric in the last complete period of its grain on
-- that scorecard (the running period is never scored; see bi.scorecard_to_date). Scorecards are
-- independent: one whose last scored week is earlier (a pilot that ended) keeps its own latest
-- week. Passes every scorecard.metric_status column through, so columns added there reach BI
-- tools unchanged.
CREATE OR REPLACE VIEW bi.scorecard_current AS
WITH named_status AS (
    SELECT
        status_row.*,
        definition.name AS metric_name,
        definition.unit,
        CAST(
            status_row.period_start + CASE status_row.grain
                WHEN 'week' THEN INTERVAL 7 DAY
                WHEN 'month' THEN INTERVAL 1 MONTH
                ELSE INTERVAL 3 MONTH
            END - INTERVAL 1 DAY AS DATE
        ) AS period_last_day
    FROM scorecard.metric_status AS status_row
    LEFT JOIN kpi.metric_definitions AS definition USING (metric_id)
)

SELECT *
FROM named_status
QUALIFY period_start = max(period_start) OVER (PARTITION BY scorecard_id, grain)
ORDER BY scorecard_id, grain, metric_id;

COMMENT ON VIEW bi.scorecard_current IS
    'One row per scorecard and scored metric in the scorecard''s last complete period of its grain: actual, goals, score, status, signals, commentary.';
