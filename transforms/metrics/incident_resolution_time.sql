-- Hours from opening to resolution of each incident, counted in the period it was resolved
-- (incident_resolutions is defined in _facts_input.sql).
SELECT * EXCLUDE (priority_level, caused_by_change_id, is_security, category)
FROM incident_resolutions
