-- Rows under keys the source did not hold. A key another source holds fails the primary key,
-- as it always did, and the whole restage rolls back.
INSERT INTO core.{table} BY NAME
SELECT *
FROM staged_rows
SEMI JOIN (SELECT {key} FROM restage_differences WHERE difference = 'added') USING ({key})
