-- KPI macros and views now come from transforms/metrics/ on each run (the evidence views included,
-- so the published file keeps them); drop the copies older files got from migration 002, so no
-- stale definition outlives a release. Facts remember how many days a manual input covers, for
-- metrics whose inputs must cover a whole period.
DROP VIEW IF EXISTS kpi.cost_evidence;
DROP VIEW IF EXISTS kpi.metric_evidence;
DROP VIEW IF EXISTS kpi.completed_incidents;
DROP VIEW IF EXISTS kpi.measure_inputs;
DROP MACRO IF EXISTS kpi.cost_group;
DROP MACRO IF EXISTS kpi.cost_is_allocated;
DROP MACRO IF EXISTS kpi.span_weight;
DROP MACRO IF EXISTS kpi.fitting_period;
DROP MACRO IF EXISTS kpi.period_after;
DROP MACRO IF EXISTS kpi.period_of;
ALTER TABLE kpi.metric_facts ADD COLUMN covered_days INTEGER;
