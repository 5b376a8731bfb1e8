-- Append one page to a stream's versions: each key's newest record in the page (its later copy
-- when the page holds two of one version), unless the stored current version is newer, or the
-- same version with the same content (so re-reading a page appends nothing). Content compares as
-- JSON, not as text: a record cut from its answer and one encoded by Python differ in escapes
-- only. Returns the rows appended.
--
-- A full refresh ($full_refresh) trusts what the source holds now: a record whose content
-- differs from the stored one is appended even when its version is older (an old export
-- imported over it, or a real update after an import stamped it years ahead), under the stored
-- version when that is newer, so that it is the current one.
--
-- Only stored versions at least as new as the page's oldest ($oldest_version) can outrank a
-- page record; the filter lets DuckDB skip older row groups by their min/max, so a page costs
-- about the same in an empty table and in a million-record one.
INSERT INTO {versions_table}
WITH page AS (
    SELECT record_key, record_version, record::JSON AS record
    FROM landing_batch
    QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY record_version DESC, ordinal DESC) = 1
),
stored_current AS (
    SELECT record_key, record_version, record, removed
    FROM {versions_table}
    WHERE record_version >= $oldest_version
      AND record_key IN (SELECT record_key FROM page)
    QUALIFY row_number() OVER (
        PARTITION BY record_key ORDER BY record_version DESC, landing_seq DESC
    ) = 1
)
SELECT page.record_key, greatest(page.record_version, stored.record_version), page.record, now(),
       $run_id, nextval('meta.landing_sequence'), false
FROM page
LEFT JOIN stored_current AS stored USING (record_key)
WHERE stored.record_key IS NULL
   OR page.record_version > stored.record_version
   OR ((page.record_version = stored.record_version OR $full_refresh)
       AND (stored.removed OR json(page.record) <> json(stored.record)))
