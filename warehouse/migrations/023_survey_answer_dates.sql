-- The date of a survey answer written as a date alone ('2026-12-01'), which counts on that date
-- wherever the calendar is; NULL for an answer with a time. Told apart by its text in staging:
-- an answer timed exactly 00:00:00 UTC is 19:00 the evening before in Bogota, not a date alone.
-- (Staging fills it on its next run: its query changed.)
ALTER TABLE core.survey_responses ADD COLUMN answered_on DATE;
DROP MACRO IF EXISTS kpi.answer_date;
