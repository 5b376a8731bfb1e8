-- Hand-built records for tests/test_kpi_metrics.py. Times are UTC; the tests run the KPIs in
-- Europe/Berlin (UTC+1 until 2024-03-31 01:00 UTC, then UTC+2), so some records change period.

INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, closed_at, priority,
    state, service, assignment_group, category, channel, reopen_count, reassignment_count, made_sla,
    caused_by_change_id, related_change_id, is_security) VALUES
-- I1: 2 h, January
('I1', 'servicenow', 'INC1', '2024-01-02 08:00+00', '2024-01-02 10:00+00', '2024-01-05 00:00+00', 1, 'closed', 'Email', 'Group A', 'Software', 'portal', 0, 0, true, NULL, NULL, false),
-- I2: 4 h, reopened, reassigned twice, missed SLA
('I2', 'servicenow', 'INC2', '2024-01-03 08:00+00', '2024-01-03 12:00+00', NULL, 3, 'resolved', 'Email', 'Group A', 'Software', 'phone', 1, 2, false, NULL, NULL, false),
-- I3: 24 h, resolved 2024-01-11 01:00 Berlin
('I3', 'servicenow', 'INC3', '2024-01-10 00:00+00', '2024-01-11 00:00+00', NULL, 2, 'resolved', 'VPN', 'Group B', 'Network', 'email', 0, 1, true, NULL, NULL, false),
-- I4: 6 h, a security incident by category
('I4', 'servicenow', 'INC4', '2024-01-20 00:00+00', '2024-01-20 06:00+00', NULL, 4, 'resolved', 'VPN', 'Group B', 'Security', 'chat', 0, 0, true, NULL, NULL, NULL),
-- I5: 3.5 h, resolved 2024-01-31 23:30 UTC = 2024-02-01 00:30 Berlin: February in Berlin, January in UTC
('I5', 'servicenow', 'INC5', '2024-01-31 20:00+00', '2024-01-31 23:30+00', NULL, 3, 'resolved', 'Email', 'Group A', 'Software', 'portal', 0, 0, true, NULL, NULL, false),
-- I6: canceled, never resolved
('I6', 'servicenow', 'INC6', '2024-01-05 00:00+00', NULL, '2024-01-06 00:00+00', 3, 'canceled', 'Email', 'Group A', 'Software', 'phone', 0, 0, NULL, NULL, NULL, false),
-- I7: closed without a resolution time, made SLA, channel unknown
('I7', 'servicenow', 'INC7', '2024-02-05 08:00+00', NULL, '2024-02-06 00:00+00', 3, 'closed', 'Email', 'Group A', 'Software', NULL, 0, 0, true, NULL, NULL, false),
-- I8: 72 h across the February/March boundary, reopened twice, caused by change C2
('I8', 'servicenow', 'INC8', '2024-02-28 12:00+00', '2024-03-02 12:00+00', NULL, 2, 'resolved', 'VPN', 'Group B', 'Network', 'portal', 2, 0, false, 'C2', NULL, false),
-- I9: over the DST change: 4 h in UTC (00:00 CET -> 05:00 CEST on the wall clock), Sunday 2024-03-31 in Berlin
('I9', 'servicenow', 'INC9', '2024-03-30 23:00+00', '2024-03-31 03:00+00', NULL, 1, 'resolved', 'Email', 'Group A', 'Software', 'phone', 0, 0, true, NULL, NULL, false),
-- I10: 1 h, security flag, cites an unknown causing change CX; C1 is only its related change (rfc)
('I10', 'servicenow', 'INC10', '2024-03-10 10:00+00', '2024-03-10 11:00+00', NULL, 4, 'resolved', 'Email', 'Group A', 'Software', 'portal', 0, 1, true, 'CX', 'C1', true);

INSERT INTO core.requests (request_id, source, number, opened_at, fulfilled_at, closed_at, state,
    service, assignment_group, channel) VALUES
('R1', 'servicenow', 'RITM1', '2024-01-08 09:00+00', '2024-01-09 09:00+00', '2024-01-09 09:00+00', 'closed_complete', 'Email', 'Group A', 'portal'),
('R2', 'servicenow', 'RITM2', '2024-01-15 10:00+00', '2024-01-15 12:00+00', NULL, 'delivered', 'Email', 'Group A', 'phone'),
('R3', 'servicenow', 'RITM3', '2024-01-20 00:00+00', NULL, '2024-01-21 00:00+00', 'cancelled', 'Email', 'Group A', 'portal');

INSERT INTO core.changes (change_id, source, number, type, state, outcome, actual_end, closed_at,
    service, assignment_group, backed_out, is_production, opened_at) VALUES
