"""A small hand-built warehouse behind the bi views: every number the view tests expect is here."""

from __future__ import annotations

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
INSERT INTO scorecard.metric_status (metric_id, grain, period_start, perspective, objective, owner,
    actual, threshold, target, stretch, direction, score, status, trend, escalate) VALUES
    ('change_failure_rate', 'month', '2025-11-01', 'internal', 'Stable change', 'cab',
     8, 20, 10, 5, 'lower', 80, 'green', NULL, false),
    ('change_failure_rate', 'month', '2025-12-01', 'internal', 'Stable change', 'cab',
     25, 20, 10, 5, 'lower', 40, 'red', 'deteriorating', true),
    ('incident_resolution_time', 'week', '2025-12-22', 'customer', 'Fast fixes', 'service desk',
     6, 8, 4, 2, 'lower', 62.5, 'amber', NULL, false),
    ('incident_resolution_time', 'week', '2025-12-29', 'customer', 'Fast fixes', 'service desk',
     3, 8, 4, 2, 'lower', 81.25, 'green', 'improving', false);
INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, dimension_value, value,
                               numerator, denominator, n, unit, period_complete) VALUES
    ('change_failure_rate', 'month', '2025-12-01', 'all', 'all', 25, 1, 4, 4, 'percent', true),
    ('change_failure_rate', 'month', '2026-01-01', 'all', 'all', 12.5, 1, 8, 8, 'percent', false),
    ('change_failure_rate', 'month', '2026-01-01', 'service', 'Email', 50, 1, 2, 2, 'percent',
     false),
    ('incident_resolution_time', 'week', '2026-01-05', 'all', 'all', 12, NULL, NULL, 1, 'hours',
     false),
    ('cloud_spend', 'month', '2026-01-01', 'all', 'all', 15, NULL, NULL, 2, 'currency', false);
INSERT INTO scorecard.objective_scores VALUES
    ('Stable change', 'internal', 'month', '2025-11-01', 80, 1.0, 'green'),
    ('Stable change', 'internal', 'month', '2025-12-01', 40, 1.0, 'red');
INSERT INTO scorecard.actions VALUES
    ('act-1', 'change_failure_rate', '2025-12-01', 'red', 'cab', '2026-01-31',
     '2026-01-02 02:00:00+00');
"""


def build_bi_fixture(warehouse: Warehouse) -> None:
    with warehouse.connect() as con:
        con.execute(FIXTURE_SQL)
