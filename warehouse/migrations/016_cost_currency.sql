-- The currency a KPI run's cost metrics sum (transforms/metrics/_cost_currency.sql), so the
-- published cost evidence leaves out the same lines the values did. NULL: no cost line had one.
ALTER TABLE kpi.metric_runs ADD COLUMN cost_currency VARCHAR;
