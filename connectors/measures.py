"""Spreadsheet measures (CSV, XLSX): the inputs no API holds, landed row by row in raw.measures_*.

Two layouts, told apart by their header: measure rows (metric_id, period_start, value, ...) land
in raw.measures_measures, survey answers (survey, responded_at, score, ...) in
raw.measures_survey_responses, each cell as its text, keyed by file (or sheet) and row. Staging
(transforms/staging/measures/) checks every cell and maps the valid rows to core.measures and
core.survey_responses; the rest are listed in scorecard.data_quality with file, row and column.
A file or sheet whose layout is unreadable (a required column missing) lands no row: then no row
of it can be trusted, and raw.measures_file_problems says why.

Spreadsheets are small and a key may move between files, so the files are one set: when any of
them (or the input ids of transforms/metrics/inputs.yaml) changed, all land again in one
transaction (warehouse/ingest.py); unchanged files = no work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import duckdb
import pyarrow as pa
import yaml

from connectors.base import FileStream
from connectors.files import expand_paths, forget_loaded_files, split_patterns
from connectors.http import SourceError
from transforms.staging import raw_tables_sql
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


RAW_TABLES = raw_tables_sql(SOURCE)
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")
# Why a file or sheet lands no row: (row, column, problem); row 1 and the first missing column
# for a header, None for a file that cannot be read at all.
SheetProblem = tuple[int | None, str | None, str]


class MeasureFiles:
    """FileSource for the measure spreadsheets named by MEASURES_PATHS: one set of files."""

    name = SOURCE

    def __init__(self, patterns: list[str], inputs: dict[str, str] | None = None) -> None:
        self.patterns = patterns
        self.inputs = inputs

    def streams(self) -> list[FileStream]:
        # A key may move from one file to another: the files land again together.
        return [FileStream("rows", together=True)]

    def files(self) -> list[Path]:
        return expand_paths(SOURCE, "MEASURES_PATHS", self.patterns)

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the raw tables and store the input ids staging accepts.

        New ids (or a warehouse from before the spreadsheets landed in raw.*) make the stored
        file hashes stale, so every file lands again with them and this run reports the reload.
        """
        con.execute(RAW_TABLES.read_text())
        inputs = self.inputs if self.inputs is not None else known_inputs(INPUTS_FILE)
        stored = con.execute(
            "SELECT metric_id, dimension FROM raw.measures_inputs ORDER BY position"
        ).fetchall()
        if stored == list(inputs.items()):
            return
        with transaction(con):
            con.execute("DELETE FROM raw.measures_inputs")
            con.execute(
                "INSERT INTO raw.measures_inputs "
                "SELECT unnest(range(1, len($ids) + 1)), unnest($ids), unnest($dimensions)",
                {"ids": list(inputs), "dimensions": list(inputs.values())},
            )
            forget_loaded_files(con, SOURCE)

    def clear(self, con: duckdb.DuckDBPyConnection) -> None:
        """Remove every row and file problem the last set landed (the new set replaces them)."""
        for table in ("measures", "survey_responses", "file_problems"):
            con.execute(f"DELETE FROM raw.measures_{table}")

    def land_file(self, con: duckdb.DuckDBPyConnection, path: Path, run_id: str | None) -> int:
        """Land one file's rows, sheet by sheet, in the raw table of each sheet's layout.

        A file or sheet that cannot be read, or whose header names no layout or lacks a required
        column, lands no row and is noted in raw.measures_file_problems instead.
        """
        if path.suffix.lower() not in SPREADSHEET_SUFFIXES:
            self._note(con, str(path), (None, None, "not a .csv or .xlsx file"), run_id)
            return 0
        try:
            sheets = read_sheets(con, path)
        except (duckdb.Error, OSError, ValueError, KeyError, BadZipFile) as exc:
            self._note(con, str(path), (None, None, f"cannot read file: {exc}"), run_id)
            return 0
        rows = 0
        for label, table in sheets:
            landed = _land_sheet(con, path, label, table, run_id)
            if isinstance(landed, int):
                rows += landed
            else:
                self._note(con, label, landed, run_id)
        log.info("measures: %s landed, %d rows", path, rows)
        return rows

    def note_problem(
        self, con: duckdb.DuckDBPyConnection, path: Path, problem: str, run_id: str | None
    ) -> None:
        """Keep the problem of a file that stopped the set landing, for scorecard.data_quality."""
        con.execute(RAW_TABLES.read_text())
        self._note(con, str(path), (None, None, problem), run_id)

    @staticmethod
    def _note(
        con: duckdb.DuckDBPyConnection, label: str, problem: SheetProblem, run_id: str | None
    ) -> None:
        row, column, text = problem
        con.execute(
            "INSERT INTO raw.measures_file_problems VALUES (?, ?, ?, ?, now(), ?)",
            [label, row, column, text, run_id],
        )
        log.warning("measures: %s skipped: %s", label, text)


def read_sheets(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, pa.Table]]:
    """The file's sheets as (label, text columns plus source_row); a CSV is one sheet.

    The CSV is read on a cursor of its own: a file DuckDB cannot parse then fails only that
    read, not the transaction the whole set lands in.
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return [(f"{path}#{title}", table) for title, table in xlsx_sheets(path)]
    reader = con.cursor()
    try:
        # Row numbers as the spreadsheet shows them: the header is row 1.
        table = reader.sql(
            "SELECT row_number() OVER () + 1 AS source_row, * "
            "FROM read_csv($path, header = true, all_varchar = true)",
            params={"path": str(path)},
        ).to_arrow_table()
    finally:
        reader.close()
    return [(str(path), table)]


def _land_sheet(
    con: duckdb.DuckDBPyConnection, path: Path, label: str, sheet: pa.Table, run_id: str | None
) -> int | SheetProblem:
    """Append a sheet's rows to the raw table its header names; or say why it cannot be read."""
    present = {name.strip().lower(): name for name in sheet.column_names if name != "source_row"}
    layout = next((k for k, spec in LAYOUTS.items() if spec["required"][0] in present), None)
    if layout is None:
        return (1, None, "header has neither metric_id nor survey: unknown layout")
    spec = LAYOUTS[layout]
    missing = [c for c in spec["required"] if c not in present]
    if missing:
        return (1, missing[0], f"missing required column(s) {', '.join(missing)}")
    quoted = {c: '"' + present[c].replace('"', '""') + '"' for c in present}
    cells = ", ".join(
        f"nullif(trim(CAST({quoted[c]} AS VARCHAR)), '')" if c in present else "NULL"
        for c in (*spec["required"], *spec["optional"])
    )
    columns = ", ".join((*spec["required"], *spec["optional"]))
    con.register("measure_sheet", sheet)
    try:
        landed = con.execute(
            f"INSERT INTO raw.measures_{layout} (source_path, source_file, source_row, {columns}, "
            f"loaded_at, run_id) SELECT $path, $label, source_row, {cells}, now(), $run_id "
            "FROM measure_sheet",
            {"path": str(path), "label": label, "run_id": run_id},
        )
        return landed.fetchall()[0][0]
    finally:
        con.unregister("measure_sheet")


def from_env(env: Mapping[str, str]) -> MeasureFiles:
    patterns = split_patterns(env.get("MEASURES_PATHS", ""))
    if not patterns:
        raise SourceError("measures: MEASURES_PATHS is not set (comma-separated file globs)")
    return MeasureFiles(patterns)
