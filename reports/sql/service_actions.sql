-- The open actions raised on a service, for its page and the index (prepared once, as the view
-- service_actions; service_action_list.sql lists them, services.sql counts them): those raised on
-- the service itself (dimension 'service'), and those of a metric that takes the worst of its
-- services (kpi.metric_definitions.worst_of, e.g. service_availability_worst), on the service
-- that was the worst (kpi.metric_values.lowest_of) in the metric's latest complete period. An
-- action whose metric has no worst service in that period (stale, no data) names no service.
CREATE OR REPLACE TEMP VIEW service_actions AS
WITH latest_worst AS (
    SELECT values.metric_id, values.grain, values.lowest_of AS service
    FROM kpi.metric_values AS values
    JOIN kpi.metric_definitions AS definitions USING (metric_id)
    WHERE definitions.worst_of = 'service' AND values.dimension = 'all' AND values.period_complete
    QUALIFY row_number() OVER (
        PARTITION BY values.metric_id, values.grain ORDER BY values.period_start DESC
    ) = 1
),

open_actions AS (
    SELECT actions.*, worst.service AS worst_service
    FROM scorecard.actions AS actions
    LEFT JOIN latest_worst AS worst
        ON actions.dimension = 'all' AND worst.metric_id = actions.metric_id
        AND worst.grain = actions.grain
    WHERE actions.status = 'open'
)

SELECT
    CASE WHEN dimension = 'service' THEN dimension_value ELSE worst_service END AS service,
    scorecard_id, action_id, metric_id, trigger, owner, opened_period, due_date, note
FROM open_actions
WHERE dimension = 'service' OR worst_service IS NOT NULL;
