-- Initiatives under way (not proposed, done or cancelled) that are not on track, with why: a
-- status that says so, past their end date, a metric that has not improved since the initiative
-- started, or no metric that moved over its review window (scorecard.initiative_progress).
WITH progress AS (
    SELECT
        scorecard_id, initiative_id,
        string_agg(metric_id, ', ' ORDER BY metric_id) FILTER (WHERE NOT improved) AS not_improved,
        count(*) FILTER (WHERE moved_in_review_window IS NOT NULL) AS measured,
        bool_or(coalesce(moved_in_review_window, false)) AS moved
    FROM scorecard.initiative_progress
    GROUP BY ALL
),

reasons AS (
    SELECT
        initiative.scorecard_id, initiative.initiative_id, initiative.name, initiative.owner,
        initiative.end_date, initiative.status,
        concat_ws('; ',
            CASE WHEN lower(initiative.status) IN ('on_hold', 'at_risk', 'off_track', 'delayed',
                                                   'blocked', 'red', 'amber')
                 THEN 'status ' || initiative.status END,
            CASE WHEN initiative.end_date < CAST($as_of AS DATE) THEN 'past end date' END,
            CASE WHEN progress.not_improved IS NOT NULL
                 THEN 'not improved: ' || progress.not_improved END,
            CASE WHEN progress.measured > 0 AND NOT progress.moved
                 THEN printf('no movement over %d periods', initiative.review_periods) END
        ) AS reason
    FROM scorecard.initiatives AS initiative
    LEFT JOIN progress USING (scorecard_id, initiative_id)
    WHERE lower(coalesce(initiative.status, '')) NOT IN ('proposed', 'done', 'cancelled')
)

SELECT *
FROM reasons
WHERE reason <> ''
ORDER BY scorecard_id, end_date NULLS LAST, name;
