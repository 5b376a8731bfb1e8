-- A band metric's goal is its band: without its edges a scored row shows no threshold or target,
-- and a reader cannot tell what its green means.
ALTER TABLE scorecard.metric_status ADD COLUMN band_low DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN band_high DOUBLE;
