-- The action log: each escalation trigger active in a metric's latest scored period opens one
-- action; the action clears (resolved) when its trigger does, and closes when an owner records a
-- decision. Inputs: scorecard.metric_status (this run), scorecard_commentary, scorecard_due_days
-- (days to act, per grain) and the variable scoring_now (the run's as-of instant).
-- An action's id is its scorecard, metric, dimension, trigger and the period its run of triggered
-- periods began, so a trigger that persists keeps its action and a re-run adds nothing.
CREATE OR REPLACE TEMP VIEW action_triggers AS
WITH ordered AS (
    SELECT
        scorecard_id, metric_id, grain, period_start, owner, status, signal, on_track,
        lag(status) OVER card_metric AS previous_status,
        max(period_start) OVER (PARTITION BY scorecard_id, metric_id) AS latest_period,
        -- Runs of stale periods: each non-stale period starts a new group.
        count(*) FILTER (WHERE status IS DISTINCT FROM 'stale') OVER card_metric AS stale_group
    FROM scorecard.metric_status
    WINDOW card_metric AS (
        PARTITION BY scorecard_id, metric_id ORDER BY period_start
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),

stale_counted AS (
    SELECT
        *,
        count(*) FILTER (WHERE status = 'stale') OVER (
            PARTITION BY scorecard_id, metric_id, stale_group ORDER BY period_start
        ) AS stale_periods
    FROM ordered
),

-- Every period under each trigger, active or not, so a run of active periods can be found.
trigger_periods AS (
    SELECT scorecard_id, metric_id, grain, period_start, owner, latest_period, trigger, active
    FROM stale_counted
    CROSS JOIN LATERAL (
        VALUES
            ('red', status = 'red'),
            ('amber_two_periods', status = 'amber' AND previous_status = 'amber'),
            ('deteriorating_signal', signal LIKE 'deteriorating%'),
            ('stale_over_two_cadences', status = 'stale' AND stale_periods > 2),
            ('forecast_misses_target_date', on_track = false)
    ) AS t(trigger, active)
),

runs AS (
    SELECT
        *,
        count(*) FILTER (WHERE NOT coalesce(active, false)) OVER (
            PARTITION BY scorecard_id, metric_id, trigger ORDER BY period_start
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS run_number
    FROM trigger_periods
),

opened AS (
    SELECT
        *,
        min(period_start) FILTER (WHERE active) OVER (
            PARTITION BY scorecard_id, metric_id, trigger, run_number
        ) AS opened_period
    FROM runs
)

SELECT
    concat_ws(':', scorecard_id, metric_id, 'all', trigger, strftime(opened_period, '%Y-%m-%d'))
        AS action_id,
    scorecard_id, metric_id, grain, 'all' AS dimension, 'all' AS dimension_value, owner, trigger,
    opened_period,
    CAST(
        opened_period
        + CASE grain WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH
              ELSE INTERVAL 3 MONTH END
        + to_days(d.days) AS DATE
    ) AS due_date
FROM opened
LEFT JOIN scorecard_due_days AS d USING (grain)
WHERE active AND period_start = latest_period;

INSERT INTO scorecard.actions BY NAME
SELECT
    t.*, 'open' AS status, getvariable('scoring_now') AS opened_at,
    getvariable('scoring_now') AS updated_at
FROM action_triggers AS t
ANTI JOIN scorecard.actions AS a USING (action_id);

-- The trigger cleared in the metric's latest scored period.
UPDATE scorecard.actions AS a
SET status = 'resolved', resolved_period = latest.period_start,
    updated_at = getvariable('scoring_now')
FROM (
    SELECT scorecard_id, metric_id, max(period_start) AS period_start
    FROM scorecard.metric_status
    GROUP BY ALL
) AS latest
WHERE a.status = 'open'
  AND latest.scorecard_id = a.scorecard_id AND latest.metric_id = a.metric_id
  AND a.action_id NOT IN (SELECT action_id FROM action_triggers);

-- An owner's decision for the action's period or a later one closes it, with the decision as note.
UPDATE scorecard.actions AS a
SET status = 'closed', closed_at = getvariable('scoring_now'), note = d.decision,
    updated_at = getvariable('scoring_now')
FROM (
    SELECT
        a.action_id,
        arg_min(c.decision, c.period_start) AS decision
    FROM scorecard.actions AS a
    JOIN scorecard_commentary AS c
        ON c.scorecard_id = a.scorecard_id AND c.metric_id = a.metric_id
        AND c.period_start >= a.opened_period AND c.decision IS NOT NULL
    WHERE a.status <> 'closed'
    GROUP BY a.action_id
) AS d
WHERE a.action_id = d.action_id;
