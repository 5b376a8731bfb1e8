-- The records the last scheduled whole read of a stream did not read. A scheduled whole read
-- removes a record only when the one before it missed it too: a source paged by position over
-- live data skips a record when another one leaves mid-read, and that record is not gone.
CREATE TABLE meta.refresh_misses (
    source      VARCHAR NOT NULL,
    stream      VARCHAR NOT NULL,
    record_key  VARCHAR NOT NULL,
    PRIMARY KEY (source, stream, record_key)
);
