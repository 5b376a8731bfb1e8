-- Deployments (the population deployment frequency counts) and whether each failed; an incident's
-- caused_by is a failure link, its related change (rfc) is not, and a cancelled incident links
-- nothing. An incident opened after as_of is not known yet (a retried or backfilled run scores
-- its night as that night saw it). Incidents that cite an unknown change are listed as not
-- linkable (completed_changes is defined in _facts_input.sql).
WITH changes_that_caused_incidents AS (
    SELECT DISTINCT caused_by_change_id AS change_id
    FROM core.incidents
    WHERE caused_by_change_id IS NOT NULL
        AND NOT coalesce(list_contains(getvariable('cancelled_states'), lower(state)), false)
        AND NOT coalesce(
            coalesce(opened_at, resolved_at, closed_at) > getvariable('as_of'), false
        )
),
changes_judged AS (
    SELECT
        c.*,
        coalesce(list_contains(getvariable('failed_outcomes'), lower(c.outcome)), false)
            AS failed_by_outcome,
        getvariable('count_backed_out') AND coalesce(c.backed_out, false) AS failed_by_backout,
        getvariable('count_caused_incidents') AND caused.change_id IS NOT NULL AS failed_by_incident
    FROM completed_changes AS c
    LEFT JOIN changes_that_caused_incidents AS caused ON caused.change_id = c.change_id
),
change_facts AS (
    SELECT
        'change' AS record_table,
        change_id AS record_id,
        completed_at,
        service,
        assignment_group,
        source,
        1.0 AS num,
        1.0 AS den,
        NOT is_cancelled AND (failed_by_outcome OR failed_by_backout OR failed_by_incident) AS in_numerator,
        NOT is_cancelled AS in_denominator,
        CASE
            WHEN is_cancelled THEN 'excluded: cancelled'
            -- both notes when both apply, '; ' between (_metric_values.sql counts each apart)
            ELSE nullif(concat_ws(
                '; ',
                CASE
                    WHEN outcome IS NULL AND NOT (failed_by_backout OR failed_by_incident)
                        THEN 'outcome unknown, counted as not failed'
                END,
                type_note
            ), '')
        END AS note
    FROM changes_judged
),
unlinkable_incidents AS (
    SELECT
        'incident' AS record_table,
        i.incident_id AS record_id,
        i.opened_at AS completed_at,
        i.service,
        i.assignment_group,
        i.source,
        false AS in_numerator,
        false AS in_denominator,
        'incident cites a caused-by change not in core.changes' AS note
    FROM core.incidents AS i
    ANTI JOIN core.changes AS c ON c.change_id = i.caused_by_change_id
    WHERE i.caused_by_change_id IS NOT NULL AND getvariable('count_caused_incidents')
)
SELECT * FROM change_facts
UNION ALL BY NAME
SELECT * FROM unlinkable_incidents
