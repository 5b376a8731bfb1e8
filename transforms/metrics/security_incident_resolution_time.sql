-- Hours from opening to resolution of security incidents, counted in the period they were resolved
-- (incident_resolutions is defined in _facts_input.sql).
SELECT * EXCLUDE (priority_level, caused_by_change_id, is_security, category)
FROM incident_resolutions
WHERE coalesce(is_security, false)
    OR list_contains(getvariable('security_categories'), lower(category))
