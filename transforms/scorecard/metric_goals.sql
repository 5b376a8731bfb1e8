-- Each scorecard, metric and goal version of the config (scorecard_goals, registered by
-- transforms/scoring.py) with what follows from its goals: the direction (higher, lower or band;
-- NULL without usable goals) and the stretch (target + (target - threshold) unless configured;
-- NULL for a band, which scores 100 inside it). Stored as scorecard.metric_goals, which scoring
-- and bi.scorecard_to_date read.
WITH directed AS (
    SELECT
        *,
        CASE
            WHEN band_low < band_high THEN 'band'
            WHEN band_low IS NOT NULL THEN NULL
            WHEN target > threshold THEN 'higher'
            WHEN target < threshold THEN 'lower'
        END AS direction
    FROM scorecard_goals
)
SELECT
    * EXCLUDE (stretch),
    CASE WHEN direction IS DISTINCT FROM 'band' THEN coalesce(stretch, target + (target - threshold)) END
        AS stretch
FROM directed
