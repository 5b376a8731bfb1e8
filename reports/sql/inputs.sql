-- The scorecard tables as the report reads them. Columns other branches add (scorecard_id,
-- commentary, action status) arrive as placeholders: the column where the table has it, else a
-- constant, so the report runs on any schema version. The "current" period of a scorecard is its
-- last complete period; metric_status holds complete periods only.
CREATE OR REPLACE TEMP VIEW report_status AS
SELECT
    $metric_status_scorecard_id AS scorecard_id,
    metric_status.metric_id, metric_status.grain, metric_status.period_start,
    metric_status.perspective, metric_status.objective, metric_status.owner,
    metric_status.actual, metric_status.threshold, metric_status.target, metric_status.direction,
    metric_status.score, metric_status.status, metric_status.trend, metric_status.reason,
    coalesce(metric_status.escalate, false) AS escalate,
    $metric_status_commentary AS commentary
FROM scorecard.metric_status AS metric_status;

CREATE OR REPLACE TEMP VIEW report_perspectives AS
SELECT
    $perspective_scores_scorecard_id AS scorecard_id,
    perspective_scores.perspective, perspective_scores.grain, perspective_scores.period_start,
    perspective_scores.score, perspective_scores.coverage, perspective_scores.status
FROM scorecard.perspective_scores AS perspective_scores;

CREATE OR REPLACE TEMP VIEW report_actions AS
SELECT
    $actions_scorecard_id AS scorecard_id,
    actions.action_id, actions.metric_id, actions.period_start, actions.trigger, actions.owner,
    actions.due_date, $actions_status AS status, $actions_commentary AS commentary,
    $actions_service AS service
FROM scorecard.actions AS actions;

CREATE OR REPLACE TEMP VIEW report_initiatives AS
SELECT
    $initiatives_scorecard_id AS scorecard_id,
    initiatives.initiative_id, initiatives.name, initiatives.objective, initiatives.owner,
    initiatives.start_date, initiatives.end_date, initiatives.status
FROM scorecard.initiatives AS initiatives;

-- The grain each scorecard is read at: monthly where it has monthly metrics, else its busiest.
CREATE OR REPLACE TEMP TABLE report_periods AS
WITH grains AS (
    SELECT scorecard_id, grain, count(DISTINCT metric_id) AS metrics
    FROM report_status
    GROUP BY ALL
),

chosen AS (
    SELECT scorecard_id, grain
    FROM grains
    QUALIFY row_number() OVER (
        PARTITION BY scorecard_id ORDER BY grain = 'month' DESC, metrics DESC, grain
    ) = 1
),

periods AS (
    SELECT DISTINCT scorecard_id, grain, period_start
    FROM report_status
    JOIN chosen USING (scorecard_id, grain)
)

SELECT
    scorecard_id,
    grain,
    max(period_start) AS period_start,
    max(period_start) FILTER (
        WHERE period_start < (SELECT max(p.period_start) FROM periods AS p
                              WHERE p.scorecard_id = periods.scorecard_id)
    ) AS previous_start
FROM periods
GROUP BY ALL;
