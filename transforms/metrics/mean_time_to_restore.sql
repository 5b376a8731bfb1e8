-- Hours to restore service: resolution time of major incidents and of incidents a change caused
-- (incident_resolutions is defined in _facts_input.sql).
SELECT * EXCLUDE (priority_level, caused_by_change_id, is_security, category)
FROM incident_resolutions
WHERE list_contains(getvariable('major_priorities'), priority_level)
    OR (getvariable('include_change_caused') AND caused_by_change_id IS NOT NULL)
