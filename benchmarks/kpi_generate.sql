-- Synthetic history for benchmarks/kpi_compute.py at an enterprise instance's shape, over three
-- years (2022-2024): 1,000,000 incidents, 200,000 changes, 300,000 requests, 1,000,000 SLA records
-- and 10,000,000 FOCUS cost rows (with credits) at getvariable('scale') = 1, spread over
-- getvariable('services') services (CIs, default 5,000) and getvariable('groups') assignment
-- groups (default 500). Seeded: every value is a hash of the row number and getvariable('seed'),
-- so two runs with the same seed and scale give identical tables.
--
-- Tickets are skewed as on real instances: a service's or group's rank r is drawn from a bounded
-- Zipf-like law (density ~ r^-1.3), so with 5,000 services the busiest carries about a fifth of
-- all incidents, the top 100 about 80%, and the long tail a handful each over the three years.

-- Three years in seconds and in days, from 2022-01-01 UTC.
SET VARIABLE history_seconds = 94608000;
SET VARIABLE history_days = 1095;

CREATE OR REPLACE TEMP MACRO rows_at_scale(full_rows) AS
    CAST(greatest(1, round(full_rows * getvariable('scale'))) AS BIGINT);

-- A seeded hash of a row number and a purpose: the only source of "randomness" here.
CREATE OR REPLACE TEMP MACRO draw(i, purpose) AS hash(i, purpose, getvariable('seed'));

CREATE OR REPLACE TEMP MACRO moment(i, purpose) AS
    TIMESTAMPTZ '2022-01-01 00:00:00+00'
        + to_seconds(CAST(draw(i, purpose) % getvariable('history_seconds') AS BIGINT));

-- Rank 0 .. size-1 from a row hash: the inverse of the bounded power law's distribution function.
CREATE OR REPLACE TEMP MACRO skewed_rank(row_hash, size) AS least(
    size - 1,
    CAST(floor(pow(
        1 - (row_hash % 1000000000) / 1e9 * (1 - pow(size + 1, -0.3)),
        -1 / 0.3
    )) AS BIGINT) - 1
);

CREATE OR REPLACE TEMP MACRO service_name(row_hash) AS
    'Service ' || skewed_rank(row_hash, getvariable('services'));

CREATE OR REPLACE TEMP MACRO group_name(row_hash) AS
    'Group ' || skewed_rank(row_hash, getvariable('groups'));

INSERT INTO core.incidents
WITH numbered AS (
    SELECT i, moment(i, 'opened') AS opened_at, draw(i, 'draw') % 1000 AS draw
    FROM range(rows_at_scale(1000000)) AS t (i)
)
SELECT
    'bench:' || i AS incident_id,
    CASE WHEN i % 10 = 0 THEN 'jira' ELSE 'servicenow' END AS source,
    'INC' || i AS number,
    opened_at,
    CASE WHEN draw >= 40 THEN opened_at + to_seconds(CAST(draw(i, 'took') % 1209600 AS BIGINT)) END
        AS resolved_at,
    CASE WHEN draw >= 30 THEN opened_at + to_seconds(CAST(draw(i, 'took') % 1209600 AS BIGINT) + 259200) END
        AS closed_at,
    1 + CAST(draw(i, 'priority') % 5 AS INTEGER) AS priority,
    CASE WHEN draw < 10 THEN 'canceled' WHEN draw < 30 THEN 'in_progress' ELSE 'closed' END AS state,
    service_name(draw(i, 'service')) AS service,
    group_name(draw(i, 'group')) AS assignment_group,
    CASE WHEN draw % 50 = 0 THEN 'Security' ELSE 'Category ' || (draw(i, 'cat') % 30) END AS category,
    (['portal', 'phone', 'email', 'chat', NULL])[1 + CAST(draw(i, 'channel') % 5 AS INTEGER)] AS channel,
    -- One in forty of unknown reopen count, as from sources that do not keep one.
    CASE WHEN draw % 40 = 7 THEN NULL WHEN draw % 25 = 0 THEN 1 ELSE 0 END AS reopen_count,
    CAST(draw(i, 'reassign') % 3 AS INTEGER) AS reassignment_count,
    draw(i, 'sla') % 10 < 8 AS made_sla,
    CASE WHEN draw % 50 = 1 THEN 'chg:' || (draw(i, 'chg') % rows_at_scale(200000)) END
        AS caused_by_change_id,
    CASE WHEN draw % 50 = 2 THEN 'chg:' || (draw(i, 'rfc') % rows_at_scale(200000)) END
        AS related_change_id,
    NULL AS close_code,
    draw % 50 = 0 AS is_security,
    opened_at AS updated_at
