-- The report's reading of scorecard.metric_status, and the period it reports per scorecard.
-- The "current" period of a scorecard is its last complete period (metric_status holds complete
-- periods only), at the grain it is read at: monthly where it has monthly metrics, else its
-- busiest grain.
CREATE OR REPLACE TEMP VIEW report_status AS
SELECT
    scorecard_id, metric_id, grain, period_start, perspective, objective, owner, actual,
    threshold, target, direction, score, status, trend, reason,
    coalesce(escalate, false) AS escalate,
    commentary, decision
FROM scorecard.metric_status;

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
