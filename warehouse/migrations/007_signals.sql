-- Process-behaviour signals, trend and progress beside each scored period (filled by
-- transforms/scorecard/signals.sql; README "Signals, trend and progress" says how to read them).
ALTER TABLE scorecard.metric_status ADD COLUMN xmr_center DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN xmr_lower DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN xmr_upper DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN mk_s INTEGER;
ALTER TABLE scorecard.metric_status ADD COLUMN mk_z DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN mk_trend VARCHAR;
ALTER TABLE scorecard.metric_status ADD COLUMN sen_slope DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN periods_to_target DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN progress DOUBLE;
ALTER TABLE scorecard.metric_status ADD COLUMN IF NOT EXISTS on_track BOOLEAN;
ALTER TABLE scorecard.metric_status ADD COLUMN IF NOT EXISTS target_date DATE;
