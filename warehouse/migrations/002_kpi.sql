-- KPI tables: the run's settings, the effective definitions and the facts behind every
-- kpi.metric_values row, stored once per metric and record (not once per grain and dimension).
-- Cost rows are the exception: tens of millions of line items are stored as one fact per local day
-- and cost dimensions (a "cost group", with its record_count). The macros and views that read
-- these tables are KPI meaning, not schema: transforms/metrics/_macros.sql and _evidence.sql
-- replace them on each run.

-- The settings of the run that produced kpi.metric_values (one row, replaced with the values).
CREATE TABLE kpi.metric_runs (
    computed_at  TIMESTAMPTZ NOT NULL,
    as_of        TIMESTAMPTZ NOT NULL,
    timezone     VARCHAR NOT NULL,
    week_start   VARCHAR NOT NULL,
    metrics      INTEGER NOT NULL,
    value_rows   BIGINT NOT NULL,
    seconds      DOUBLE
);

-- The effective definition of each computed metric (catalogue entry plus scorecard.yaml overrides).
CREATE TABLE kpi.metric_definitions (
    metric_id    VARCHAR PRIMARY KEY,
    facts_id     VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    perspective  VARCHAR,
    unit         VARCHAR,
    direction    VARCHAR,
    statistic    VARCHAR NOT NULL,
    scale        DOUBLE NOT NULL,
    min_n        INTEGER NOT NULL,
    dimensions   VARCHAR[] NOT NULL,
    params       JSON
);

-- One row per record a metric considered: its completion day in the scorecard time zone, the
-- period it falls in at each grain (NULL where a manual input does not fit that grain), its
-- dimensions, its contribution (num, den, x) and its role. Excluded records stay, with a note.
CREATE TABLE kpi.metric_facts (
    facts_id          VARCHAR NOT NULL,
    record_table      VARCHAR NOT NULL,
    record_id         VARCHAR NOT NULL,
    completed_at      TIMESTAMPTZ,
    local_day         DATE,
    week_period       DATE,
    month_period      DATE,
    quarter_period    DATE,
    week_weight       DOUBLE,
    month_weight      DOUBLE,
    quarter_weight    DOUBLE,
    service           VARCHAR,
    assignment_group  VARCHAR,
    priority          VARCHAR,
    source            VARCHAR,
    provider          VARCHAR,
    service_category  VARCHAR,
    initiative        VARCHAR,
    num               DOUBLE,
    den               DOUBLE,
    x                 DOUBLE,
    in_numerator      BOOLEAN NOT NULL,
    in_denominator    BOOLEAN NOT NULL,
    counts_in_n       BOOLEAN NOT NULL,
    record_count      BIGINT NOT NULL,
    note              VARCHAR
);
