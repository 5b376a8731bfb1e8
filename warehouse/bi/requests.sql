-- Service requests from every ITSM source in one shape, with the hours they took to fulfil.
-- Service and group are named as the KPIs count them (kpi.name_spellings); the names the record
-- holds come last.
-- The kind a name is looked up as is a column of the left side, not a constant of the join:
-- DuckDB 2.0.1 drops a query's LIMIT when a LEFT JOIN's right side is filtered to nothing (an
-- instance whose names need no other spelling), and a BI tool's `LIMIT 1000` preview read the
-- whole table.
CREATE OR REPLACE VIEW bi.requests AS
SELECT
    requests.request_id, requests.source, requests.number, requests.opened_at,
    requests.fulfilled_at, requests.closed_at, requests.state,
    coalesce(services.spelling, requests.service) AS service,
    coalesce(groups.spelling, requests.assignment_group) AS assignment_group,
    requests.channel,
    (epoch(requests.fulfilled_at) - epoch(requests.opened_at)) / 3600.0 AS fulfilment_hours,
    requests.updated_at,
    requests.service AS service_as_recorded,
    requests.assignment_group AS assignment_group_as_recorded
FROM (
    SELECT *, 'service' AS service_kind, 'group' AS group_kind FROM core.requests
) AS requests
LEFT JOIN kpi.name_spellings AS services
    ON services.kind = requests.service_kind AND services.name = requests.service
LEFT JOIN kpi.name_spellings AS groups
    ON groups.kind = requests.group_kind AND groups.name = requests.assignment_group;

COMMENT ON VIEW bi.requests IS 'One row per service request from any ITSM source (times in UTC).';
