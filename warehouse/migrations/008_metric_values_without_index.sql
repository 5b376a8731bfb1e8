-- kpi.metric_values is replaced whole by each KPI run, and its GROUP BY already makes every
-- (metric, grain, period, dimension, value) unique. A primary key would only add an in-memory
-- index as large as the table (millions of rows on an instance with thousands of services), so
-- the table is recreated without one, keeping its rows.
CREATE TABLE kpi.metric_values_008 (
    metric_id        VARCHAR NOT NULL,
    grain            VARCHAR NOT NULL,
    period_start     DATE NOT NULL,
    dimension        VARCHAR NOT NULL,
    dimension_value  VARCHAR NOT NULL,
    value            DOUBLE,
    numerator        DOUBLE,
    denominator      DOUBLE,
    n                BIGINT,
    unit             VARCHAR,
    coverage         VARCHAR,
    reason           VARCHAR,
    computed_at      TIMESTAMPTZ,
    period_complete  BOOLEAN
);
INSERT INTO kpi.metric_values_008 BY NAME SELECT * FROM kpi.metric_values;
DROP TABLE kpi.metric_values;
ALTER TABLE kpi.metric_values_008 RENAME TO metric_values;
