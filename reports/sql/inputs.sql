-- The report's reading of scorecard.metric_status, and the periods it reports per scorecard.
-- The "current" period of a scorecard and grain is its last ended period in which at least one
-- metric is judged (metric_status also lists ended periods still pending a source read; a period
-- whose metrics are all pending is not reported yet, unless the scorecard has no other). The page
-- is headed by the grain the scorecard is read at (report_periods): monthly where it has monthly
-- metrics, else its busiest grain; a metric of another grain (a quarterly survey beside monthly
-- metrics) is shown in its own grain's current period (report_grain_periods).
CREATE OR REPLACE TEMP VIEW report_status AS
SELECT
    scorecard_id, metric_id, grain, period_start, perspective, objective, owner, actual,
    threshold, target, band_low, band_high, direction, score, status, trend, reason,
    coalesce(pending, false) AS pending,
    coalesce(escalate, false) AS escalate,
    commentary, decision
FROM scorecard.metric_status;

CREATE OR REPLACE TEMP TABLE report_grain_periods AS
WITH periods AS (
    SELECT scorecard_id, grain, period_start, bool_and(pending) AS all_pending
    FROM report_status
    GROUP BY ALL
),

current_periods AS (
    SELECT
        scorecard_id,
        grain,
        coalesce(max(period_start) FILTER (WHERE NOT all_pending), max(period_start)) AS period_start
    FROM periods
    GROUP BY ALL
)

SELECT
    c.scorecard_id,
    c.grain,
    c.period_start,
    (SELECT max(p.period_start) FROM periods AS p
     WHERE p.scorecard_id = c.scorecard_id AND p.grain = c.grain
        AND p.period_start < c.period_start) AS previous_start
FROM current_periods AS c;

CREATE OR REPLACE TEMP TABLE report_periods AS
WITH grains AS (
    SELECT scorecard_id, grain, count(DISTINCT metric_id) AS metrics
    FROM report_status
    GROUP BY ALL
)

SELECT periods.*
FROM report_grain_periods AS periods
JOIN grains USING (scorecard_id, grain)
QUALIFY row_number() OVER (
    PARTITION BY scorecard_id ORDER BY grain = 'month' DESC, metrics DESC, grain
) = 1;
