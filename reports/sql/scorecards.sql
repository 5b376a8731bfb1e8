-- One row per scorecard: its current period and the overall score, the plain mean of its
-- perspective scores, with coverage the mean of theirs. As in the roll-ups, a perspective without
-- a verdict yet (grey: one of its metrics is pending a source read) leaves the overall grey and
-- without a score: the mean of the others could hide a red. Below 70% coverage the overall says
-- "insufficient data" and has no score, as a perspective does; the coverage is not rounded here
-- (the page rounds it down), so 69.98% never reads as the 70% it falls short of.
SELECT
    periods.scorecard_id,
    periods.grain,
    periods.period_start,
    periods.previous_start,
    CASE WHEN NOT coalesce(bool_or(scores.status = 'grey'), false) AND avg(scores.coverage) >= 70
        THEN round(avg(scores.score), 1) END AS overall_score,
    avg(scores.coverage) AS overall_coverage,
    CASE
        WHEN bool_or(scores.status = 'grey') THEN 'grey'
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
