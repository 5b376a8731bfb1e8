-- A line item's Tags as staging and the quality query read them. FOCUS writes a JSON object;
-- Azure's cost files (and conversions made from them) leave out the enclosing braces
-- ("env": "prod","team": "web"), so text that does not open an object or array is wrapped first.
CREATE OR REPLACE TEMP MACRO focus_tags_text(tags) AS
    CASE WHEN left(ltrim(tags), 1) IN ('{', '[') THEN tags ELSE '{' || tags || '}' END;

-- The tags as a map of key to value text; NULL when they are not a JSON object.
CREATE OR REPLACE TEMP MACRO focus_tag_map(tags) AS
    try_cast(try_cast(focus_tags_text(tags) AS JSON) AS MAP(VARCHAR, VARCHAR));
