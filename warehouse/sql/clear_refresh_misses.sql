-- The page's records exist: a miss a scheduled whole read noted for them before no longer
-- counts, so a record is removed only when two whole reads in a row miss it and no read between
-- them finds it.
DELETE FROM meta.refresh_misses
WHERE source = $source
  AND stream = $stream
  AND record_key IN (SELECT record_key FROM landing_batch)
