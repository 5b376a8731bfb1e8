-- The last day of the period of `grain` that starts on period_start: the period_last_day column
-- of every bi view that has periods. In schema bi, so it travels with the published file.
CREATE OR REPLACE MACRO bi.period_last_day(grain, period_start) AS
    CAST(
        period_start + CASE grain
            WHEN 'week' THEN INTERVAL 7 DAY
            WHEN 'month' THEN INTERVAL 1 MONTH
            ELSE INTERVAL 3 MONTH
        END - INTERVAL 1 DAY AS DATE
    );
