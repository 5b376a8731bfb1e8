-- One row per scorecard: its current period and the overall score, the plain mean of its
-- perspective scores, with coverage the mean of theirs. As in the roll-ups, a perspective without
-- a verdict yet (grey: one of its metrics is pending a source read) leaves the overall grey and
-- without a score: the mean of the others could hide a red. Below 70% coverage the overall says
-- "insufficient data" and has no score, as a perspective does; the coverage is not rounded to a
-- whole percent here (the page rounds it down), so 69.98% never reads as the 70% it falls short
-- of. The perspectives' coverages carry one decimal, and their mean is rounded to six decimals
-- only to drop the float sum's noise:
-- 100 + 9.1 + 83.3 + 90.9 + 66.7 summed in that order is 349.99999999999994, yet the mean is the
-- 70% a score needs.
WITH overall AS (
    SELECT
        periods.scorecard_id,
        periods.grain,
        periods.period_start,
        periods.previous_start,
        round(avg(scores.coverage), 6) AS coverage,
        round(avg(scores.score), 1) AS score,
        count(scores.score) AS scored,
        bool_or(scores.status = 'grey') AS has_grey
    FROM report_periods AS periods
    LEFT JOIN scorecard.perspective_scores AS scores USING (scorecard_id, grain, period_start)
    GROUP BY ALL
)

SELECT
    scorecard_id,
    grain,
    period_start,
    previous_start,
    CASE WHEN NOT coalesce(has_grey, false) AND coverage >= 70 THEN score END AS overall_score,
    coverage AS overall_coverage,
    CASE
        WHEN has_grey THEN 'grey'
        WHEN coverage < 70 OR scored = 0 THEN 'insufficient data'
        WHEN score < 33.3 THEN 'red'
        WHEN score < 66.7 THEN 'amber'
        WHEN score >= 100 THEN 'blue'
        ELSE 'green'
    END AS overall_status
FROM overall
ORDER BY scorecard_id;
