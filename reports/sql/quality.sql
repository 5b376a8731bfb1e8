-- Bad input set aside by the loads and KPI checks, counted by source, table and problem.
SELECT source, table_name, problem, count(*) AS records
FROM scorecard.data_quality
GROUP BY ALL
ORDER BY records DESC, source, table_name, problem;
