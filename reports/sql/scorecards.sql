-- One row per scorecard: its current period and the overall score, the plain mean of its
-- perspective scores, with coverage the mean of theirs.
SELECT
    periods.scorecard_id,
    periods.grain,
    periods.period_start,
    periods.previous_start,
    round(avg(scores.score), 1) AS overall_score,
    round(avg(scores.coverage), 1) AS overall_coverage,
    CASE
        WHEN avg(scores.coverage) < 70 OR count(scores.score) = 0 THEN 'insufficient data'
        WHEN round(avg(scores.score), 1) < 33.3 THEN 'red'
        WHEN round(avg(scores.score), 1) < 66.7 THEN 'amber'
        WHEN round(avg(scores.score), 1) >= 100 THEN 'blue'
        ELSE 'green'
    END AS overall_status
FROM report_periods AS periods
LEFT JOIN scorecard.perspective_scores AS scores USING (scorecard_id, grain, period_start)
GROUP BY ALL
ORDER BY periods.scorecard_id;
