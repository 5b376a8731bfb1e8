-- Bad input set aside by the loads and KPI checks (scorecard_id NULL: every scorecard's page) and
-- the scorecard's own findings (scorecard_id set), counted by source, table and problem.
SELECT scorecard_id, source, table_name, problem, count(*) AS records
FROM scorecard.data_quality
GROUP BY ALL
ORDER BY records DESC, source, table_name, problem;