('C1', 'servicenow', 'CHG1', 'normal', 'closed', 'successful', '2024-01-10 09:00+00', '2024-01-11 00:00+00', 'Email', 'Group A', false, NULL, '2024-01-08 09:00+00'),
-- C2: successful by its outcome, but incident I8 names it as caused_by: failed
('C2', 'servicenow', 'CHG2', 'normal', 'closed', 'successful', '2024-01-10 15:00+00', NULL, 'VPN', 'Group B', false, NULL, '2024-01-10 09:00+00'),
('C3', 'servicenow', 'CHG3', 'normal', 'closed', 'unsuccessful', '2024-01-15 10:00+00', NULL, 'Email', 'Group A', false, NULL, '2024-01-14 10:00+00'),
-- C4: no actual end, so its closing places it; backed out: failed
('C4', 'servicenow', 'CHG4', 'emergency', 'closed', 'successful', NULL, '2024-01-20 10:00+00', 'VPN', 'Group B', true, NULL, '2024-01-19 10:00+00'),
('C5', 'servicenow', 'CHG5', 'normal', 'canceled', NULL, NULL, '2024-01-22 10:00+00', 'Email', 'Group A', NULL, NULL, '2024-01-21 10:00+00'),
-- C6: completed, outcome never recorded
('C6', 'servicenow', 'CHG6', 'standard', 'closed', NULL, '2024-01-25 10:00+00', NULL, 'Email', 'Group A', NULL, NULL, '2024-01-20 10:00+00'),
-- C7: not a production change
('C7', 'servicenow', 'CHG7', 'normal', 'closed', 'successful_issues', '2024-02-10 10:00+00', NULL, 'Email', 'Group A', false, false, '2024-02-09 10:00+00'),
-- C8: still open
('C8', 'servicenow', 'CHG8', 'normal', 'implement', NULL, NULL, NULL, 'Email', 'Group A', NULL, NULL, '2024-03-01 10:00+00'),
-- C9: ends 2024-01-31 23:30 UTC = 2024-02-01 in Berlin
('C9', 'servicenow', 'CHG9', 'normal', 'closed', 'unsuccessful', '2024-01-31 23:30+00', NULL, 'VPN', 'Group B', false, NULL, '2024-01-31 20:30+00');

INSERT INTO core.sla_records (sla_record_id, source, task_id, sla_name, stage, breached, start_time,
    end_time, service, priority) VALUES
('S1', 'jira', 'J1', 'Time to resolution', 'completed', false, '2024-01-14 00:00+00', '2024-01-15 00:00+00', 'Email', 3),
('S2', 'jira', 'J2', 'Time to resolution', 'completed', true, '2024-01-14 00:00+00', '2024-01-16 00:00+00', 'Email', 3),
('S3', 'jira', 'J3', 'Time to resolution', 'cancelled', false, '2024-01-14 00:00+00', '2024-01-17 00:00+00', 'Email', 3);

INSERT INTO core.outages (outage_id, source, service, type, begin_at, end_at) VALUES
('O1', 'servicenow', 'Email', 'outage', '2024-01-10 10:00+00', '2024-01-10 11:00+00'),
-- O2 overlaps O1 by 30 minutes: only its last 30 minutes count
('O2', 'servicenow', 'Email', 'outage', '2024-01-10 10:30+00', '2024-01-10 11:30+00'),
('O3', 'servicenow', 'Email', 'planned', '2024-01-20 00:00+00', '2024-01-20 02:00+00'),
-- O4: 23:00 Jan 31 -> 01:00 Feb 1 in Berlin: one hour in each month
('O4', 'servicenow', 'VPN', 'outage', '2024-01-31 22:00+00', '2024-02-01 00:00+00'),
('O5', 'servicenow', 'VPN', 'degradation', '2024-01-12 00:00+00', '2024-01-12 05:00+00');

INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ChargeCategory,
    BilledCost, EffectiveCost, ProviderName, ServiceCategory, ServiceName, Tags, cost_centre, service) VALUES
('K1', 'focus', '2024-01-01 00:00+00', '2024-01-02 00:00+00', 'Usage', 120, 100, 'AWS', 'Compute', 'EC2', NULL, 'CC-100', 'Email'),
('K2', 'focus', '2024-01-15 00:00+00', '2024-01-16 00:00+00', 'Usage', 50, 50, 'AWS', 'Storage', 'S3', '{"Owner": "team-x"}', NULL, NULL),
('K3', 'focus', '2024-01-20 00:00+00', '2024-01-21 00:00+00', 'Usage', 30, 30, 'Microsoft', 'Compute', 'VM', '{"env": "prod"}', NULL, NULL),
('K4', 'focus', '2024-01-25 00:00+00', '2024-01-26 00:00+00', 'Credit', -20, -20, 'AWS', 'Compute', 'EC2', NULL, 'CC-100', 'Email'),
('K5', 'focus', '2024-01-31 23:30+00', '2024-02-01 00:30+00', 'Usage', 40, 40, 'Microsoft', 'Compute', 'VM', NULL, NULL, NULL);

