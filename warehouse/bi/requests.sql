-- Service requests from every ITSM source in one shape, with the hours they took to fulfil.
CREATE OR REPLACE VIEW bi.requests AS
SELECT
    request_id, source, number, opened_at, fulfilled_at, closed_at, state, service,
    assignment_group, channel,
    date_diff('second', opened_at, fulfilled_at) / 3600.0 AS fulfilment_hours,
    updated_at
FROM core.requests;

COMMENT ON VIEW bi.requests IS 'One row per service request from any ITSM source (times in UTC).';