FROM numbered;

INSERT INTO core.changes
WITH numbered AS (
    SELECT i, moment(i, 'end') AS ends_at, draw(i, 'draw') % 100 AS draw
    FROM range(rows_at_scale(200000)) AS t (i)
)
SELECT
    'chg:' || i,
    'servicenow',
    'CHG' || i,
    (['normal', 'standard', 'emergency'])[1 + CAST(draw % 3 AS INTEGER)],
    '3',
    CASE WHEN draw < 2 THEN 'canceled' ELSE 'closed' END,
    CASE WHEN draw < 2 THEN NULL WHEN draw < 8 THEN 'unsuccessful' WHEN draw < 12 THEN NULL
        ELSE 'successful' END,
    ends_at - INTERVAL 3 DAY,
    ends_at - INTERVAL 4 HOUR,
    ends_at,
    ends_at - INTERVAL 2 HOUR,
    CASE WHEN draw % 7 = 0 THEN NULL ELSE ends_at END,
    ends_at + INTERVAL 1 DAY,
    service_name(draw(i, 'service')),
    group_name(draw(i, 'group')),
    draw = 50,
    draw <> 99,
    ends_at
FROM numbered;

INSERT INTO core.requests
WITH numbered AS (
    SELECT i, moment(i, 'opened') AS opened_at
    FROM range(rows_at_scale(300000)) AS t (i)
)
SELECT
    'req:' || i, 'servicenow', 'RITM' || i, opened_at,
    opened_at + to_seconds(CAST(draw(i, 'took') % 604800 AS BIGINT)),
    opened_at + to_seconds(CAST(draw(i, 'took') % 604800 AS BIGINT) + 86400),
    'closed_complete',
    service_name(draw(i, 'service')),
    group_name(draw(i, 'group')),
    (['portal', 'phone', 'email'])[1 + CAST(draw(i, 'channel') % 3 AS INTEGER)],
    opened_at
FROM numbered;

