-- A lowest_ratio metric (service_availability_worst) shows one dimension value's figures: the
-- definition names the dimension (worst_of, as in the catalogue) and each value the dimension value
-- it took (lowest_of), so kpi.metric_evidence lists that value's records, not every value's.
ALTER TABLE kpi.metric_definitions ADD COLUMN worst_of VARCHAR;
ALTER TABLE kpi.metric_values ADD COLUMN lowest_of VARCHAR;
