-- Each scorecard as it stands: every scored metric in the last complete period of its grain on
-- that scorecard (the running period is never scored; see bi.scorecard_to_date). Scorecards are
-- independent: one whose last scored week is earlier (a pilot that ended) keeps its own latest
-- week. It is bi.metric_history's latest period, so both views show the same columns.
CREATE OR REPLACE VIEW bi.scorecard_current AS
SELECT *
FROM bi.metric_history
QUALIFY period_start = max(period_start) OVER (PARTITION BY scorecard_id, grain)
ORDER BY scorecard_id, grain, metric_id;

COMMENT ON VIEW bi.scorecard_current IS
    'One row per scorecard and scored metric in the scorecard''s last complete period of its grain: actual, goals, score, status, signals, commentary.';
