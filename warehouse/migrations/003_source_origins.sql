-- Where each source's records came from (the built-in demo or a configured source), so a
-- warehouse never blends demo records with real ones.
CREATE TABLE meta.source_origins (
    source           VARCHAR PRIMARY KEY,
    origin           VARCHAR NOT NULL,
    first_loaded_at  TIMESTAMPTZ NOT NULL
);
