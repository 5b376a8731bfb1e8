-- Each perspective's score, coverage and status in the period the page shows it in: the page's
-- own, or its own grain's current one when it has no score at the page's grain; the grain and
-- period say which.
SELECT scorecard_id, perspective, grain, period_start, score, coverage, status
FROM report_perspectives
ORDER BY scorecard_id, perspective;
