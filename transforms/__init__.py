"""SQL run in DuckDB: staging (source -> canonical model), KPIs and scoring."""
