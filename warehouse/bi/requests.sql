-- Service requests from every ITSM source in one shape, with the hours they took to fulfil.
-- Service and group are named as the KPIs count them (kpi.name_spellings); the names the record
-- holds come last.
CREATE OR REPLACE VIEW bi.requests AS
SELECT
    requests.request_id, requests.source, requests.number, requests.opened_at,
    requests.fulfilled_at, requests.closed_at, requests.state,
    coalesce(services.spelling, requests.service) AS service,
    coalesce(groups.spelling, requests.assignment_group) AS assignment_group,
    requests.channel,
    date_diff('second', requests.opened_at, requests.fulfilled_at) / 3600.0 AS fulfilment_hours,
    requests.updated_at,
    requests.service AS service_as_recorded,
    requests.assignment_group AS assignment_group_as_recorded
FROM core.requests AS requests
LEFT JOIN kpi.name_spellings AS services
    ON services.kind = 'service' AND services.name = requests.service
LEFT JOIN kpi.name_spellings AS groups
    ON groups.kind = 'group' AND groups.name = requests.assignment_group;

COMMENT ON VIEW bi.requests IS 'One row per service request from any ITSM source (times in UTC).';
