"""A small hand-built warehouse behind the bi views: every number the view tests expect is here."""

from __future__ import annotations

from datetime import UTC, datetime

from transforms.kpis import compute_metrics
from warehouse import Warehouse

FIXTURE_SQL = """
INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, priority, state,
                            service, updated_at) VALUES
    ('servicenow:i1', 'servicenow', 'INC0001', '2026-01-05 08:00:00+00', '2026-01-05 20:00:00+00',
     2, 'resolved', 'Email', '2026-01-05 20:00:00+00'),
    ('jira:i2', 'jira', 'OPS-7', '2026-01-06 10:00:00+00', NULL, 3, 'in_progress', 'Payroll',
     '2026-01-06 10:00:00+00');
INSERT INTO core.changes (change_id, source, number, type, state, outcome, opened_at, service,
                          updated_at) VALUES
    ('servicenow:c1', 'servicenow', 'CHG0001', 'normal', 'closed', 'successful',
     '2026-01-02 09:00:00+00', 'Email', '2026-01-03 09:00:00+00');
INSERT INTO core.requests (request_id, source, number, opened_at, fulfilled_at, state, service,
                           channel, updated_at) VALUES
    ('servicenow:r1', 'servicenow', 'RITM0001', '2026-01-06 09:00:00+00',
     '2026-01-07 09:00:00+00', 'closed', 'Laptops', 'portal', '2026-01-07 09:00:00+00');
INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ProviderName,
                        BillingCurrency, BilledCost, EffectiveCost, service) VALUES
    ('aws_ce:1', 'aws_ce', '2026-01-01 00:00:00+00', '2026-01-02 00:00:00+00', 'AWS', 'USD',
     11.0, 10.5, 'Email'),
    ('azure_cost:1', 'azure_cost', '2026-01-01 00:00:00+00', '2026-01-02 00:00:00+00',
     'Microsoft', 'USD', 4.5, 4.5, 'Payroll');
INSERT INTO kpi.metric_definitions (metric_id, facts_id, name, perspective, unit, direction,
                                    statistic, scale, min_n, dimensions) VALUES
    ('change_failure_rate', 'changes', 'Change failure rate', 'internal', 'percent', 'lower',
     'ratio', 100, 1, ['service']),
    ('incident_resolution_time', 'incidents', 'Incident resolution time', 'customer', 'hours',
     'lower', 'median', 1, 1, ['service']);
-- Two scorecards: 'it' (the main one) and the 'service_desk' pilot, which scored
-- incident_resolution_time with its own goals only up to the week of 22 Dec, so its "current"
-- week is a week earlier than the main scorecard's.
INSERT INTO scorecard.metric_status (scorecard_id, metric_id, grain, period_start, perspective,
    objective, owner, actual, threshold, target, stretch, weight, direction, score, status, trend,
    escalate, commentary, decision, missing_commentary) VALUES
    ('it', 'change_failure_rate', 'month', '2025-11-01', 'internal', 'Stable change', 'cab',
     8, 20, 10, 5, 1, 'lower', 80, 'green', NULL, false, NULL, NULL, false),
    ('it', 'change_failure_rate', 'month', '2025-12-01', 'internal', 'Stable change', 'cab',
     25, 20, 10, 5, 1, 'lower', 40, 'red', 'deteriorating', true, NULL, NULL, true),
    ('it', 'incident_resolution_time', 'week', '2025-12-22', 'customer', 'Fast fixes',
     'service desk', 6, 8, 4, 2, 1, 'lower', 62.5, 'amber', NULL, false, NULL, NULL, false),
    ('it', 'incident_resolution_time', 'week', '2025-12-29', 'customer', 'Fast fixes',
     'service desk', 3, 8, 4, 2, 1, 'lower', 81.25, 'green', 'improving', false, NULL, NULL,
     false),
    ('service_desk', 'incident_resolution_time', 'week', '2025-12-15', 'customer', 'Fast fixes',
     'desk lead', 5, 6, 3, 1.5, 1, 'lower', 44.4, 'amber', NULL, false, NULL, NULL, false),
    ('service_desk', 'incident_resolution_time', 'week', '2025-12-22', 'customer', 'Fast fixes',
     'desk lead', 6, 6, 3, 1.5, 1, 'lower', 33.3, 'amber', 'deteriorating', true,
     'Two agents on leave', NULL, false);
-- The goal versions the scoring read: change_failure_rate's goals were tightened from January 2026,
-- after its last scored period (December), so the running January is measured against the new ones.
INSERT INTO scorecard.metric_goals (scorecard_id, metric_id, grain, perspective, objective, owner,
    threshold, target, stretch, direction, weight, critical, goals_from, goals_to) VALUES
    ('it', 'change_failure_rate', 'month', 'internal', 'Stable change', 'cab', 20, 10, 5, 'lower',
     1, false, NULL, '2026-01-01'),
    ('it', 'change_failure_rate', 'month', 'internal', 'Stable change', 'cab', 15, 8, 1, 'lower',
     1, false, '2026-01-01', NULL),
    ('it', 'incident_resolution_time', 'week', 'customer', 'Fast fixes', 'service desk', 8, 4, 2,
     'lower', 1, false, NULL, NULL),
    ('service_desk', 'incident_resolution_time', 'week', 'customer', 'Fast fixes', 'desk lead', 6,
     3, 1.5, 'lower', 1, false, NULL, NULL);
INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, dimension_value, value,
                               numerator, denominator, n, unit, period_complete) VALUES
    ('change_failure_rate', 'month', '2025-12-01', 'all', 'all', 25, 1, 4, 4, 'percent', true),
    ('change_failure_rate', 'month', '2026-01-01', 'all', 'all', 12.5, 1, 8, 8, 'percent', false),
    ('change_failure_rate', 'month', '2026-01-01', 'service', 'Email', 50, 1, 2, 2, 'percent',
     false),
    ('incident_resolution_time', 'week', '2026-01-05', 'all', 'all', 12, NULL, NULL, 1, 'hours',
     false),
    ('cloud_spend', 'month', '2026-01-01', 'all', 'all', 15, NULL, NULL, 2, 'currency', false);
-- The last KPI run (5 Jan) moved November's change failure rate (a change closed late was
-- failed) and left December's resolution time week without enough incidents.
INSERT INTO kpi.metric_restatements VALUES
    ('change_failure_rate', 'month', '2025-11-01', 'percent', 8, 12.5, NULL,
     '2026-01-04 02:00:00+00', '2026-01-05 02:00:00+00'),
    ('incident_resolution_time', 'week', '2025-12-22', 'hours', 6, NULL,
     'too little data: n=0 below the minimum of 1', '2026-01-04 02:00:00+00',
     '2026-01-05 02:00:00+00');
INSERT INTO scorecard.objective_scores (scorecard_id, objective, perspective, grain, period_start,
                                        score, coverage, status) VALUES
    ('it', 'Stable change', 'internal', 'month', '2025-11-01', 80, 1.0, 'green'),
    ('it', 'Stable change', 'internal', 'month', '2025-12-01', 40, 1.0, 'red'),
    ('service_desk', 'Fast fixes', 'customer', 'week', '2025-12-22', 33.3, 1.0, 'amber');
-- Two open actions (one per scorecard), one resolved (its trigger cleared) and one closed (an
-- owner's decision).
INSERT INTO scorecard.actions (action_id, scorecard_id, metric_id, grain, dimension,
    dimension_value, owner, trigger, opened_period, due_date, status, resolved_period, closed_at,
    note, opened_at, updated_at) VALUES
    ('it:change_failure_rate:all:red:2025-12-01', 'it', 'change_failure_rate', 'month', 'all',
     'all', 'cab', 'red', '2025-12-01', '2026-01-31', 'open', NULL, NULL, NULL,
     '2026-01-02 02:00:00+00', '2026-01-02 02:00:00+00'),
    ('it:change_failure_rate:all:red:2025-10-01', 'it', 'change_failure_rate', 'month', 'all',
     'all', 'cab', 'red', '2025-10-01', '2025-11-30', 'closed', NULL, '2025-12-02 02:00:00+00',
     'Freeze risky changes', '2025-11-02 02:00:00+00', '2025-12-02 02:00:00+00'),
    ('it:incident_resolution_time:all:amber_two_periods:2025-12-22', 'it',
     'incident_resolution_time', 'week', 'all', 'all', 'service desk', 'amber_two_periods',
     '2025-12-22', '2026-01-05', 'resolved', '2025-12-29', NULL, NULL,
     '2025-12-29 02:00:00+00', '2026-01-05 02:00:00+00'),
    ('service_desk:incident_resolution_time:all:amber_two_periods:2025-12-22', 'service_desk',
     'incident_resolution_time', 'week', 'all', 'all', 'desk lead', 'amber_two_periods',
     '2025-12-22', '2026-01-05', 'open', NULL, NULL, NULL, '2025-12-29 02:00:00+00',
     '2025-12-29 02:00:00+00');
-- The red December without commentary, as transforms/scorecard/commentary_flags.sql records it.
INSERT INTO scorecard.data_quality (source, table_name, record_key, field, problem, value,
                                    detected_at) VALUES
    ('scorecard', 'metric_status', 'it/change_failure_rate/2025-12-01', 'commentary',
     'red with no commentary for its period', 'cab', '2026-01-02 02:00:00+00');
"""


