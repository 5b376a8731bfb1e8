-- The values of complete periods that the last KPI run changed: late data (a source read again,
-- restated cloud costs, a ticket closed late) moves a period leaders have already seen scored,
-- and the scorecard says so instead of changing the number silently. Replaced whole by each run
-- (transforms/metrics/_restatements.sql), like kpi.metric_values; dimension 'all' only.
CREATE TABLE kpi.metric_restatements (
    metric_id             VARCHAR NOT NULL,
    grain                 VARCHAR NOT NULL,
    period_start          DATE NOT NULL,
    unit                  VARCHAR,
    previous_value        DOUBLE,
    value                 DOUBLE,
    reason                VARCHAR,
    previous_computed_at  TIMESTAMPTZ NOT NULL,
    computed_at           TIMESTAMPTZ NOT NULL
);
