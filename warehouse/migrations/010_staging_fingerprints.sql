-- What each source's rows in a core table were last staged from: a fingerprint of the raw tables,
-- SQL and settings its staging and quality queries read (transforms/staged_inputs.py), written in
-- the transaction that restaged the rows. An unchanged fingerprint lets a night skip restaging;
-- `inputs` holds one digest per input, so a restage can say what changed.
CREATE TABLE meta.staging_fingerprints (
    source          VARCHAR NOT NULL,
    table_name      VARCHAR NOT NULL,
    fingerprint     VARCHAR NOT NULL,
    inputs          JSON NOT NULL,
    rows_staged     BIGINT NOT NULL,
    quality_issues  BIGINT NOT NULL,
    staged_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, table_name)
);
