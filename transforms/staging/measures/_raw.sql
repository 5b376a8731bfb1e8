-- Spreadsheet rows land here as the cells' text, one table per layout, keyed by file (or
-- workbook sheet, `path#sheet`) and the row number the spreadsheet shows (the header is row 1).
-- Nothing is parsed yet: staging checks every cell, so a bad cell is reported, never lost.
CREATE TABLE IF NOT EXISTS raw.measures_measures (
    source_path VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    metric_id VARCHAR,
    period_start VARCHAR,
    period_end VARCHAR,
    value VARCHAR,
    unit VARCHAR,
    dimension VARCHAR,
    dimension_value VARCHAR,
    loaded_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.measures_survey_responses (
    source_path VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    survey VARCHAR,
    responded_at VARCHAR,
    score VARCHAR,
    scale_max VARCHAR,
    service VARCHAR,
    ticket_number VARCHAR,
    response_id VARCHAR,
    loaded_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

-- Files and sheets skipped whole: not a spreadsheet, unreadable, or a header that names no
-- layout, lacks a required column or names one twice (source_row the header's, field the
-- column); and CSV rows that could not be split into the header's cells (source_row theirs).
CREATE TABLE IF NOT EXISTS raw.measures_file_problems (
    source_file VARCHAR NOT NULL,
    source_row INTEGER,
    field VARCHAR,
    problem VARCHAR NOT NULL,
    noted_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

-- The input metric ids (transforms/metrics/inputs.yaml) and the dimension each one takes,
-- in the file's order: staging accepts a measure row only for one of them.
CREATE TABLE IF NOT EXISTS raw.measures_inputs (
    position INTEGER NOT NULL,
    metric_id VARCHAR NOT NULL,
    dimension VARCHAR NOT NULL
);
