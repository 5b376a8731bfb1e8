-- Any other raw table (settings, file problems, input ids: a few rows each) is hashed whole.
SELECT concat_ws(':', count(*), sum(hash(stored)))
FROM {table} AS stored
