-- Scorecard rows for scorecard.data_quality: a red latest judged period (the latest one not
-- pending a source read; an older red the metric has since left is history) with no commentary, the
-- configuration's governance findings (scorecard_governance, from transforms/governance.py) and
-- initiatives whose metrics have not moved over their review window (or have no values yet).
-- record_key starts with the scorecard id, which the table exposes as scorecard_id.
SELECT
    'scorecard' AS source, 'metric_status' AS table_name,
    concat_ws('/', scorecard_id, metric_id, strftime(period_start, '%Y-%m-%d')) AS record_key,
    'commentary' AS field,
    'red with no commentary for its period' AS problem,
    owner AS value
FROM scorecard.metric_status
QUALIFY missing_commentary
    AND period_start = max(period_start) FILTER (WHERE NOT pending)
        OVER (PARTITION BY scorecard_id, metric_id)

UNION ALL

SELECT 'scorecard', 'governance', record_key, field, problem, value
FROM scorecard_governance

UNION ALL

SELECT
    'scorecard', 'governance',
    concat_ws('/', scorecard_id, 'initiatives', initiative_id) AS record_key,
    'metrics' AS field,
    -- Metrics without any value yet were never measured: a different finding from standing still.
    CASE
        WHEN count(moved_in_review_window) = 0 THEN 'initiative whose metrics have no values yet'
        ELSE 'initiative whose metrics have not moved over its review window'
    END AS problem,
    -- The metrics that stood still (those never measured only when none was).
    coalesce(
        string_agg(metric_id, ', ' ORDER BY metric_id) FILTER (
            WHERE moved_in_review_window IS NOT NULL
        ),
        string_agg(metric_id, ', ' ORDER BY metric_id)
    ) AS value
FROM scorecard.initiative_progress
GROUP BY scorecard_id, initiative_id
HAVING NOT bool_or(coalesce(moved_in_review_window, false))
