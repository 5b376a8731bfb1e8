-- Service-request values staging could not use, named by the ticket id. The values of every
-- ticket are checked in incidents.quality.sql; here, what only a request's staging decides.
-- A request resolved or closed without the stats times gets no fulfilment or closing time.
SELECT
    'freshservice' AS source,
    'requests' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM freshservice_ended_without_time('Service Request')
