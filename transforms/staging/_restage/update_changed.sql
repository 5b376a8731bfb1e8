-- Rows that kept their key but not their values take the staged values in place: an UPDATE of
-- the columns outside the key, since deleting keys and inserting them again in one transaction
-- costs DuckDB far more at commit (README, "Restaging by difference").
UPDATE core.{table} AS held
SET {assignments}
FROM (
    SELECT *
    FROM staged_rows
    SEMI JOIN (SELECT {key} FROM restage_differences WHERE difference = 'changed') USING ({key})
) AS staged
WHERE {held_is_staged}
