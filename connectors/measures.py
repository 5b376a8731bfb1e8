"""Spreadsheet measures (CSV, XLSX): the inputs no API holds, validated row by row.

Two layouts, told apart by their header: measure rows (metric_id, period_start, value, ...) load
into core.measures; survey answers (survey, responded_at, score, ...) into core.survey_responses.

Invalid rows are skipped one by one, not whole files: each row is an independent fact (one
month's revenue), so a typo in one cell must not hide a year of good inputs; the bad row's KPI
periods simply show no data, and every skipped row is listed in scorecard.data_quality with its
file, row and column. A file whose layout is unreadable (a required column missing) is skipped
whole, because then no row can be trusted.

Spreadsheets are small and a key may move between files, so when any file (or the list of input
ids in transforms/metrics/inputs.yaml) changed, all of them are reloaded in one transaction (core
rows of source 'measures' replaced); unchanged files = no work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from connectors.files import (
    content_hash,
    expand_paths,
    record_loaded_file,
    split_patterns,
)
from connectors.http import SourceError
from warehouse.transaction import transaction

log = logging.getLogger(__name__)

SOURCE = "measures"
INPUTS_FILE = Path(__file__).resolve().parents[1] / "transforms" / "metrics" / "inputs.yaml"
# Used only while transforms/metrics/inputs.yaml does not exist: id -> required dimension.
FALLBACK_INPUTS = {
    "revenue": "all",
    "it_budget": "all",
    "it_spend": "all",
    "service_desk_cost": "all",
    "headcount_fte": "all",
    "training_hours": "all",
    "certifications": "all",
    "automation_coverage": "all",
    "staff_start": "all",
    "staff_retained": "all",
    "project_benefit": "initiative",
    "project_cost": "initiative",
}
LAYOUTS = {
    "measures": {
        "required": ("metric_id", "period_start", "value"),
        "optional": ("period_end", "unit", "dimension", "dimension_value"),
    },
    "survey_responses": {
        "required": ("survey", "responded_at", "score"),
        "optional": ("scale_max", "service", "ticket_number", "response_id"),
    },
}
SKIPPED_SHEETS = {"readme", "notes", "instructions"}
MAX_LOGGED_PROBLEMS = 20


def known_inputs(path: Path = INPUTS_FILE) -> dict[str, str]:
    """Input metric ids and the dimension each one takes, from the KPI definitions when present."""
    if not path.exists():
        return dict(FALLBACK_INPUTS)
    document = yaml.safe_load(path.read_text()) or {}
    entries = document.get("inputs", document) if isinstance(document, dict) else document
    if isinstance(entries, dict):
        entries = [{"id": k, **(v or {})} for k, v in entries.items()]
    inputs = {}
    for entry in entries or []:
        if isinstance(entry, str):
            inputs[entry] = "all"
        elif isinstance(entry, dict) and (entry.get("id") or entry.get("metric_id")):
            inputs[entry.get("id") or entry["metric_id"]] = entry.get("dimension") or "all"
    if not inputs:
        raise SourceError(f"{SOURCE}: {path} lists no input metric ids")
    return inputs


def _cell_text(value: Any) -> str | None:
    """A spreadsheet cell as the text a CSV would hold (dates ISO, whole dates without time)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def xlsx_sheets(path: Path) -> list[tuple[str, pa.Table]]:
    """Every sheet of a workbook as text columns plus its spreadsheet row numbers.

    The workbook is read in openpyxl's read-only (streaming) mode, but all sheets are returned
    together: a file that fails half-way must stage no rows at all, and spreadsheets are small.
    """
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = []
        for sheet in workbook.worksheets:
            if sheet.title.strip().lower() in SKIPPED_SHEETS:
                continue
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if not header:
                continue
            names = [str(h).strip().lower() if h is not None else "" for h in header]
            columns: dict[str, list] = {n: [] for n in names if n}
            columns["source_row"] = []
            for number, row in enumerate(rows, start=2):
                cells = [_cell_text(v) for v in row]
                if not any(cells):
                    continue
                columns["source_row"].append(number)
                for name, cell in zip(names, cells, strict=False):
                    if name:
                        columns[name].append(cell)
                for name in names[len(cells) :]:
                    if name:
                        columns[name].append(None)
            sheets.append((sheet.title, pa.table(columns)))
        return sheets
    finally:
        workbook.close()


