-- The staged rows (staged_rows, the staging query's result) against the rows core.{table} holds
-- for the source, matched by primary key: keys only staged are added, keys only held are gone,
-- keys in both whose rows differ in any column are changed; identical rows are left alone.
-- A row compares as a whole: IS DISTINCT FROM takes two NULLs as equal and a NULL against a
-- value as a difference, so a value that appears or becomes NULL counts as a change.
CREATE OR REPLACE TEMP TABLE restage_differences AS
WITH staged AS (
    SELECT *, TRUE AS present FROM staged_rows
),
held AS (
    SELECT *, TRUE AS present FROM core.{table} WHERE source = $source
)
SELECT
    {key},
    CASE
        WHEN held.present IS NULL THEN 'added'
        WHEN staged.present IS NULL THEN 'gone'
        ELSE 'changed'
    END AS difference
FROM staged
FULL JOIN held USING ({key})
WHERE staged IS DISTINCT FROM held
