-- The canonical model of ../DESIGN.md: every source lands in raw.*, is staged into core.*,
-- measured into kpi.* and judged in scorecard.*. Timestamps are TIMESTAMPTZ in UTC.

CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS kpi;
CREATE SCHEMA IF NOT EXISTS scorecard;

-- Incremental state lives beside the data it describes and moves in the same transaction.
CREATE TABLE meta.cursors (
    source        VARCHAR NOT NULL,
    stream        VARCHAR NOT NULL,
    cursor_value  VARCHAR,
    records       BIGINT NOT NULL DEFAULT 0,
    updated_at    TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    PRIMARY KEY (source, stream)
);

-- Files already loaded (FOCUS exports, spreadsheets): same hash = skip, new hash = replace rows.
CREATE TABLE meta.loaded_files (
    source        VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    rows_loaded   BIGINT NOT NULL,
    loaded_at     TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    PRIMARY KEY (source, path)
);

CREATE TABLE core.incidents (
    incident_id          VARCHAR PRIMARY KEY,
    source               VARCHAR NOT NULL,
    number               VARCHAR NOT NULL,
    opened_at            TIMESTAMPTZ,
    resolved_at          TIMESTAMPTZ,
    closed_at            TIMESTAMPTZ,
    priority             INTEGER,
    state                VARCHAR,
    service              VARCHAR,
    assignment_group     VARCHAR,
    category             VARCHAR,
    channel              VARCHAR,
    reopen_count         INTEGER,
    reassignment_count   INTEGER,
    made_sla             BOOLEAN,
    caused_by_change_id  VARCHAR,
    related_change_id    VARCHAR,
    close_code           VARCHAR,
    is_security          BOOLEAN,
    updated_at           TIMESTAMPTZ
);

CREATE TABLE core.changes (
    change_id         VARCHAR PRIMARY KEY,
    source            VARCHAR NOT NULL,
    number            VARCHAR NOT NULL,
    type              VARCHAR,
    risk              VARCHAR,
    state             VARCHAR,
    outcome           VARCHAR,
    opened_at         TIMESTAMPTZ,
    planned_start     TIMESTAMPTZ,
    planned_end       TIMESTAMPTZ,
    actual_start      TIMESTAMPTZ,
    actual_end        TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    service           VARCHAR,
    assignment_group  VARCHAR,
    backed_out        BOOLEAN,
    is_production     BOOLEAN,
    updated_at        TIMESTAMPTZ
);

CREATE TABLE core.requests (
    request_id        VARCHAR PRIMARY KEY,
    source            VARCHAR NOT NULL,
    number            VARCHAR NOT NULL,
    opened_at         TIMESTAMPTZ,
    fulfilled_at      TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    state             VARCHAR,
    service           VARCHAR,
    assignment_group  VARCHAR,
    channel           VARCHAR,
    updated_at        TIMESTAMPTZ
);

-- One row per SLA clock on a task (ServiceNow task_sla, a JSM cycle, a Freshservice due-by).
CREATE TABLE core.sla_records (
    sla_record_id           VARCHAR PRIMARY KEY,
    source                  VARCHAR NOT NULL,
    task_id                 VARCHAR,
    task_number             VARCHAR,
    task_type               VARCHAR,
    sla_name                VARCHAR,
    stage                   VARCHAR,
    breached                BOOLEAN,
    start_time              TIMESTAMPTZ,
    end_time                TIMESTAMPTZ,
    breach_time             TIMESTAMPTZ,
    pause_duration_seconds  DOUBLE,
    service                 VARCHAR,
    priority                INTEGER,
    updated_at              TIMESTAMPTZ
);

CREATE TABLE core.outages (
    outage_id   VARCHAR PRIMARY KEY,
    source      VARCHAR NOT NULL,
    number      VARCHAR,
    service     VARCHAR,
    type        VARCHAR,
    begin_at    TIMESTAMPTZ,
    end_at      TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ
);

