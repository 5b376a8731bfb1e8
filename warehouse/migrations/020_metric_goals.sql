-- The goal versions of the config, as the last scoring read them: what a running period is
-- measured against (bi.scorecard_to_date). After a goal change no scored period holds the new
-- goals yet, so scorecard.metric_status cannot say them.
CREATE TABLE scorecard.metric_goals (
    scorecard_id  VARCHAR NOT NULL,
    metric_id     VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    perspective   VARCHAR,
    objective     VARCHAR,
    owner         VARCHAR,
    threshold     DOUBLE,
    target        DOUBLE,
    stretch       DOUBLE,
    band_low      DOUBLE,
    band_high     DOUBLE,
    direction     VARCHAR,
    baseline      DOUBLE,
    weight        DOUBLE,
    critical      BOOLEAN,
    target_date   DATE,
    goals_from    DATE,
    goals_to      DATE
);