# Each line table is parsed once, in a view both the checks and the typed rows read.
MEASURE_PARSED_SQL = """
SELECT *,
    coalesce(try_strptime(period_start, '%Y-%m-%d'), try_strptime(period_start, '%Y-%m'))
        ::DATE AS start_day,
    try_strptime(period_end, '%Y-%m-%d')::DATE AS end_day,
    try_cast(value AS DOUBLE) AS amount,
    coalesce(nullif(lower(dimension), ''), 'all') AS dimension_name,
    coalesce(nullif(dimension_value, ''), 'all') AS dimension_member
FROM temp.measure_lines
"""

MEASURE_PROBLEMS_SQL = """
WITH parsed AS (
    SELECT *, list_position($input_ids, metric_id) AS input_index
    FROM temp.measure_parsed
),
checks AS (
    SELECT source_file, source_row, 'metric_id' AS field, metric_id AS value,
        CASE WHEN metric_id IS NULL THEN 'missing metric id'
             WHEN input_index IS NULL THEN 'unknown metric id (known: '
                 || array_to_string($input_ids, ', ') || ')'
        END AS problem
    FROM parsed
    UNION ALL
    SELECT source_file, source_row, 'period_start', period_start,
        CASE WHEN start_day IS NULL THEN 'bad date: expected YYYY-MM-DD (or YYYY-MM)' END
    FROM parsed
    UNION ALL
    SELECT source_file, source_row, 'period_end', period_end,
        CASE WHEN period_end IS NOT NULL AND end_day IS NULL THEN 'bad date: expected YYYY-MM-DD'
             WHEN end_day < start_day THEN 'period_end is before period_start'
        END
    FROM parsed
    UNION ALL
    SELECT source_file, source_row, 'value', value,
        CASE WHEN value IS NULL THEN 'missing value'
             WHEN amount IS NULL OR NOT isfinite(amount) THEN 'not a number'
        END
    FROM parsed
    UNION ALL
    SELECT source_file, source_row, 'dimension', dimension,
        CASE WHEN input_index IS NOT NULL
                  AND dimension_name <> $input_dimensions[input_index]
                  AND dimension_name <> 'all'
             THEN 'dimension must be ' || $input_dimensions[input_index] || ' or all for '
                 || metric_id
             WHEN dimension_name <> 'all' AND dimension_member = 'all'
             THEN 'dimension_value is required when dimension is ' || dimension_name
        END
    FROM parsed
)
SELECT source_file, source_row, field, problem, value
FROM checks
WHERE problem IS NOT NULL
"""

# Valid rows typed for core.measures; when rows share a key the newest file's last row wins.
VALID_MEASURES_SQL = """
SELECT
    metric_id,
    start_day AS period_start,
    end_day AS period_end,
    amount AS value,
    nullif(unit, '') AS unit,
    dimension_name AS dimension,
    dimension_member AS dimension_value,
    source_file,
    source_row,
    row_number() OVER same_key AS newest_first,
    first_value(source_file || ' row ' || source_row) OVER same_key AS kept_row
FROM temp.measure_parsed
ANTI JOIN temp.measure_problems USING (source_file, source_row)
WINDOW same_key AS (
    PARTITION BY metric_id, start_day, dimension_name, dimension_member
    ORDER BY file_order DESC, source_row DESC
)
"""

