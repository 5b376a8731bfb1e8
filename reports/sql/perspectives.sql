-- Each perspective's score, coverage and status in the scorecard's current period.
SELECT scorecard_id, perspective, score, coverage, status
FROM scorecard.perspective_scores
JOIN report_periods USING (scorecard_id, grain, period_start)
ORDER BY scorecard_id, perspective;
