-- Each perspective's score, coverage and status in the periods the page shows it in: the page's
-- own, and each other grain's current one it is scored at; the grain and period say which.
SELECT
    scorecard_id, perspective, grain, period_start, score, coverage, status,
    -- Capped: a critical metric holds the status below what the score alone would give, so the
    -- page says why a perspective scoring 85.7 reads red.
    coalesce(score >= CASE capped_at WHEN 'red' THEN 33.3 WHEN 'amber' THEN 66.7 ELSE 100 END,
        false) AS capped
FROM report_perspectives
ORDER BY scorecard_id, perspective, NOT counted, grain;
