-- A period is complete once it ended before the run's as-of (in the calendar time zone); only
-- complete periods are scored. The scorecard says why a metric has no score.
ALTER TABLE kpi.metric_values ADD COLUMN period_complete BOOLEAN;
ALTER TABLE scorecard.metric_status ADD COLUMN reason VARCHAR;