SURVEY_PARSED_SQL = """
SELECT *,
    try_cast(responded_at AS TIMESTAMPTZ) AS answered,
    try_cast(score AS DOUBLE) AS points,
    coalesce(try_cast(scale_max AS DOUBLE), CASE WHEN scale_max IS NULL THEN 5 END) AS scale
FROM temp.survey_lines
"""

SURVEY_PROBLEMS_SQL = """
WITH checks AS (
    SELECT source_file, source_row, 'survey' AS field, survey AS value,
        CASE WHEN survey IS NULL THEN 'missing survey name' END AS problem
    FROM temp.survey_parsed
    UNION ALL
    SELECT source_file, source_row, 'responded_at', responded_at,
        CASE WHEN answered IS NULL THEN 'bad timestamp: expected YYYY-MM-DD[ HH:MM:SS]' END
    FROM temp.survey_parsed
    UNION ALL
    SELECT source_file, source_row, 'scale_max', scale_max,
        CASE WHEN scale IS NULL OR scale <= 0 THEN 'scale_max must be a positive number' END
    FROM temp.survey_parsed
    UNION ALL
    SELECT source_file, source_row, 'score', score,
        CASE WHEN points IS NULL OR NOT isfinite(points) THEN 'not a number'
             WHEN points < 0 OR points > scale THEN 'score outside 0..scale_max'
        END
    FROM temp.survey_parsed
)
SELECT source_file, source_row, field, problem, value
FROM checks
WHERE problem IS NOT NULL
"""

# Valid answers typed for core.survey_responses; a repeated response id keeps the newest row.
VALID_SURVEY_SQL = """
WITH identified AS (
    SELECT *,
        'measures:' || coalesce(
            nullif(response_id, ''),
            regexp_replace(source_file, '^.*/', '') || ':' || source_row
        ) AS answer_id
    FROM temp.survey_parsed
    ANTI JOIN temp.survey_problems USING (source_file, source_row)
)
SELECT
    answer_id AS response_id,
    lower(survey) AS survey,
    answered AS responded_at,
    points AS score,
    scale AS scale_max,
    nullif(service, '') AS service,
    nullif(ticket_number, '') AS ticket_number,
    source_file,
    source_row,
    row_number() OVER same_answer AS newest_first,
    first_value(source_file || ' row ' || source_row) OVER same_answer AS kept_row
FROM identified
WINDOW same_answer AS (PARTITION BY answer_id ORDER BY file_order DESC, source_row DESC)
"""


