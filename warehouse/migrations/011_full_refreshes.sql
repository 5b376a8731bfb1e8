-- When each stream was last read whole and the records it no longer returned removed (a full
-- refresh, warehouse/refresh.py). A stream whose source cannot report deletions is read whole
-- again once this is older than its interval (Stream.refresh_every, or the setting
-- sources.<name>.refresh_every_days).
CREATE TABLE meta.full_refreshes (
    source       VARCHAR NOT NULL,
    stream       VARCHAR NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, stream)
);
