-- How each relation a staging query reads is stored now: its kind and columns, so a table
-- created, dropped, redefined or altered changes the fingerprint. A relation missing here does
-- not exist.
SELECT
    relations.schema_name || '.' || relations.relation AS name,
    relations.kind,
    relations.definition,
    (SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index)
     FROM duckdb_columns() AS columns
     WHERE columns.database_name = current_database()
       AND columns.schema_name = relations.schema_name
       AND columns.table_name = relations.relation) AS columns
FROM (
    SELECT schema_name, table_name AS relation, 'table' AS kind, '' AS definition
    FROM duckdb_tables()
    WHERE database_name = current_database()
    UNION ALL
    SELECT schema_name, view_name, 'view', sql
    FROM duckdb_views()
    WHERE database_name = current_database() AND NOT internal
) AS relations
WHERE relations.schema_name || '.' || relations.relation IN (SELECT unnest($names))