INSERT INTO core.survey_responses (response_id, source, survey, responded_at, score, scale_max, service) VALUES
('Q1', 'measures', 'csat', '2024-01-05 12:00+00', 5, 5, 'Email'),
('Q2', 'measures', 'csat', '2024-01-06 12:00+00', 4, 5, 'Email'),
('Q3', 'measures', 'csat', '2024-01-07 12:00+00', 3, 5, 'VPN'),
('Q4', 'measures', 'csat', '2024-01-08 12:00+00', 9, 10, 'VPN'),
('Q5', 'measures', 'csat', '2024-01-09 12:00+00', 8, 10, 'VPN'),
('Q6', 'measures', 'csat', '2024-01-10 12:00+00', 6, 5, 'VPN'),
('E1', 'measures', 'engagement', '2024-01-15 12:00+00', 4, 5, NULL),
('E2', 'measures', 'engagement', '2024-02-20 12:00+00', 7, 10, NULL),
('E3', 'measures', 'engagement', '2024-02-21 12:00+00', 3, 5, NULL);

INSERT INTO core.measures (metric_id, period_start, period_end, value, dimension, dimension_value, source) VALUES
('revenue', '2024-01-01', '2024-01-31', 2000000, 'all', 'all', 'measures'),
('it_spend', '2024-01-01', '2024-01-31', 50000, 'all', 'all', 'measures'),
('service_desk_cost', '2024-01-01', '2024-01-31', 1000, 'all', 'all', 'measures'),
('service_desk_cost', '2024-02-01', NULL, 600, 'all', 'all', 'measures'),
-- a breakdown row that inputs taking 'all' must ignore
('service_desk_cost', '2024-01-01', '2024-01-31', 999, 'service', 'Email', 'measures'),
('headcount_fte', '2024-01-01', '2024-01-31', 10, 'all', 'all', 'measures'),
('headcount_fte', '2024-02-01', '2024-02-29', 12, 'all', 'all', 'measures'),
('headcount_fte', '2024-03-01', '2024-03-31', 14, 'all', 'all', 'measures'),
('training_hours', '2024-01-01', '2024-01-31', 40, 'all', 'all', 'measures'),
('training_hours', '2024-02-01', '2024-02-29', 30, 'all', 'all', 'measures'),
('certifications', '2024-01-01', '2024-01-31', 2, 'all', 'all', 'measures'),
-- an exclusive end (first day of the next month) is read as the end of February
('certifications', '2024-02-01', '2024-03-01', 1, 'all', 'all', 'measures'),
('automation_coverage', '2024-01-01', '2024-01-31', 40, 'all', 'all', 'measures'),
('automation_coverage', '2024-02-01', '2024-02-29', 50, 'all', 'all', 'measures'),
-- a quarterly cohort and a monthly one
('staff_start', '2024-01-01', '2024-03-31', 20, 'all', 'all', 'measures'),
('staff_retained', '2024-01-01', '2024-03-31', 18, 'all', 'all', 'measures'),
('staff_start', '2024-02-01', '2024-02-29', 21, 'all', 'all', 'measures'),
('staff_retained', '2024-02-01', '2024-02-29', 21, 'all', 'all', 'measures'),
('project_cost', '2024-01-01', '2024-01-31', 100, 'initiative', 'INIT-1', 'measures'),
('project_cost', '2024-02-01', '2024-02-29', 50, 'initiative', 'INIT-1', 'measures'),
('project_benefit', '2024-02-01', '2024-02-29', 60, 'initiative', 'INIT-1', 'measures'),
('project_benefit', '2024-03-01', '2024-03-31', 200, 'initiative', 'INIT-1', 'measures'),
('project_cost', '2024-03-01', '2024-03-31', 100, 'initiative', 'INIT-2', 'measures'),
('project_benefit', '2024-03-01', '2024-03-31', 150, 'initiative', 'INIT-2', 'measures'),
('critical_vulns_remediated', '2024-01-01', '2024-01-31', 4, 'all', 'all', 'measures'),
('critical_vuln_remediation_days', '2024-01-01', '2024-01-31', 40, 'all', 'all', 'measures');