class MeasureFiles:
    """DirectLoad source for the measure spreadsheets named by MEASURES_PATHS."""

    name = SOURCE

    def __init__(self, patterns: list[str], inputs: dict[str, str] | None = None) -> None:
        self.patterns = patterns
        self.inputs = inputs

    def load(self, con: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, int]:
        """Reload every file when any changed; returns the valid rows loaded per table."""
        files = expand_paths(SOURCE, "MEASURES_PATHS", self.patterns)
        hashes = {path: content_hash(path) for path in files}
        if self.inputs is None and INPUTS_FILE.exists():
            # A new input id makes rows valid that were not: that too calls for a reload.
            hashes[INPUTS_FILE] = content_hash(INPUTS_FILE)
        stored = dict(
            con.execute(
                "SELECT path, content_hash FROM meta.loaded_files WHERE source = ?", [SOURCE]
            ).fetchall()
        )
        if stored == {str(p): h for p, h in hashes.items()}:
            log.info("measures: %d file(s) unchanged, skipped", len(files))
            return {"measures": 0, "survey_responses": 0}
        inputs = self.inputs if self.inputs is not None else known_inputs(INPUTS_FILE)
        self._prepare(con)
        file_problems: list[tuple[str, int | None, str | None, str, str | None]] = []
        for order, path in enumerate(files):
            file_problems += self._stage_file(con, path, order)
        con.execute(f"CREATE OR REPLACE TEMP VIEW measure_parsed AS {MEASURE_PARSED_SQL}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW survey_parsed AS {SURVEY_PARSED_SQL}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE measure_problems AS {MEASURE_PROBLEMS_SQL}",
            {"input_ids": list(inputs), "input_dimensions": list(inputs.values())},
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE survey_problems AS {SURVEY_PROBLEMS_SQL}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE measure_rows AS {VALID_MEASURES_SQL}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE survey_rows AS {VALID_SURVEY_SQL}")
        counts = self._publish(con, hashes, file_problems, run_id)
        self._report(con)
        return counts

    def _prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        for layout, spec in LAYOUTS.items():
            table = "measure_lines" if layout == "measures" else "survey_lines"
            columns = ", ".join(f"{c} VARCHAR" for c in (*spec["required"], *spec["optional"]))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} (source_file VARCHAR, "
                f"source_row INTEGER, file_order INTEGER, {columns})"
            )

    def _stage_file(
        self, con: duckdb.DuckDBPyConnection, path: Path, order: int
    ) -> list[tuple[str, int | None, str | None, str, str | None]]:
        """Copy one file's rows (as text) into the line tables; returns file-level problems."""
        suffix = path.suffix.lower()
        if suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
            return [(str(path), None, None, "not a .csv or .xlsx file", None)]
        try:
            if suffix in (".xlsx", ".xlsm"):
                labels = []
                for title, table in xlsx_sheets(path):
                    con.register("measure_arrow", table)
                    try:
                        con.execute(
                            "CREATE OR REPLACE TEMP TABLE measure_sheet AS "
                            "SELECT * FROM measure_arrow"
                        )
                    finally:
                        con.unregister("measure_arrow")
                    labels.append(self._stage_sheet(con, f"{path}#{title}", order))
                return [p for p in labels if p]
            # Row numbers as the spreadsheet shows them: the header is row 1.
            con.execute(
                "CREATE OR REPLACE TEMP TABLE measure_sheet AS "
                "SELECT row_number() OVER () + 1 AS source_row, * "
                "FROM read_csv($path, header = true, all_varchar = true)",
                {"path": str(path)},
            )
        except (duckdb.Error, OSError, ValueError, KeyError) as exc:
            return [(str(path), None, None, f"cannot read file: {exc}", None)]
        problem = self._stage_sheet(con, str(path), order)
        return [problem] if problem else []

    @staticmethod
    def _stage_sheet(
        con: duckdb.DuckDBPyConnection, label: str, order: int
    ) -> tuple[str, int | None, str | None, str, str | None] | None:
        """Append temp.measure_sheet to the line table its header names, or say why not."""
        names = [r[0] for r in con.execute("DESCRIBE temp.measure_sheet").fetchall()]
        present = {name.strip().lower(): name for name in names}
        layout = next((k for k, spec in LAYOUTS.items() if spec["required"][0] in present), None)
        if layout is None:
            return (label, 1, None, "header has neither metric_id nor survey: unknown layout", None)
        spec = LAYOUTS[layout]
        missing = [c for c in spec["required"] if c not in present]
        if missing:
            return (label, 1, missing[0], f"missing required column(s) {', '.join(missing)}", None)
        target = "measure_lines" if layout == "measures" else "survey_lines"
        quoted = {c: '"' + present[c].replace('"', '""') + '"' for c in present}
        selected = ", ".join(
            f"nullif(trim(CAST({quoted[c]} AS VARCHAR)), '') AS {c}"
            if c in present
            else f"CAST(NULL AS VARCHAR) AS {c}"
            for c in (*spec["required"], *spec["optional"])
        )
        con.execute(
            f"INSERT INTO temp.{target} SELECT $label, source_row, $order, {selected} "
            "FROM temp.measure_sheet",
            {"label": label, "order": order},
        )
        return None

    def _publish(
        self,
        con: duckdb.DuckDBPyConnection,
        hashes: dict[Path, str],
        file_problems: list[tuple[str, int | None, str | None, str, str | None]],
        run_id: str | None,
    ) -> dict[str, int]:
        """Replace the source's core rows, its data-quality rows and its file list atomically."""
        with transaction(con):
            con.execute("DELETE FROM core.measures WHERE source = 'measures'")
            con.execute("DELETE FROM core.survey_responses WHERE source = 'measures'")
            con.execute("DELETE FROM scorecard.data_quality WHERE source = 'measures'")
            con.execute("DELETE FROM meta.loaded_files WHERE source = 'measures'")
            measures = con.execute(
                """
                INSERT INTO core.measures BY NAME
                SELECT metric_id, period_start, period_end, value, unit, dimension,
                       dimension_value, 'measures' AS source, source_file, source_row,
                       now() AS loaded_at
                FROM temp.measure_rows
                WHERE newest_first = 1
                """
            ).fetchall()[0][0]
            surveys = con.execute(
                """
                INSERT INTO core.survey_responses BY NAME
                SELECT response_id, 'measures' AS source, survey, responded_at, score,
                       scale_max, service, ticket_number, source_file, source_row,
                       now() AS loaded_at
                FROM temp.survey_rows
                WHERE newest_first = 1
                """
            ).fetchall()[0][0]
            for file, row, column, problem, value in file_problems:
                con.execute(
                    "INSERT INTO scorecard.data_quality VALUES ('measures', 'measures', "
                    "? || coalesce(' row ' || CAST(? AS VARCHAR), ''), ?, ?, ?, now())",
                    [file, row, column, problem, value],
                )
            con.execute(
                """
                INSERT INTO scorecard.data_quality
                SELECT 'measures', 'measures', source_file || ' row ' || source_row, field,
                       problem, value, now()
                FROM temp.measure_problems
                UNION ALL
                SELECT 'measures', 'survey_responses', source_file || ' row ' || source_row,
                       field, problem, value, now()
                FROM temp.survey_problems
                UNION ALL
                SELECT 'measures', 'measures', source_file || ' row ' || source_row, 'metric_id',
                       'duplicate key (metric_id, period_start, dimension): superseded by '
                       || kept_row, metric_id, now()
                FROM temp.measure_rows WHERE newest_first > 1
                UNION ALL
                SELECT 'measures', 'survey_responses', source_file || ' row ' || source_row,
                       'response_id', 'duplicate response: superseded by ' || kept_row,
                       response_id, now()
                FROM temp.survey_rows WHERE newest_first > 1
                """
            )
            for path, digest in hashes.items():
                # A sheet's rows are labelled path#sheet; a bare prefix would also count a
                # sibling file whose name extends this one (m.csv and m.csv.txt).
                rows = con.execute(
                    "SELECT count(*) FROM (SELECT source_file FROM temp.measure_lines UNION ALL "
                    "SELECT source_file FROM temp.survey_lines) "
                    "WHERE source_file = $f OR starts_with(source_file, $f || '#')",
                    {"f": str(path)},
                ).fetchall()[0][0]
                record_loaded_file(con, SOURCE, path, digest, rows, run_id)
        return {"measures": measures, "survey_responses": surveys}

    @staticmethod
    def _report(con: duckdb.DuckDBPyConnection) -> None:
        problems = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'measures' ORDER BY record_key"
        ).fetchall()
        for key, column, problem, value in problems[:MAX_LOGGED_PROBLEMS]:
            log.warning("measures: %s, column %s: %s (value %r)", key, column, problem, value)
        if len(problems) > MAX_LOGGED_PROBLEMS:
            log.warning(
                "measures: %d more problems in scorecard.data_quality",
                len(problems) - MAX_LOGGED_PROBLEMS,
            )


def from_env(env: Mapping[str, str]) -> MeasureFiles:
    patterns = split_patterns(env.get("MEASURES_PATHS", ""))
    if not patterns:
        raise SourceError("measures: MEASURES_PATHS is not set (comma-separated file globs)")
    return MeasureFiles(patterns)