-- FOCUS column names, so any FOCUS-literate reader knows them; allocation columns appended.
CREATE TABLE core.costs (
    cost_id              VARCHAR PRIMARY KEY,
    source               VARCHAR NOT NULL,
    source_file          VARCHAR,
    BillingAccountId     VARCHAR,
    BillingAccountName   VARCHAR,
    BillingCurrency      VARCHAR,
    BillingPeriodStart   TIMESTAMPTZ,
    BillingPeriodEnd     TIMESTAMPTZ,
    ChargePeriodStart    TIMESTAMPTZ,
    ChargePeriodEnd      TIMESTAMPTZ,
    ChargeCategory       VARCHAR,
    ChargeClass          VARCHAR,
    ChargeDescription    VARCHAR,
    BilledCost           DECIMAL(38, 12),
    EffectiveCost        DECIMAL(38, 12),
    ListCost             DECIMAL(38, 12),
    ContractedCost       DECIMAL(38, 12),
    ProviderName         VARCHAR,
    PublisherName        VARCHAR,
    InvoiceIssuerName    VARCHAR,
    ServiceCategory      VARCHAR,
    ServiceName          VARCHAR,
    SubAccountId         VARCHAR,
    SubAccountName       VARCHAR,
    RegionId             VARCHAR,
    RegionName           VARCHAR,
    ResourceId           VARCHAR,
    ResourceName         VARCHAR,
    ResourceType         VARCHAR,
    SkuId                VARCHAR,
    PricingQuantity      DOUBLE,
    PricingUnit          VARCHAR,
    ConsumedQuantity     DOUBLE,
    ConsumedUnit         VARCHAR,
    Tags                 JSON,
    cost_centre          VARCHAR,
    service              VARCHAR,
    application          VARCHAR,
    loaded_at            TIMESTAMPTZ
);

-- Manual inputs that no API holds (revenue, budget, headcount, training hours ...).
CREATE TABLE core.measures (
    metric_id        VARCHAR NOT NULL,
    period_start     DATE NOT NULL,
    period_end       DATE,
    value            DOUBLE NOT NULL,
    unit             VARCHAR,
    dimension        VARCHAR NOT NULL DEFAULT 'all',
    dimension_value  VARCHAR NOT NULL DEFAULT 'all',
    source           VARCHAR NOT NULL,
    source_file      VARCHAR,
    source_row       INTEGER,
    loaded_at        TIMESTAMPTZ,
    PRIMARY KEY (metric_id, period_start, dimension, dimension_value)
);

CREATE TABLE core.survey_responses (
    response_id    VARCHAR PRIMARY KEY,
    source         VARCHAR NOT NULL,
    survey         VARCHAR NOT NULL,
    responded_at   TIMESTAMPTZ NOT NULL,
    score          DOUBLE NOT NULL,
    scale_max      DOUBLE NOT NULL,
    service        VARCHAR,
    ticket_number  VARCHAR,
    source_file    VARCHAR,
    source_row     INTEGER,
    loaded_at      TIMESTAMPTZ
);

CREATE TABLE kpi.metric_values (
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
    PRIMARY KEY (metric_id, grain, period_start, dimension, dimension_value)
);

CREATE TABLE scorecard.metric_status (
    metric_id     VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period_start  DATE NOT NULL,
    perspective   VARCHAR,
    objective     VARCHAR,
    owner         VARCHAR,
    actual        DOUBLE,
    baseline      DOUBLE,
    threshold     DOUBLE,
    target        DOUBLE,
    stretch       DOUBLE,
    direction     VARCHAR,
    score         DOUBLE,
    status        VARCHAR,
    trend         VARCHAR,
    signal        VARCHAR,
    escalate      BOOLEAN,
    PRIMARY KEY (metric_id, grain, period_start)
);

CREATE TABLE scorecard.objective_scores (
    objective     VARCHAR NOT NULL,
    perspective   VARCHAR,
    grain         VARCHAR NOT NULL,
    period_start  DATE NOT NULL,
    score         DOUBLE,
    coverage      DOUBLE,
    status        VARCHAR,
    PRIMARY KEY (objective, grain, period_start)
);

CREATE TABLE scorecard.perspective_scores (
    perspective   VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period_start  DATE NOT NULL,
    score         DOUBLE,
    coverage      DOUBLE,
    status        VARCHAR,
    PRIMARY KEY (perspective, grain, period_start)
);

CREATE TABLE scorecard.initiatives (
    initiative_id  VARCHAR PRIMARY KEY,
    name           VARCHAR,
    objective      VARCHAR,
    owner          VARCHAR,
    start_date     DATE,
    end_date       DATE,
    status         VARCHAR
);

CREATE TABLE scorecard.actions (
    action_id     VARCHAR PRIMARY KEY,
    metric_id     VARCHAR,
    period_start  DATE,
    trigger       VARCHAR,
    owner         VARCHAR,
    due_date      DATE,
    opened_at     TIMESTAMPTZ
);

-- Bad input is counted here, per record and field, instead of crashing a run or vanishing.
CREATE TABLE scorecard.data_quality (
    source       VARCHAR NOT NULL,
    table_name   VARCHAR NOT NULL,
    record_key   VARCHAR,
    field        VARCHAR,
    problem      VARCHAR NOT NULL,
    value        VARCHAR,
    detected_at  TIMESTAMPTZ
);
