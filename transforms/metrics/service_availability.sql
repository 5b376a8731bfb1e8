-- Availability per committed service and local calendar day: agreed minutes (24x7, so 23 or 25
-- hours on a DST day, and only up to as_of on its own day) less planned maintenance, and unplanned
-- downtime within what is left. Committed services are the configured `committed_services`, else
-- those with outage records; incidents only tell since when a service has been watched.
-- Overlapping records of one kind count once; where unplanned downtime overlaps planned
-- maintenance (a window that overran, recorded again by monitoring), the overlap is planned,
-- whichever record starts first.
-- A service's outages and incidents under the one spelling it is counted in (kpi.name_spellings:
-- "CRM" and "crm" are one service, its agreed time counted once).
WITH outage_records AS (
    SELECT outages.* REPLACE (coalesce(spellings.spelling, outages.service) AS service)
    FROM core.outages AS outages
    LEFT JOIN kpi.name_spellings AS spellings
        ON spellings.kind = 'service' AND spellings.name = outages.service
),
service_sightings AS (
    SELECT service, source, begin_at AS seen_at FROM outage_records
    UNION ALL
    SELECT coalesce(spellings.spelling, incidents.service), incidents.source, incidents.opened_at
    FROM core.incidents AS incidents
    LEFT JOIN kpi.name_spellings AS spellings
        ON spellings.kind = 'service' AND spellings.name = incidents.service
),
services_first_seen AS (
    SELECT service, min(seen_at) AS first_at, min(source) AS source
    FROM service_sightings
    WHERE service IS NOT NULL AND seen_at IS NOT NULL
    GROUP BY service
),
committed_services AS (
    SELECT *
    FROM services_first_seen
    WHERE CASE
        WHEN len(getvariable('committed_services')) = 0
            THEN service IN (SELECT service FROM outage_records)
        ELSE list_contains(getvariable('committed_services'), lower(service))
    END
),
service_days AS (
    SELECT
        service,
        source,
        CAST(unnest(generate_series(
            CAST(first_at AT TIME ZONE getvariable('timezone') AS DATE)::TIMESTAMP,
            CAST(getvariable('as_of') AT TIME ZONE getvariable('timezone') AS DATE)::TIMESTAMP,
            INTERVAL 1 DAY
        )) AS DATE) AS local_day
    FROM committed_services
),
service_day_bounds AS (
    SELECT
        service,
        source,
        local_day,
        local_day::TIMESTAMP AT TIME ZONE getvariable('timezone') AS day_begin,
        least((local_day + 1)::TIMESTAMP AT TIME ZONE getvariable('timezone'), getvariable('as_of'))
            AS day_end
    FROM service_days
),
-- Materialised: read twice (agreed time, outage pieces), its time-zone conversions run once.
elapsed_service_days AS MATERIALIZED (
    SELECT * FROM service_day_bounds WHERE day_begin < day_end
),
classified_outages AS (
    SELECT
        outage_id,
        service,
        source,
        begin_at,
        least(coalesce(end_at, getvariable('as_of')), getvariable('as_of')) AS end_at,
        CASE
            WHEN list_contains(getvariable('planned_types'), lower(type)) THEN 'planned'
            WHEN list_contains(getvariable('downtime_types'), lower(type)) THEN 'unplanned'
        END AS kind
    FROM outage_records
    WHERE service IS NOT NULL AND begin_at IS NOT NULL
),
outages_without_overlap AS (
    SELECT
        *,
        greatest(begin_at, coalesce(max(end_at) OVER (
            PARTITION BY service, kind ORDER BY begin_at, outage_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), begin_at)) AS counted_from
    FROM classified_outages
    WHERE kind IS NOT NULL
),
counted_outages AS (
    SELECT * FROM outages_without_overlap WHERE counted_from < end_at
),
outage_day_pieces AS (
    SELECT
        o.outage_id,
        o.service,
        o.kind,
        o.source,
        d.local_day,
        greatest(o.counted_from, d.day_begin) AS piece_begin,
        least(o.end_at, d.day_end) AS piece_end
    FROM counted_outages AS o
    JOIN elapsed_service_days AS d
        ON d.service = o.service AND o.counted_from < d.day_end AND o.end_at > d.day_begin
),
-- The seconds of each piece of unplanned downtime that planned maintenance already covers.
planned_overlap AS (
    SELECT
        piece.outage_id,
        piece.local_day,
        sum(epoch(least(piece.piece_end, planned.end_at))
            - epoch(greatest(piece.piece_begin, planned.counted_from))) AS seconds
    FROM outage_day_pieces AS piece
    JOIN counted_outages AS planned
        ON planned.service = piece.service
        AND planned.kind = 'planned'
        AND planned.counted_from < piece.piece_end
        AND planned.end_at > piece.piece_begin
    WHERE piece.kind = 'unplanned'
    GROUP BY piece.outage_id, piece.local_day
),
outage_pieces_per_day AS (
    SELECT
        piece.*,
        (epoch(piece.piece_end) - epoch(piece.piece_begin) - coalesce(overlap.seconds, 0)) / 60.0
            AS minutes
    FROM outage_day_pieces AS piece
    LEFT JOIN planned_overlap AS overlap USING (outage_id, local_day)
),
agreed_time AS (
    SELECT
        'service_day' AS record_table,
        service || ' @ ' || strftime(local_day, '%Y-%m-%d') AS record_id,
        local_day,
        service,
        source,
        (epoch(day_end) - epoch(day_begin)) / 60.0 AS num,
        (epoch(day_end) - epoch(day_begin)) / 60.0 AS den,
        true AS in_numerator,
        true AS in_denominator,
        true AS counts_in_n
    FROM elapsed_service_days
),
lost_time AS (
    SELECT
        'outage' AS record_table,
        outage_id AS record_id,
        local_day,
        service,
        source,
        -minutes AS num,
        CASE kind WHEN 'planned' THEN -minutes END AS den,
        true AS in_numerator,
        kind = 'planned' AS in_denominator,
        false AS counts_in_n,
        -- One fact per outage and day it touches, so the note counts days, and says so.
        CASE kind
            WHEN 'planned' THEN 'days of planned maintenance (outage records)'
            ELSE 'days of unplanned downtime (outage records)'
        END AS note
    FROM outage_pieces_per_day
    WHERE minutes > 0
)
SELECT * FROM agreed_time
UNION ALL BY NAME
SELECT * FROM lost_time
