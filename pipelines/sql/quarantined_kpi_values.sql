-- KPI values set aside by the range checks: each became NULL with a reason and a row here.
SELECT count(*) AS quarantined
FROM scorecard.data_quality
WHERE table_name = 'metric_values'
