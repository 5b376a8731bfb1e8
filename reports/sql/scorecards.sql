-- One row per scorecard: its current period and the overall score, the plain mean of its
-- perspective scores, with coverage the mean of theirs. Every perspective on the page counts
-- once (report_perspectives.counted), including one shown in its own grain's period only: a red
-- quarterly perspective must not leave a monthly overall green. As in the roll-ups, a perspective without
-- a verdict yet (grey: one of its metrics is pending a source read) leaves the overall grey and
-- without a score: the mean of the others could hide a red. Below 70% coverage the overall says
-- "insufficient data" and has no score, as a perspective does, and a critical metric's cap on a
-- perspective, at any grain shown, caps the overall too; the coverage is not rounded to a
-- whole percent here (the page rounds it down), so 69.98% never reads as the 70% it falls short
-- of. The perspectives' coverages carry six decimals, and so does their mean, only to drop the
-- float sum's noise: 100 + 9.090909 + 83.333333 + 90.909091 + 66.666667 is the 350 (a mean of
-- 70%) a score needs.
WITH overall AS (
    SELECT
        periods.scorecard_id,
        periods.grain,
        periods.period_start,
        periods.previous_start,
        round(avg(scores.coverage) FILTER (WHERE scores.counted), 6) AS coverage,
        round(avg(scores.score) FILTER (WHERE scores.counted), 1) AS score,
        count(scores.score) FILTER (WHERE scores.counted) AS scored,
        bool_or(scores.status = 'grey') FILTER (WHERE scores.counted) AS has_grey,
        -- A critical metric's cap on a perspective carries to the overall, which is never
        -- better than that, whatever the perspective's own score.
        bool_or(scores.capped_at = 'red') AS capped_red,
        bool_or(scores.capped_at = 'amber') AS capped_amber,
        bool_or(scores.capped_at = 'green') AS capped_green
    FROM report_periods AS periods
    LEFT JOIN report_perspectives AS scores USING (scorecard_id)
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
        WHEN capped_red OR score < 33.3 THEN 'red'
        WHEN capped_amber OR score < 66.7 THEN 'amber'
        WHEN score >= 100 AND NOT coalesce(capped_green, false) THEN 'blue'
        ELSE 'green'
    END AS overall_status,
    -- Whether a cap, not the score, set that status: the page says so beside it.
    coalesce(NOT has_grey AND coverage >= 70 AND scored > 0, false) AND cap_holds_below_score(
        CASE WHEN capped_red THEN 'red' WHEN capped_amber THEN 'amber'
            WHEN capped_green THEN 'green' END,
        score
    ) AS overall_capped
FROM overall
ORDER BY scorecard_id;
