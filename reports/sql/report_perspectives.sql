-- Whether a critical metric's cap (capped_at) holds a level below the status its score alone
-- gives (the cut-offs of transforms/scorecard/rollups.sql), so the page can say why a perspective
-- scoring 85.7 reads red. False without a cap.
CREATE OR REPLACE TEMP MACRO cap_holds_below_score(capped_at, score) AS
    coalesce(score >= CASE capped_at WHEN 'red' THEN 33.3 WHEN 'amber' THEN 66.7
        WHEN 'green' THEN 100 END, false);

-- Each scorecard's perspectives in the periods the page shows them: one row per grain a
-- perspective is scored at, each in its grain's current period. A perspective is scored per grain
-- from that grain's metrics, so one whose metrics are all of another grain (learning and growth
-- read from a quarterly survey beside monthly metrics) has no score at the page's grain: it is
-- shown in its own grain's current period, as its metrics are, rather than left off the page and
-- out of the overall. One of mixed grains is shown at each: its quarterly verdict (a critical
-- metric's red cap) stays on the page beside its monthly one.
-- `counted` marks the row the overall's mean takes, one per perspective: the page's grain first;
-- of the other grains, the latest period (then by name, to be stable).
CREATE OR REPLACE TEMP TABLE report_perspectives AS
SELECT
    scores.scorecard_id, scores.perspective, scores.grain, scores.period_start,
    scores.score, scores.coverage, scores.status, scores.capped_at,
    row_number() OVER (
        PARTITION BY scores.scorecard_id, scores.perspective
        ORDER BY page.grain IS NOT NULL DESC, scores.period_start DESC, scores.grain
    ) = 1 AS counted
FROM scorecard.perspective_scores AS scores
JOIN report_grain_periods USING (scorecard_id, grain, period_start)
LEFT JOIN report_periods AS page
    ON page.scorecard_id = scores.scorecard_id AND page.grain = scores.grain;