def build_bi_fixture(warehouse: Warehouse) -> None:
    with warehouse.connect() as con:
        con.execute(FIXTURE_SQL)


# One service typed "email" (the earliest record, 5 Jan), "Email" and "EMAIL", and one group typed
# "service desk" (5 Jan), "Service Desk" and "SERVICE DESK", across every kind of record.
SPELLINGS_SQL = """
INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, priority, state,
                            service, assignment_group, updated_at) VALUES
    ('jira:1', 'jira', 'OPS-1', '2026-01-05 08:00:00+00', '2026-01-05 10:00:00+00', 3,
     'resolved', 'email', 'service desk', '2026-01-05 10:00:00+00'),
    ('servicenow:i2', 'servicenow', 'INC0002', '2026-01-06 08:00:00+00',
     '2026-01-06 12:00:00+00', 3, 'resolved', 'Email', 'Service Desk', '2026-01-06 12:00:00+00');
INSERT INTO core.changes (change_id, source, number, type, state, outcome, opened_at, actual_end,
                          service, assignment_group, updated_at) VALUES
    ('servicenow:c1', 'servicenow', 'CHG0001', 'normal', 'closed', 'successful',
     '2026-01-07 09:00:00+00', '2026-01-07 11:00:00+00', 'EMAIL', 'SERVICE DESK',
     '2026-01-07 11:00:00+00');
INSERT INTO core.requests (request_id, source, number, opened_at, fulfilled_at, state, service,
                           assignment_group, updated_at) VALUES
    ('servicenow:r1', 'servicenow', 'RITM0001', '2026-01-08 09:00:00+00',
     '2026-01-08 10:00:00+00', 'closed', 'EMAIL', 'Service Desk', '2026-01-08 10:00:00+00');
INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ProviderName,
                        ChargeCategory, BillingCurrency, BilledCost, EffectiveCost, service) VALUES
    ('aws_ce:1', 'aws_ce', '2026-01-09 00:00:00+00', '2026-01-10 00:00:00+00', 'AWS', 'Usage',
     'USD', 10, 10, 'Email'),
    ('aws_ce:2', 'aws_ce', '2026-01-10 00:00:00+00', '2026-01-11 00:00:00+00', 'AWS', 'Usage',
     'USD', 20, 20, 'EMAIL');
"""


def build_spellings_fixture(warehouse: Warehouse) -> None:
    """SPELLINGS_SQL with the KPIs computed on it (as of 1 Feb 2026, a record is enough)."""
    with warehouse.connect() as con:
        con.execute(SPELLINGS_SQL)
        compute_metrics(con, min_n=1, as_of=datetime(2026, 2, 1, 12, 0, tzinfo=UTC))
