-- The action log: each run of complete periods in which an escalation trigger held opens one
-- action; the action is resolved in the first period after the run (the trigger cleared), and
-- closed when an owner records a decision while it stood. Inputs: scorecard.metric_status (this
-- run), scorecard_commentary, scorecard_due_days (days to act, per grain) and the variable
-- scoring_now (the run's as-of instant).
-- The whole history of complete periods is read, so a first run (or a new metric) shows past
-- triggers that cleared as resolved, and a night that was missed leaves nothing out. A period
-- pending a source read neither clears nor extends a trigger: it is not scored yet. Nor does a
-- period without a value (grey, or stale) clear or extend a red or amber trigger: nothing shows
-- the metric left red; a metric that stays without data gets the stale trigger instead.
-- An action's id is its scorecard, metric, dimension, trigger and the period its run of triggered
-- periods began, so a trigger that persists keeps its action and a re-run adds nothing.
CREATE OR REPLACE TEMP VIEW escalation_triggers AS
WITH ordered AS (
    SELECT
        scorecard_id, metric_id, grain, period_start, owner, status, signal, on_track, actual,
        sen_slope, periods_to_target, target_date,
        -- The last earlier period with a value: a grey or stale one between two ambers shows
        -- nothing, so it does not break the amber run.
        lag(CASE WHEN status NOT IN ('grey', 'stale') THEN status END IGNORE NULLS)
            OVER card_metric AS previous_status,
        -- Runs of stale periods: each non-stale period starts a new group.
        count(*) FILTER (WHERE status IS DISTINCT FROM 'stale') OVER card_metric AS stale_group
    FROM scorecard.metric_status
    WHERE NOT coalesce(pending, false)
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

-- Whether the trend forecasts the goal after its target date: the periods left at Sen's slope
-- (periods_to_target) from this period land after it, or the trend is flat or points away while
-- the goal is not reached. Without a slope yet (too few values) there is no forecast; from the
-- target date on, a value short of the goal has missed it.
forecasts AS (
    SELECT
        *,
        CASE
            WHEN target_date IS NULL OR actual IS NULL THEN false
            WHEN period_start >= target_date THEN coalesce(on_track = false, false)
            WHEN periods_to_target = 0 OR sen_slope IS NULL THEN false
            WHEN periods_to_target IS NULL OR periods_to_target > 1000 THEN true
            ELSE period_start + CASE grain
                WHEN 'week' THEN to_days(7 * CAST(ceil(periods_to_target) AS INTEGER))
                WHEN 'quarter' THEN to_months(3 * CAST(ceil(periods_to_target) AS INTEGER))
                ELSE to_months(CAST(ceil(periods_to_target) AS INTEGER))
            END > target_date
        END AS forecast_misses_target_date
    FROM stale_counted
)

-- Every period under each trigger, active or not, so a run of active periods can be found;
-- active is NULL where the period cannot tell (a red or amber trigger in a period without value).
SELECT scorecard_id, metric_id, grain, period_start, owner, trigger, active
FROM forecasts
CROSS JOIN LATERAL (
    VALUES
        ('red', CASE WHEN status NOT IN ('grey', 'stale') THEN status = 'red' END),
        ('amber_two_periods', CASE WHEN status NOT IN ('grey', 'stale')
            THEN status = 'amber' AND coalesce(previous_status = 'amber', false) END),
        ('deteriorating_signal', coalesce(signal LIKE 'deteriorating%', false)),
        ('stale_over_two_cadences', coalesce(status = 'stale' AND stale_periods > 2, false)),
        ('forecast_misses_target_date', forecast_misses_target_date)
) AS t(trigger, active);

-- The runs of each trigger, one action each.
CREATE OR REPLACE TEMP VIEW action_runs AS
-- The periods that tell, each with the next one that does: where a run of the trigger clears.
WITH trigger_periods AS (
    SELECT
        *,
        lead(period_start) OVER (
            PARTITION BY scorecard_id, metric_id, trigger ORDER BY period_start
        ) AS next_period
    FROM escalation_triggers
    WHERE active IS NOT NULL
),

-- Each period where the trigger does not hold starts a new run number; the active periods after
-- it share that number.
runs AS (
    SELECT
        *,
        count(*) FILTER (WHERE NOT coalesce(active, false)) OVER (
            PARTITION BY scorecard_id, metric_id, trigger ORDER BY period_start
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS run_number
    FROM trigger_periods
),

-- One row per run: where it began, and the period after its last active one (NULL while the run
-- reaches the latest scored period, so the action stays open).
run_spans AS (
    SELECT
        scorecard_id, metric_id, grain, trigger,
        min(period_start) AS opened_period,
        arg_max(owner, period_start) AS owner,
        arg_max_null(next_period, period_start) AS cleared_period
    FROM runs
    WHERE active
    GROUP BY scorecard_id, metric_id, grain, trigger, run_number
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
    ) AS due_date,
    cleared_period
FROM run_spans
LEFT JOIN scorecard_due_days AS d USING (grain);

-- Each run with the logged action that stands for it: the one of its id, else one that late data
-- moved the run's first period under (a period before it turned red too, or its first period no
-- longer is): an action not closed whose id names no run any more and whose span (opened period
-- up to the period it was resolved in) overlaps the run, the earliest run for the earliest such
-- action. So the run keeps its action, owner and due date instead of a second one opening beside
-- it while the first is resolved in a period the trigger still held.
CREATE OR REPLACE TEMP VIEW logged_runs AS
WITH moved AS (
    SELECT
        a.action_id,
        r.action_id AS run_id,
        row_number() OVER (PARTITION BY a.action_id ORDER BY r.opened_period) AS run_rank,
        row_number() OVER (PARTITION BY r.action_id ORDER BY a.opened_period) AS action_rank
    FROM scorecard.actions AS a
    JOIN action_runs AS r
        ON r.scorecard_id = a.scorecard_id AND r.metric_id = a.metric_id
        AND r.dimension = a.dimension AND r.dimension_value = a.dimension_value
        AND r.trigger = a.trigger
        AND r.opened_period < coalesce(a.resolved_period, DATE '9999-12-31')
        AND a.opened_period < coalesce(r.cleared_period, DATE '9999-12-31')
    WHERE a.status <> 'closed'
        AND a.action_id NOT IN (SELECT action_id FROM action_runs)
        AND r.action_id NOT IN (SELECT action_id FROM scorecard.actions)
)
SELECT a.action_id, r.action_id AS run_id, r.cleared_period
FROM action_runs AS r
JOIN scorecard.actions AS a USING (action_id)
UNION ALL
SELECT m.action_id, m.run_id, r.cleared_period
FROM moved AS m
JOIN action_runs AS r ON r.action_id = m.run_id
WHERE m.run_rank = 1 AND m.action_rank = 1;

-- A run no logged action stands for: open while it lasts, resolved at once if it already cleared.
INSERT INTO scorecard.actions BY NAME
SELECT
    r.* EXCLUDE (cleared_period),
    if(r.cleared_period IS NULL, 'open', 'resolved') AS status,
    r.cleared_period AS resolved_period,
    getvariable('scoring_now') AS opened_at,
    getvariable('scoring_now') AS updated_at
FROM action_runs AS r
WHERE r.action_id NOT IN (SELECT run_id FROM logged_runs);

-- A resolved action whose run late data extended (a restated period red again): open again when
-- the run now reaches the metric's latest scored period, else resolved where it now clears. Only
-- a run that has seen the period it was resolved in (not a backfill's earlier as-of) decides; a
-- closed action stays closed: its owner decided.
UPDATE scorecard.actions AS a
SET status = if(r.cleared_period IS NULL, 'open', 'resolved'),
    resolved_period = r.cleared_period,
    updated_at = getvariable('scoring_now')
FROM logged_runs AS r, (
    SELECT scorecard_id, metric_id, max(period_start) AS period_start
    FROM scorecard.metric_status
    WHERE NOT coalesce(pending, false)
    GROUP BY ALL
) AS latest
WHERE a.action_id = r.action_id
    AND latest.scorecard_id = a.scorecard_id AND latest.metric_id = a.metric_id
    AND a.status = 'resolved'
    AND a.resolved_period <= latest.period_start
    AND (r.cleared_period IS NULL OR r.cleared_period > a.resolved_period);

-- An open action whose trigger cleared: resolved in the first period without it. One whose run is
-- gone (a restated value) is resolved at the metric's latest scored period. A metric taken off
-- the scorecard (retired, disabled, removed) has no row in the latest period its scorecard scored
-- for its grain, where every metric on it has one (pending or not), and no later period can clear
-- its actions: they are resolved in that period. A scorecard removed from the config scores no
-- period any more: its actions are resolved in the latest period any scorecard scored for their
-- grain. An action opened after the period is left alone: a run with an earlier as-of (a
-- backfill) cannot see its trigger.
UPDATE scorecard.actions AS a
SET status = 'resolved', resolved_period = cleared.period_start,
    updated_at = getvariable('scoring_now')
FROM (
    WITH grain_ends AS (
        SELECT grain, max(period_start) AS period_start
        FROM scorecard.metric_status
        GROUP BY ALL
    ),

    scorecard_ends AS (
        SELECT scorecard_id, grain, max(period_start) AS period_start
        FROM scorecard.metric_status
        GROUP BY ALL
        UNION ALL
        SELECT removed.scorecard_id, removed.grain, grain_ends.period_start
        FROM (SELECT DISTINCT scorecard_id, grain FROM scorecard.actions) AS removed
        JOIN grain_ends USING (grain)
        WHERE removed.scorecard_id NOT IN (SELECT scorecard_id FROM scorecard.metric_status)
    ),

    on_scorecard AS (
        SELECT scorecard_id, metric_id, grain, period_start AS end_period
        FROM scorecard.metric_status
        SEMI JOIN scorecard_ends USING (scorecard_id, grain, period_start)
    ),

    latest AS (
        SELECT scorecard_id, metric_id, max(period_start) AS period_start
        FROM scorecard.metric_status
        WHERE NOT coalesce(pending, false)
        GROUP BY ALL
    )

    SELECT
        open.action_id,
        CASE
            WHEN o.metric_id IS NULL THEN e.period_start
            ELSE coalesce(r.cleared_period, latest.period_start)
        END AS period_start
    FROM scorecard.actions AS open
    JOIN scorecard_ends AS e USING (scorecard_id, grain)
    LEFT JOIN on_scorecard AS o USING (scorecard_id, metric_id, grain)
    LEFT JOIN latest USING (scorecard_id, metric_id)
    LEFT JOIN logged_runs AS r USING (action_id)
    WHERE open.status = 'open'
        AND (
            (o.metric_id IS NULL AND open.opened_period <= e.period_start)
            OR (open.opened_period <= latest.period_start
                AND (r.action_id IS NULL OR r.cleared_period IS NOT NULL))
        )
) AS cleared
WHERE a.action_id = cleared.action_id;

-- An owner's decision closes the actions that stood at its period (opened on or before it and not
-- resolved by then), with the earliest such decision as note.
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
        AND c.period_start >= a.opened_period
        AND (a.resolved_period IS NULL OR c.period_start < a.resolved_period)
        AND c.decision IS NOT NULL
    WHERE a.status <> 'closed'
    GROUP BY a.action_id
) AS d
WHERE a.action_id = d.action_id;

-- A period escalates under any trigger that holds in it, as its action does: a deteriorating
-- signal, a stale run past two cadences and a forecast to miss the target date, as well as red
-- and amber twice running (metric_status.sql leaves escalate false for this).
UPDATE scorecard.metric_status AS s
SET escalate = true
FROM (
    SELECT DISTINCT scorecard_id, metric_id, grain, period_start
    FROM escalation_triggers
    WHERE active
) AS t
WHERE s.scorecard_id = t.scorecard_id AND s.metric_id = t.metric_id AND s.grain = t.grain
    AND s.period_start = t.period_start;
