-- One row per service for the service-owner pages: its incidents and requests opened in the
-- period ($period_start, $grain: from midnight to midnight in the calendar's $timezone, the bounds
-- the KPIs beside them use, whatever the session's time zone), what is still open, its changes and
-- failed changes as its change failure rate counts them (kpi.metric_values' denominator and
-- numerator: completed production changes by actual end, failed by outcome, back-out or a caused
-- incident; blank when the KPI was not computed for the period), and its SLA, availability,
-- resolution time and change failure rate (blank while the period is not complete for that
-- metric, e.g. pending a source read: a value so far would read as the period's figure), and the
-- open actions raised on it (the prepared view service_actions; all scorecards): a service with
-- one is listed even in a period without records.
-- Records without a service are one row, '(unknown)' as the KPIs name them, with has_service
-- false: it comes after the services, whatever its counts, and is no service of its own.
WITH local_period AS (
    SELECT
        CAST($period_start AS TIMESTAMP) AS local_start,
        CAST($period_start AS TIMESTAMP) + CASE $grain
            WHEN 'week' THEN INTERVAL 7 DAY
            WHEN 'quarter' THEN INTERVAL 3 MONTH
            ELSE INTERVAL 1 MONTH END AS local_end
),

period AS (
    SELECT
        local_start AT TIME ZONE $timezone AS starts,
        local_end AT TIME ZONE $timezone AS ends
    FROM local_period
),

-- Tickets under the spelling the KPIs count their service in (kpi.name_spellings: "EMAIL" is
-- the Email service), so one service has one row.
spelled_incidents AS (
    SELECT incidents.* REPLACE (coalesce(spellings.spelling, incidents.service) AS service)
    FROM core.incidents AS incidents
    LEFT JOIN kpi.name_spellings AS spellings
        ON spellings.kind = 'service' AND spellings.name = incidents.service
),

spelled_requests AS (
    SELECT requests.* REPLACE (coalesce(spellings.spelling, requests.service) AS service)
    FROM core.requests AS requests
    LEFT JOIN kpi.name_spellings AS spellings
        ON spellings.kind = 'service' AND spellings.name = requests.service
),

incidents AS (
    SELECT
        coalesce(service, '(unknown)') AS service,
        count(*) FILTER (WHERE opened_at >= starts AND opened_at < ends) AS incidents_opened,
        count(*) FILTER (WHERE opened_at >= starts AND opened_at < ends AND priority <= 2)
            AS major_incidents,
        count(*) FILTER (WHERE state NOT IN ('resolved', 'closed', 'canceled')) AS incidents_open
    FROM spelled_incidents, period
    GROUP BY ALL
),

requests AS (
    SELECT
        coalesce(service, '(unknown)') AS service,
        count(*) FILTER (WHERE opened_at >= starts AND opened_at < ends) AS requests_opened
    FROM spelled_requests, period
    GROUP BY ALL
),

kpis AS (
    SELECT
        dimension_value AS service,
        max(value) FILTER (WHERE metric_id = 'sla_attainment' AND period_complete)
            AS sla_attainment,
        max(value) FILTER (WHERE metric_id = 'service_availability' AND period_complete)
            AS availability,
        max(value) FILTER (WHERE metric_id = 'incident_resolution_time' AND period_complete)
            AS resolution_hours,
        max(value) FILTER (WHERE metric_id = 'change_failure_rate' AND period_complete)
            AS change_failure_rate,
        max(denominator) FILTER (WHERE metric_id = 'change_failure_rate') AS changes_completed,
        max(numerator) FILTER (WHERE metric_id = 'change_failure_rate') AS changes_failed
    FROM kpi.metric_values
    WHERE dimension = 'service' AND grain = $grain AND period_start = CAST($period_start AS DATE)
    GROUP BY dimension_value
),

-- Whether the change failure rate was computed for the period at all (its total row): a service
-- without changes then has none, rather than an unknown count.
change_rate_computed AS (
    SELECT count(*) > 0 AS computed
    FROM kpi.metric_values
    WHERE metric_id = 'change_failure_rate' AND dimension = 'all' AND grain = $grain
        AND period_start = CAST($period_start AS DATE)
),

open_actions AS (
    SELECT service, count(*) AS actions_open
    FROM service_actions
    GROUP BY ALL
),

services AS (
    SELECT service FROM incidents
    UNION SELECT service FROM requests
    UNION SELECT service FROM kpis
    UNION SELECT service FROM open_actions
)

SELECT
    service,
    service <> '(unknown)' AS has_service,
    coalesce(incidents_opened, 0) AS incidents_opened,
    coalesce(major_incidents, 0) AS major_incidents,
    coalesce(incidents_open, 0) AS incidents_open,
    CASE WHEN computed THEN CAST(coalesce(changes_completed, 0) AS BIGINT) END
        AS changes_completed,
    CASE WHEN computed THEN CAST(coalesce(changes_failed, 0) AS BIGINT) END AS changes_failed,
    coalesce(requests_opened, 0) AS requests_opened,
    sla_attainment, availability, resolution_hours, change_failure_rate,
    coalesce(actions_open, 0) AS actions_open
FROM services
LEFT JOIN incidents USING (service)
LEFT JOIN requests USING (service)
LEFT JOIN kpis USING (service)
LEFT JOIN open_actions USING (service)
CROSS JOIN change_rate_computed
-- Busiest first. The sum names the joined columns, which ORDER BY reads before the aliases above:
-- each is coalesced here too, or a service that never had a request (or an incident) would sum
-- to NULL and sort after every other.
ORDER BY
    has_service DESC,
    coalesce(incidents_opened, 0) + coalesce(changes_completed, 0) + coalesce(requests_opened, 0)
        DESC,
    service;
