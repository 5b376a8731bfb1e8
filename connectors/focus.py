"""FOCUS cost exports (CSV, gzipped CSV, Parquet): each file's line items land in raw.focus_costs.

A FOCUS file is already close to the canonical record, so it is not repeated as JSON: DuckDB
streams its rows, cast to the types core.costs stores, into raw.focus_costs keyed by file and
line (transforms/staging/focus/_raw.sql), and staging (focus/costs.sql) allocates costs by tag,
converts currencies and names categories. The landing loop (warehouse/ingest.py) skips a file
whose content hash is unchanged and replaces a changed file's rows (providers restate the current
month) in one transaction. A file that disappears from FOCUS_PATHS keeps its rows (exports are
often archived or rotated away), unless a file it lists has the same content: it was renamed or
moved, and its rows move with it (forget_file). A folder is read with its subfolders (exports
nest by billing period and run), keeping only data files; each file's modification time is kept
in raw.focus_files, so staging can tell which run folder of an export was delivered last.

Only FOCUS is read. Native exports (AWS CUR, Azure EA/MCA cost details, OCI cost reports) are
refused with an error naming the file and the FOCUS columns it lacks: export FOCUS from the
provider (all three offer a FOCUS export) or convert first; AWS and Azure spend can also come
through the aws_ce and azure_cost API sources.

Tag keys (FOCUS_TAG_COST_CENTRE / _SERVICE / _APPLICATION) and the currency settings
(FOCUS_CURRENCY, FOCUS_EXCHANGE_RATES) are connectors/cost_allocation.py's; the connector stores
them in raw.focus_settings and raw.cost_settings for staging. Lines in a currency that is neither
the reporting one nor converted by a rate land like the others; the KPI step leaves them out of
the cost KPIs and lists them in scorecard.data_quality (transforms/metrics/_left_out_costs.sql).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from connectors.base import FileStream
from connectors.cost_allocation import Currency, TagKeys
from connectors.files import expand_paths, split_patterns
from connectors.http import PermanentSourceError, SourceError
from transforms.staging import raw_tables_sql
from warehouse.transaction import transaction

log = logging.getLogger(__name__)

SOURCE = "focus"

# FOCUS columns this project reads, with the type core.costs stores them as. Mandatory
# here means every version from 1.0-preview on has it: ContractedCost came with 1.0 and
# PublisherName is deprecated from 1.3, so both are optional.
MANDATORY_COLUMNS: dict[str, str] = {
    "BilledCost": "DECIMAL(38, 12)",
    "EffectiveCost": "DECIMAL(38, 12)",
    "ListCost": "DECIMAL(38, 12)",
    "BillingPeriodStart": "TIMESTAMPTZ",
    "BillingPeriodEnd": "TIMESTAMPTZ",
    "ChargePeriodStart": "TIMESTAMPTZ",
    "ChargePeriodEnd": "TIMESTAMPTZ",
    "BillingCurrency": "VARCHAR",
    "BillingAccountId": "VARCHAR",
    "ChargeCategory": "VARCHAR",
    "ServiceCategory": "VARCHAR",
    "ServiceName": "VARCHAR",
    "ProviderName": "VARCHAR",
    "InvoiceIssuerName": "VARCHAR",
}
OPTIONAL_COLUMNS: dict[str, str] = {
    "ContractedCost": "DECIMAL(38, 12)",
    "PublisherName": "VARCHAR",
    "BillingAccountName": "VARCHAR",
    "ChargeClass": "VARCHAR",
    "ChargeDescription": "VARCHAR",
    "SubAccountId": "VARCHAR",
    "SubAccountName": "VARCHAR",
    "RegionId": "VARCHAR",
    "RegionName": "VARCHAR",
    "ResourceId": "VARCHAR",
    "ResourceName": "VARCHAR",
    "ResourceType": "VARCHAR",
    "SkuId": "VARCHAR",
    "PricingQuantity": "DOUBLE",
    "PricingUnit": "VARCHAR",
    "ConsumedQuantity": "DOUBLE",
    "ConsumedUnit": "VARCHAR",
    "Tags": "VARCHAR",
}
# Later names of a column, read when a file lacks the name above (FOCUS 1.3 renamed ProviderName).
RENAMED_COLUMNS: dict[str, tuple[str, ...]] = {"ProviderName": ("ServiceProviderName",)}

# What an export folder holds besides its data files (manifests, markers): skipped when a folder
# or a glob names them, refused only when named one by one.
EXPORT_SUFFIXES = (".csv", ".csv.gz", ".gz", ".txt", ".parquet")


def file_reader(path: Path) -> tuple[str, str]:
    """The DuckDB table function reading $path, and the expression numbering its line items.

    CSV is read as text so the casts stay ours, in FOCUS's dialect (commas, double quotes) with
    the header's names rather than a guess: a guessed dialect reads a semicolon file as if it
    were FOCUS, and one malformed line among the sampled ones refused the whole file. Lines that
    are not valid CSV are set aside in temp.focus_rejects (see land_file). Parquet numbers rows
    itself, which keeps the scan parallel; a CSV scan keeps file order, so row_number() numbers
    its lines in order too.
    """
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "read_parquet($path, file_row_number = true)", "file_row_number + 1"
    if name.endswith((".csv", ".csv.gz", ".gz", ".txt")):
        columns = ", ".join(f"{_sql_text(c)}: 'VARCHAR'" for c in _csv_header(path))
        return (
            f"read_csv($path, header = true, auto_detect = false, columns = {{{columns}}}, "
            "delim = ',', quote = '\"', escape = '\"', nullstr = ['NULL', ''], "
            "store_rejects = true, rejects_table = 'focus_rejects', "
            "rejects_scan = 'focus_reject_scans')",
            "row_number() OVER ()",
        )
    raise SourceError(f"{SOURCE}: {path}: not a FOCUS export (.csv, .csv.gz or .parquet expected)")


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV export's header line (a UTF-8 byte order mark dropped).

    A file without a header, or separated by something else than commas (a spreadsheet's
    export), is refused naming what was found. Empty or repeated names get a position suffix.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
            header = handle.readline(1 << 20)
    except (OSError, EOFError) as exc:
        raise SourceError(f"{SOURCE}: cannot read {path}: {exc}") from exc
    if not header.strip():
        raise SourceError(f"{SOURCE}: {path} is empty: a FOCUS export starts with a header line")
    separators = [s for s in (";", "\t", "|") if s in header]
    if "," not in header and separators:
        raise SourceError(
            f"{SOURCE}: {path} is separated by {separators[0]!r}, so it is not a FOCUS export: "
            "FOCUS CSV files are comma-separated (export the file again with commas, or as "
            "Parquet)"
        )
    names: list[str] = []
    for position, name in enumerate(next(csv.reader(io.StringIO(header))), 1):
        taken = {n.lower() for n in names}
        names.append(name if name and name.lower() not in taken else f"{name}_{position}")
    return names


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


SQL_DIR = Path(__file__).parent / "sql"
RAW_TABLES = raw_tables_sql(SOURCE)


class FocusFiles:
    """FileSource for FOCUS exports named by glob patterns (FOCUS_PATHS)."""

    name = SOURCE

    def __init__(
        self,
        patterns: list[str],
        tag_keys: TagKeys | None = None,
        currency: Currency | None = None,
    ) -> None:
        self.patterns = patterns
        self.tag_keys = tag_keys or TagKeys()
        self.currency = currency or Currency()

    def streams(self) -> list[FileStream]:
        return [FileStream("costs")]

    def files(self) -> list[Path]:
        """The export files the patterns name; a folder is read with its subfolders.

        Providers deliver exports in nested folders (billing period, run) beside manifest files,
        so a folder or glob keeps only data files; a file named on its own is always tried.
        """
        found: dict[str, Path] = {}
        for pattern in self.patterns:
            expanded = os.path.expanduser(pattern)
            if os.path.isfile(expanded):
                paths = expand_paths(SOURCE, "FOCUS_PATHS", [pattern])
            else:
                walk = os.path.join(expanded, "**", "*") if os.path.isdir(expanded) else pattern
                matched = expand_paths(SOURCE, "FOCUS_PATHS", [walk])
                paths = [p for p in matched if p.name.lower().endswith(EXPORT_SUFFIXES)]
                if not paths:
                    raise PermanentSourceError(
                        f"{SOURCE}: FOCUS_PATHS pattern {pattern!r} matched no .csv, .csv.gz or "
                        f".parquet file (only {', '.join(p.name for p in matched[:3])})"
                    )
            found.update((str(p), p) for p in paths)
        return [found[k] for k in sorted(found)]

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the raw tables and store the allocation and currency settings staging uses."""
        con.execute(RAW_TABLES.read_text(encoding="utf-8"))
        with transaction(con):
            # A file listed as loaded whose rows are not in raw.focus_costs (a warehouse from
            # before FOCUS landed in raw.*) must land again, or staging would drop its costs.
            # Likewise a file landed before raw.focus_files kept modification times: it lands
            # again to record one; a file gone from FOCUS_PATHS since counts from its landing.
            con.execute(
                "DELETE FROM meta.loaded_files WHERE source = 'focus' AND (path NOT IN "
                "(SELECT DISTINCT source_file FROM raw.focus_costs) OR path NOT IN "
                "(SELECT source_file FROM raw.focus_files))"
            )
            con.execute(
                "INSERT INTO raw.focus_files SELECT source_file, max(loaded_at), max(loaded_at), "
                "any_value(run_id) FROM raw.focus_costs WHERE source_file NOT IN "
                "(SELECT source_file FROM raw.focus_files) GROUP BY source_file"
            )
            con.execute("DELETE FROM raw.focus_settings")
            con.execute(
                "INSERT INTO raw.focus_settings VALUES (?, ?, ?)",
                [
                    self.tag_keys.normalised("cost_centre"),
                    self.tag_keys.normalised("service"),
                    self.tag_keys.normalised("application"),
                ],
            )
            self.currency.store(con)
        # A refused file no longer named (deleted, or gone from FOCUS_PATHS) that never landed a
        # line item is read no more and counts for nothing: "until it loads" would list it for
        # ever. One that did land keeps its problem, as its last good rows still count.
        listed = [str(path) for path in self.files()]
        con.execute(
            "DELETE FROM raw.focus_file_problems WHERE source_file NOT IN "
            "(SELECT unnest(CAST(? AS VARCHAR[]))) AND source_file NOT IN "
            "(SELECT DISTINCT source_file FROM raw.focus_costs)",
            [listed],
        )
        # Staging leaves out the line items of an unlisted file its folder holds again.
        with transaction(con):
            con.execute("DELETE FROM raw.focus_unlisted_files")
            con.execute(
                "INSERT INTO raw.focus_unlisted_files SELECT source_file FROM raw.focus_files "
                "WHERE source_file NOT IN (SELECT unnest(CAST(? AS VARCHAR[])))",
                [listed],
            )

    def land_file(self, con: duckdb.DuckDBPyConnection, path: Path, run_id: str | None) -> int:
        """Replace one file's rows in raw.focus_costs and record its modification time in
        raw.focus_files (inside the caller's transaction)."""
        reader, line_number = file_reader(path)
        modified_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        typed = _typed_columns(self._columns(con, path, reader))
        con.execute("DELETE FROM raw.focus_costs WHERE source_file = ?", [str(path)])
        con.execute("DELETE FROM raw.focus_file_problems WHERE source_file = ?", [str(path)])
        sql = (
            (SQL_DIR / "focus_line_items.sql")
            .read_text(encoding="utf-8")
            .format(
                typed_columns=",\n    ".join(f"{e} AS {c}" for c, e in typed.items()),
                reader=reader,
                line_number=line_number,
            )
        )
        con.execute("DELETE FROM raw.focus_rejected_lines WHERE source_file = ?", [str(path)])
        con.execute("DROP TABLE IF EXISTS temp.main.focus_rejects")
        con.execute("DROP TABLE IF EXISTS temp.main.focus_reject_scans")
        params = {"path": str(path), "file": str(path), "run_id": run_id}
        try:
            count = con.execute(sql, params).fetchall()[0][0]
        except duckdb.Error as exc:
            # Unreadable past what the header showed (a truncated download): refuse the file,
            # keep its last good rows, go on with the others.
            reason = str(exc).splitlines()[0]
            raise SourceError(f"{SOURCE}: cannot read {path}: {reason}") from exc
        rejected = 0
        if "focus_rejects" in reader:
            rejected = con.execute(
                (SQL_DIR / "focus_rejected_lines.sql").read_text(encoding="utf-8"),
                {"file": str(path), "run_id": run_id},
            ).fetchall()[0][0]
        con.execute(
            "INSERT OR REPLACE INTO raw.focus_files VALUES (?, ?, now(), ?)",
            [str(path), modified_at, run_id],
        )
        log.info("focus: %s landed, %d line items, %d lines not valid CSV", path, count, rejected)
        return count

    def forget_file(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        """Remove every row a file landed (it was renamed or moved: another name holds it now)."""
        for table in (
            "focus_costs",
            "focus_files",
            "focus_file_problems",
            "focus_rejected_lines",
            "focus_unlisted_files",
        ):
            con.execute(f"DELETE FROM raw.{table} WHERE source_file = ?", [path])

    def note_problem(
        self, con: duckdb.DuckDBPyConnection, path: Path, problem: str, run_id: str | None
    ) -> None:
        """Keep the file's problem for scorecard.data_quality until the file loads."""
        con.execute(RAW_TABLES.read_text(encoding="utf-8"))
        con.execute(
            "INSERT OR REPLACE INTO raw.focus_file_problems VALUES (?, ?, now(), ?)",
            [str(path), problem, run_id],
        )

    def _columns(
        self, con: duckdb.DuckDBPyConnection, path: Path, reader: str
    ) -> dict[str, tuple[str, str]]:
        """The file's (name, type) by lower-cased name; a missing mandatory column is an error."""
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {reader}", {"path": str(path)})
            names = [(row[0], row[1]) for row in described.fetchall()]
        except duckdb.Error as exc:
            raise SourceError(f"focus: cannot read {path}: {exc}") from exc
        present = {name.lower(): (name, sql_type) for name, sql_type in names}
        for column, later_names in RENAMED_COLUMNS.items():
            for later in later_names:
                if column.lower() not in present and later.lower() in present:
                    present[column.lower()] = present[later.lower()]
        missing = [c for c in MANDATORY_COLUMNS if c.lower() not in present]
        if missing:
            raise SourceError(
                f"focus: {path} is not a FOCUS export (1.0-preview to 1.3): missing mandatory "
                f"column(s) {', '.join(missing)} (native AWS CUR, Azure EA and OCI exports must be "
                "converted to FOCUS or exported as FOCUS by the provider)"
            )
        return present


def _typed_columns(present: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Each FOCUS column's expression cast to its core type; a column the file lacks is NULL.

    Text is trimmed before the cast (exports pad values); typed Parquet columns cast directly.
    A value that does not cast is NULL, which staging's quality query lists by line and field.
    """
    expressions = {}
    for column, sql_type in {**MANDATORY_COLUMNS, **OPTIONAL_COLUMNS}.items():
        actual = present.get(column.lower())
        if actual is None:
            expressions[column] = f"CAST(NULL AS {sql_type})"
            continue
        name, file_type = actual
        quoted = '"' + name.replace('"', '""') + '"'
        value = f"trim({quoted})" if file_type == "VARCHAR" else quoted
        if column == "Tags" and file_type.startswith(("MAP", "STRUCT")):
            # Parquet exports type Tags as a map; staging reads tags as JSON text.
            value = f"to_json({quoted})"
        typed = f"try_cast({value} AS {sql_type})"
        if sql_type == "TIMESTAMPTZ":
            # A database export may write 'infinity' for an open end: no instant a cost can
            # count on, so it loads empty (listed as unparseable) like any other unreadable date.
            typed = f"CASE WHEN isfinite({typed}) THEN {typed} END"
        expressions[column] = typed
    return expressions


def from_env(env: Mapping[str, str]) -> FocusFiles:
    patterns = split_patterns(env.get("FOCUS_PATHS", ""))
    if not patterns:
        raise SourceError("focus: FOCUS_PATHS is not set (comma-separated file globs)")
    return FocusFiles(patterns, TagKeys.from_env(env), Currency.from_env(env))
