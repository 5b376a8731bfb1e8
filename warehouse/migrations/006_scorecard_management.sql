-- The scorecard as a management system: several scorecards from one config (every scorecard
-- table keyed by scorecard_id), commentary and decisions beside each figure, initiatives with
-- their progress, and an action log that outlives every run.
-- Status, scores and initiatives are recomputed on each run, so their tables are recreated empty;
-- the action log is the one table a run only ever adds to and updates.
DROP TABLE scorecard.metric_status;
CREATE TABLE scorecard.metric_status (
    scorecard_id         VARCHAR NOT NULL,
    metric_id            VARCHAR NOT NULL,
    grain                VARCHAR NOT NULL,
    period_start         DATE NOT NULL,
    perspective          VARCHAR,
    objective            VARCHAR,
    owner                VARCHAR,
    actual               DOUBLE,
    baseline             DOUBLE,
    threshold            DOUBLE,
    target               DOUBLE,
    stretch              DOUBLE,
    weight               DOUBLE,
    goals_from           DATE,
    direction            VARCHAR,
    score                DOUBLE,
    status               VARCHAR,
    reason               VARCHAR,
    trend                VARCHAR,
    signal               VARCHAR,
    escalate             BOOLEAN,
    commentary           VARCHAR,
    decision             VARCHAR,
    missing_commentary   BOOLEAN,
    PRIMARY KEY (scorecard_id, metric_id, grain, period_start)
);
-- Forecast columns the signals step fills; created here so the action log can read them first.
ALTER TABLE scorecard.metric_status ADD COLUMN IF NOT EXISTS on_track BOOLEAN;
ALTER TABLE scorecard.metric_status ADD COLUMN IF NOT EXISTS target_date DATE;

DROP TABLE scorecard.objective_scores;
CREATE TABLE scorecard.objective_scores (
    scorecard_id  VARCHAR NOT NULL,
    objective     VARCHAR NOT NULL,
    perspective   VARCHAR,
    grain         VARCHAR NOT NULL,
    period_start  DATE NOT NULL,
    score         DOUBLE,
    coverage      DOUBLE,
    status        VARCHAR,
    PRIMARY KEY (scorecard_id, objective, grain, period_start)
);

DROP TABLE scorecard.perspective_scores;
CREATE TABLE scorecard.perspective_scores (
    scorecard_id  VARCHAR NOT NULL,
    perspective   VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period_start  DATE NOT NULL,
    score         DOUBLE,
    coverage      DOUBLE,
    status        VARCHAR,
    PRIMARY KEY (scorecard_id, perspective, grain, period_start)
);

DROP TABLE scorecard.initiatives;
CREATE TABLE scorecard.initiatives (
    scorecard_id    VARCHAR NOT NULL,
    initiative_id   VARCHAR NOT NULL,
    name            VARCHAR,
    owner           VARCHAR,
    budget          DOUBLE,
    status          VARCHAR,
    start_date      DATE,
    end_date        DATE,
    objectives      VARCHAR[],
    metrics         VARCHAR[],
    review_periods  INTEGER,
    PRIMARY KEY (scorecard_id, initiative_id)
);

-- One row per initiative and metric it should move: the movement since the initiative started.
CREATE TABLE scorecard.initiative_progress (
    scorecard_id    VARCHAR NOT NULL,
    initiative_id   VARCHAR NOT NULL,
    metric_id       VARCHAR NOT NULL,
    start_period    DATE,
    start_value     DOUBLE,
    latest_period   DATE,
    latest_value    DOUBLE,
    movement        DOUBLE,
    improved        BOOLEAN,
    moved_in_review_window BOOLEAN,
    project_roi     DOUBLE,
    PRIMARY KEY (scorecard_id, initiative_id, metric_id)
);

-- The action log persists: a run opens, resolves and closes rows but never deletes one.
DROP TABLE scorecard.actions;
CREATE TABLE scorecard.actions (
    action_id        VARCHAR PRIMARY KEY,
    scorecard_id     VARCHAR NOT NULL,
    metric_id        VARCHAR NOT NULL,
    grain            VARCHAR NOT NULL,
    dimension        VARCHAR NOT NULL,
    dimension_value  VARCHAR NOT NULL,
    owner            VARCHAR,
    trigger          VARCHAR NOT NULL,
    opened_period    DATE NOT NULL,
    due_date         DATE,
    status           VARCHAR NOT NULL,
    resolved_period  DATE,
    closed_at        TIMESTAMPTZ,
    note             VARCHAR,
    opened_at        TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- Rows the scorecard writes carry their scorecard in record_key ('<scorecard_id>/...'); a
-- generated column exposes it, so every other writer's INSERT stays as it is.
CREATE TABLE scorecard.data_quality_006 (
    source       VARCHAR NOT NULL,
    table_name   VARCHAR NOT NULL,
    record_key   VARCHAR,
    field        VARCHAR,
    problem      VARCHAR NOT NULL,
    value        VARCHAR,
    detected_at  TIMESTAMPTZ,
    scorecard_id VARCHAR GENERATED ALWAYS AS (
        CASE WHEN source = 'scorecard' THEN split_part(record_key, '/', 1) END
    )
);
INSERT INTO scorecard.data_quality_006
SELECT source, table_name, record_key, field, problem, value, detected_at
FROM scorecard.data_quality;
DROP TABLE scorecard.data_quality;
ALTER TABLE scorecard.data_quality_006 RENAME TO data_quality;
