-- Each record of a page cut out of the JSON answer it arrived in, in the answer's order: the
-- items of the list at $path from position $first on (1 = the first item).
SELECT unnest(json_extract($answer, $path)[$first:]) AS record
