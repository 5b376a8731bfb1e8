-- The source's rows whose key the staging query no longer returns.
DELETE FROM core.{table}
WHERE ({key}) IN (SELECT {key} FROM restage_differences WHERE difference = 'gone')
