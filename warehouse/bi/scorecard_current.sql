-- Each scorecard as it stands: every scored metric in the last complete period of its grain on
-- that scorecard (the running period is never scored; see bi.scorecard_to_date). Scorecards are
-- independent: one whose last scored week is earlier (a pilot that ended) keeps its own latest
-- week. It is bi.metric_history's latest period, so both views show the same columns. A period
-- whose metrics all await a source read (pending) is not complete yet: the current period is the
-- last with at least one judged metric, as on the executive summary (the latest period when no
-- period has one).
CREATE OR REPLACE VIEW bi.scorecard_current AS
SELECT *
FROM bi.metric_history
QUALIFY period_start = coalesce(
    max(period_start) FILTER (WHERE NOT coalesce(pending, false))
        OVER (PARTITION BY scorecard_id, grain),
    max(period_start) OVER (PARTITION BY scorecard_id, grain)
)
ORDER BY scorecard_id, grain, metric_id;

COMMENT ON VIEW bi.scorecard_current IS
    'One row per scorecard and scored metric in the scorecard''s last complete period of its grain: actual, goals, score, status, signals, commentary.';
