-- Each scorecard's perspectives in the period the page shows them. A perspective is scored per
-- grain from that grain's metrics, so one whose metrics are all of another grain (learning and
-- growth read from a quarterly survey beside monthly metrics) has no score at the page's grain:
-- it is shown in its own grain's current period, as its metrics are, rather than left off the
-- page and out of the overall. A perspective scored in the page's own period keeps that score.
CREATE OR REPLACE TEMP TABLE report_perspectives AS
SELECT
    scores.scorecard_id, scores.perspective, scores.grain, scores.period_start,
    scores.score, scores.coverage, scores.status, scores.capped_at
FROM scorecard.perspective_scores AS scores
JOIN report_grain_periods USING (scorecard_id, grain, period_start)
LEFT JOIN report_periods AS page
    ON page.scorecard_id = scores.scorecard_id AND page.grain = scores.grain
-- The page's grain first; of the other grains, the latest period (then by name, to be stable).
QUALIFY row_number() OVER (
    PARTITION BY scores.scorecard_id, scores.perspective
    ORDER BY page.grain IS NOT NULL DESC, scores.period_start DESC, scores.grain
) = 1;