-- SLA clocks on the ServiceNow incidents (Jira's tenth falls back to made_sla): a resolution
-- clock on each, plus a response clock on every tenth, which makes the 1,000,000 records.
-- A clock stops when its incident completes; 15% are breached, 5% still running.
INSERT INTO core.sla_records BY NAME
WITH numbered AS (
    SELECT
        j,
        CASE WHEN j % 10 = 0 THEN j + 1 ELSE j END AS incident_number,
        CASE WHEN j % 10 = 0 THEN 'Response' ELSE 'Resolution' END AS sla_name,
        draw(j, 'clock') % 100 AS clock_draw
    FROM range(rows_at_scale(1000000)) AS t (j)
)
SELECT
    'sla:' || j AS sla_record_id,
    i.source,
    i.incident_id AS task_id,
    i.number AS task_number,
    'incident' AS task_type,
    n.sla_name,
    CASE WHEN n.clock_draw < 5 OR i.closed_at IS NULL THEN 'in_progress'
        WHEN n.clock_draw < 20 THEN 'breached' ELSE 'completed' END AS stage,
    -- One stopped clock in a hundred does not say whether it breached.
    CASE WHEN n.clock_draw = 99 THEN NULL ELSE n.clock_draw BETWEEN 5 AND 19 END AS breached,
    i.opened_at AS start_time,
    CASE WHEN n.clock_draw >= 5 THEN coalesce(i.resolved_at, i.closed_at) END AS end_time,
    i.opened_at + INTERVAL 8 HOUR AS breach_time,
    0.0 AS pause_duration_seconds,
    i.service,
    i.priority,
    i.updated_at
FROM numbered AS n
JOIN core.incidents AS i ON i.incident_id = 'bench:' || n.incident_number;

-- Outage records, skewed like the tickets: the busy services have most of them.
INSERT INTO core.outages
SELECT
    'out:' || i, 'servicenow', 'OUT' || i, service_name(draw(i, 'service')),
    CASE WHEN i % 4 = 0 THEN 'planned' ELSE 'outage' END,
    moment(i, 'begin'),
    moment(i, 'begin') + to_seconds(CAST(draw(i, 'len') % 14400 AS BIGINT)),
    NULL
FROM range(rows_at_scale(3000)) AS t (i);

-- Daily cost rows; 60% carry a cost centre and a service allocation tag (the same skewed services
-- as the tickets), another 10% only an owner tag. 2% are credits (negative): half of them
-- allocated, half not, so allocation coverage must leave them out of both sides.
INSERT INTO core.costs BY NAME
WITH numbered AS (
    SELECT
        i,
        i % 10 < 6 AS tagged,
        i % 100 IN (0, 7) AS credit,
        TIMESTAMPTZ '2022-01-01 00:00:00+00'
            + to_days(CAST(i % getvariable('history_days') AS INTEGER)) AS charge_start
    FROM range(rows_at_scale(10000000)) AS t (i)
)
SELECT
    'cost:' || i AS cost_id,
    'focus' AS source,
    'bench-account' AS BillingAccountId,
    'USD' AS BillingCurrency,
    date_trunc('month', charge_start) AS BillingPeriodStart,
    date_trunc('month', charge_start) + INTERVAL 1 MONTH AS BillingPeriodEnd,
    charge_start AS ChargePeriodStart,
    charge_start + INTERVAL 1 DAY AS ChargePeriodEnd,
    CASE WHEN credit THEN 'Credit' ELSE 'Usage' END AS ChargeCategory,
    CAST(CASE WHEN credit THEN -5 ELSE (draw(i, 'billed') % 10000) / 100.0 END AS DECIMAL(38, 12))
        AS BilledCost,
    CAST(CASE WHEN credit THEN -5 ELSE (draw(i, 'billed') % 9000) / 100.0 END AS DECIMAL(38, 12))
        AS EffectiveCost,
    CAST(CASE WHEN credit THEN 0 ELSE (draw(i, 'billed') % 10000) / 100.0 END AS DECIMAL(38, 12))
        AS ListCost,
    CAST(CASE WHEN credit THEN 0 ELSE (draw(i, 'billed') % 10000) / 100.0 END AS DECIMAL(38, 12))
        AS ContractedCost,
    (['AWS', 'Microsoft', 'Google'])[1 + CAST(i % 3 AS INTEGER)] AS ProviderName,
    (['AWS', 'Microsoft', 'Google'])[1 + CAST(i % 3 AS INTEGER)] AS PublisherName,
    (['AWS', 'Microsoft', 'Google'])[1 + CAST(i % 3 AS INTEGER)] AS InvoiceIssuerName,
    'Category ' || (i % 8) AS ServiceCategory,
    'Cloud service ' || (i % 40) AS ServiceName,
    CASE WHEN i % 10 = 8 THEN '{"owner": "team"}' END AS Tags,
    CASE WHEN tagged THEN 'CC-' || (i % 7) END AS cost_centre,
    CASE WHEN tagged THEN service_name(draw(i, 'service')) END AS service
FROM numbered;

INSERT INTO core.survey_responses (response_id, source, survey, responded_at, score, scale_max)
SELECT
    'resp:' || i, 'measures', CASE WHEN i % 5 = 0 THEN 'engagement' ELSE 'csat' END,
    moment(i, 'responded'), 1 + draw(i, 'score') % 5, 5
FROM range(rows_at_scale(75000)) AS t (i);

INSERT INTO core.measures (metric_id, period_start, period_end, value, source)
SELECT metric_id, month::DATE, (month + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE, value, 'measures'
FROM (
    SELECT unnest(generate_series(TIMESTAMP '2022-01-01', TIMESTAMP '2024-12-01', INTERVAL 1 MONTH))
        AS month
) AS months
CROSS JOIN (
    VALUES ('revenue', 5000000.0), ('it_spend', 150000.0), ('service_desk_cost', 80000.0),
        ('headcount_fte', 120.0), ('training_hours', 400.0), ('certifications', 3.0),
        ('automation_coverage', 40.0), ('staff_start', 120.0), ('staff_retained', 118.0),
        ('critical_vulns_remediated', 12.0), ('critical_vuln_remediation_days', 90.0)
) AS inputs (metric_id, value);
