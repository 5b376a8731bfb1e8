"""Spreadsheet measures (CSV, XLSX): the inputs no API holds, landed row by row in raw.measures_*.

Two layouts, told apart by their header: measure rows (metric_id, period_start, value, ...) land
in raw.measures_measures, survey answers (survey, responded_at, score, ...) in
raw.measures_survey_responses, each cell as its text, keyed by file (or sheet) and row. Staging
(transforms/staging/measures/) checks every cell and maps the valid rows to core.measures and
core.survey_responses; the rest are listed in scorecard.data_quality with file, row and column.
A file or sheet whose layout is unreadable (a required column missing) lands no row: then no row
of it can be trusted, and raw.measures_file_problems says why. CSV files are read here, not by
DuckDB's sniffer: the separator comes from the header row, so one unquoted separator in a cell
sets aside its row, not the file, and rows keep the numbers Excel shows.

Spreadsheets are small and a key may move between files, so the files are one set: when any of
them (or the input ids of transforms/metrics/inputs.yaml) changed, all land again in one
transaction (warehouse/ingest.py); unchanged files = no work.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
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
# The header may sit below a few title rows.
HEADER_SEARCH_ROWS = 20
SEPARATORS = (",", ";", "\t", "|")
# Why a file, sheet or row lands nothing: (row, column, problem); the header's row and the first
# missing column for a header, None for a file that cannot be read at all.
SheetProblem = tuple[int | None, str | None, str]


@dataclass(frozen=True)
class Sheet:
    """A CSV file or workbook sheet: its header (names lower-cased), the rows under it that hold
    a cell, numbered as the spreadsheet shows them, and the rows that could not be read."""

    label: str
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[str | None]]]
    problems: list[SheetProblem]


def known_inputs(path: Path = INPUTS_FILE) -> dict[str, str]:
    """Input metric ids and the dimension each one takes, from the KPI definitions when present."""
    if not path.exists():
        return dict(FALLBACK_INPUTS)
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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


def _cell_text(value: Any, number_format: str | None = None) -> str | None:
    """A workbook cell as the text a CSV would hold: dates ISO (whole dates without time), and a
    number formatted as percent as the percent Excel shows (0.463 shown 46.3% is 46.3)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and _is_percent(number_format)
    ):
        return format((Decimal(repr(value)) * 100).normalize(), "f")
    text = str(value).strip()
    return text or None


def _is_percent(number_format: str | None) -> bool:
    # A % in quotes or after a backslash is shown as is, without scaling the number.
    return "%" in re.sub(r'"[^"]*"|\\.', "", number_format or "")


