-- The status a critical metric capped an objective or perspective at (red, amber, or green: kept
-- from blue), NULL without such a cap. The overall on the executive summary carries a
-- perspective's cap, which a status and score alone cannot tell apart from a low score.
ALTER TABLE scorecard.objective_scores ADD COLUMN capped_at VARCHAR;
ALTER TABLE scorecard.perspective_scores ADD COLUMN capped_at VARCHAR;
