-- Each perspective's score, coverage and status in the periods the page shows it in: the page's
-- own, and each other grain's current one it is scored at; the grain and period say which.
SELECT
    scorecard_id, perspective, grain, period_start, score, coverage, status,
    cap_holds_below_score(capped_at, score) AS capped
FROM report_perspectives
ORDER BY scorecard_id, perspective, NOT counted, grain;
