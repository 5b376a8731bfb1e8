-- KPI values set aside by the range check: each is NULL with a 'quarantined: ' reason. The KPI
-- step's log, the kpi_values_in_range check and the nightly summary all count these rows.
SELECT metric_id, grain, period_start, dimension, dimension_value, reason
FROM kpi.metric_values
WHERE starts_with(reason, 'quarantined: ')
ORDER BY ALL