def xlsx_sheets(path: Path) -> list[Sheet]:
    """Every sheet of a workbook with its spreadsheet row numbers.

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
            # The size a sheet declares is not always right (some tools write it stale): read
            # the rows it holds instead.
            sheet.reset_dimensions()
            rows = [
                (number, [_cell_text(c.value, c.number_format) for c in row])
                for number, row in enumerate(sheet.iter_rows(), start=1)
            ]
            if any(any(cells) for _, cells in rows):
                sheets.append(_sheet(f"{path}#{sheet.title}", rows, separator=None))
        return sheets
    finally:
        workbook.close()


def csv_sheet(path: Path) -> Sheet:
    """A CSV file as one sheet, its separator found from its header line (or Excel's `sep=`
    line) and its rows numbered as Excel shows them: a quoted cell spanning lines is one row,
    blank lines count, a first `sep=;` line is not shown."""
    text = _csv_text(path)
    hint = re.match(r'"?sep=(.)"?\r?\n', text)
    if hint:
        text = text[hint.end() :]
    separator = hint[1] if hint else _separator(text)
    _refuse_unclosed_quote(text, separator)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows = [
        (number, [_number_text(cell.strip(), separator) or None for cell in cells])
        for number, cells in enumerate(records, start=1)
    ]
    return _sheet(str(path), rows, separator)


def _refuse_unclosed_quote(text: str, separator: str) -> None:
    """A quote opened in a cell and never closed (a note typed `"approx`) would hold every line
    below it in that one cell, and their rows would go unseen: the file is refused, naming the
    row. (Other quoting slips, such as `"a"b`, read as the text they hold.)"""
    records = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    read = 0
    try:
        for read, _ in enumerate(records, start=1):  # noqa: B007  (read counts the rows)
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise ValueError(
                f"row {read + 1}: a double quote opened in this row is never closed, so every "
                "line after it would read as one cell; close or remove it"
            ) from None


# A number as a European Excel writes it in a semicolon file: '.' groups thousands, ',' marks the
# decimals (1.250 is one thousand two hundred and fifty; 42,5 is forty-two and a half).
_EUROPEAN_NUMBER = re.compile(r"-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?%?")


def _number_text(cell: str, separator: str) -> str:
    """A semicolon file's number in the notation staging reads (1250, 42.5); other cells as
    they are. Only a semicolon file is read so: the separator of the locales that write ','
    for the decimal mark."""
    if separator != ";" or not _EUROPEAN_NUMBER.fullmatch(cell):
        return cell
    return cell.replace(".", "").replace(",", ".")


def _csv_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without Excel's byte-order mark), else Windows-1252, the
    encoding of Excel's "CSV (Comma delimited)" on Western-European Windows."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValueError("not a text file (UTF-16 or binary?): save it as CSV UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ValueError("neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8") from None
    log.warning("measures: %s is not UTF-8, read as Windows-1252; save it as CSV UTF-8", path)
    return text


def _separator(text: str) -> str:
    """The separator that splits the header into the most layout column names (comma on a tie)."""

    def named(separator: str) -> int:
        records = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        for names in map(_names, islice(records, HEADER_SEARCH_ROWS)):
            if layout := _layout(names):
                return len(set(names) & set(_columns(layout)))
        return 0

    return max(SEPARATORS, key=named)


def _names(cells: list) -> list[str]:
    """Header cells as column names: trimmed, lower-case, without a byte-order mark."""
    return [str(c).replace("\ufeff", "").strip().lower() if c is not None else "" for c in cells]


def _layout(names: list[str]) -> str | None:
    """The layout a header names by its first required column."""
    return next((k for k, spec in LAYOUTS.items() if spec["required"][0] in names), None)


def _columns(layout: str) -> tuple[str, ...]:
    return (*LAYOUTS[layout]["required"], *LAYOUTS[layout]["optional"])


def _sheet(label: str, rows: list[tuple[int, list[str | None]]], separator: str | None) -> Sheet:
    """The sheet's header (the first row naming a layout, below any title rows; else its first
    row) and the rows under it that hold a cell. A CSV row with more cells than the header had a
    separator inside an unquoted cell, so its cells may sit under the wrong columns: it is set
    aside as a problem."""
    filled = [(number, cells) for number, cells in rows if any(cells)]
    header_row, header = next(
        (
            (number, _names(cells))
            for number, cells in filled[:HEADER_SEARCH_ROWS]
            if _layout(_names(cells))
        ),
        (filled[0][0], _names(filled[0][1])) if filled else (1, []),
    )
    kept, problems = [], []
    for number, cells in filled:
        if number <= header_row:
            continue
        if separator is not None and any(cells[len(header) :]):
            problems.append(
                (
                    number,
                    None,
                    f"{len(cells)} cells where the header has {len(header)}: "
                    f"a cell holding {separator!r} must be in double quotes",
                )
            )
            continue
        kept.append((number, cells))
    return Sheet(label, header_row, header, kept, problems)


RAW_TABLES = raw_tables_sql(SOURCE)
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")


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
        con.execute(RAW_TABLES.read_text(encoding="utf-8"))
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
            sheets = read_sheets(path)
        except (OSError, ValueError, KeyError, BadZipFile, csv.Error) as exc:
            self._note(con, str(path), (None, None, f"cannot read file: {exc}"), run_id)
            return 0
        rows = 0
        for sheet in sheets:
            landed = _land_sheet(con, path, sheet, run_id)
            if isinstance(landed, int):
                rows += landed
                for problem in sheet.problems:
                    self._note(con, sheet.label, problem, run_id)
            else:
                self._note(con, sheet.label, landed, run_id)
        log.info("measures: %s landed, %d rows", path, rows)
        return rows

    def note_problem(
        self, con: duckdb.DuckDBPyConnection, path: Path, problem: str, run_id: str | None
    ) -> None:
        """Keep the problem of a file that stopped the set landing, for scorecard.data_quality."""
        con.execute(RAW_TABLES.read_text(encoding="utf-8"))
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


def read_sheets(path: Path) -> list[Sheet]:
    """The file's sheets; a CSV is one sheet."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return xlsx_sheets(path)
    return [csv_sheet(path)]


def _land_sheet(
    con: duckdb.DuckDBPyConnection, path: Path, sheet: Sheet, run_id: str | None
) -> int | SheetProblem:
    """Append a sheet's rows to the raw table its header names; or say why it cannot be read."""
    layout = _layout(sheet.header)
    if layout is None:
        return (sheet.header_row, None, "header has neither metric_id nor survey: unknown layout")
    missing = [c for c in LAYOUTS[layout]["required"] if c not in sheet.header]
    if missing:
        return (sheet.header_row, missing[0], f"missing required column(s) {', '.join(missing)}")
    columns = _columns(layout)
    twice = next((c for c in columns if sheet.header.count(c) > 1), None)
    if twice:
        return (sheet.header_row, twice, f"column {twice} appears twice in the header")
    # Other columns (notes) are ignored, however often their names repeat.
    position = {c: sheet.header.index(c) for c in columns if c in sheet.header}
    cells = {c: [None] * len(sheet.rows) for c in columns}
    for i, (_, row) in enumerate(sheet.rows):
        for column, at in position.items():
            cells[column][i] = row[at] if at < len(row) else None
    table = pa.table(
        {"source_row": [number for number, _ in sheet.rows], **cells},
        schema=pa.schema([("source_row", pa.int32()), *((c, pa.string()) for c in columns)]),
    )
    con.register("measure_sheet", table)
    try:
        landed = con.execute(
            f"INSERT INTO raw.measures_{layout} BY NAME SELECT *, $path AS source_path, "
            "$label AS source_file, now() AS loaded_at, $run_id AS run_id FROM measure_sheet",
            {"path": str(path), "label": sheet.label, "run_id": run_id},
        )
        return landed.fetchall()[0][0]
    finally:
        con.unregister("measure_sheet")


def from_env(env: Mapping[str, str]) -> MeasureFiles:
    patterns = split_patterns(env.get("MEASURES_PATHS", ""))
    if not patterns:
        raise SourceError("measures: MEASURES_PATHS is not set (comma-separated file globs)")
    return MeasureFiles(patterns)
