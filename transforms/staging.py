"""Stage raw records into the canonical core.* tables, one source at a time.

A staging query is transforms/staging/<source>/<core_table>.sql (one SELECT of core columns); an
optional <core_table>.quality.sql lists the records it had to question. Restaging makes the
source's rows exactly the query's in one transaction, so core never holds half of a source; it
writes only the rows that differ (transforms/staging/_restage/), since rewriting rows DuckDB
already holds under the same keys costs far more than a first load. Raw tables are the
generic JSON records of warehouse/landing.py, unless the source declares its own in
<source>/_raw.sql (file sources landing rows keyed by file and row). Macros one source's queries
share sit beside them in <source>/_macros.sql; macros.sql holds those of several sources.

A restage also stores the fingerprint of what the queries read (transforms/staged_inputs.py) in
its transaction; when the next run finds the same fingerprint and core still holds the rows it
wrote, staging is skipped. Any doubt (no fingerprint, changed SQL or raw table, force) restages.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from transforms.staged_inputs import (
    RESTAGE_DIR,
    STAGING_DIR,
    Fingerprint,
    StagedState,
    changed_inputs,
    fingerprint,
    query_inputs,
    record_state,
    relations_read,
    stored_state,
)
from warehouse.landing import create_raw_table
from warehouse.transaction import transaction

log = logging.getLogger(__name__)

# Questioned records named in the log per staged table; scorecard.data_quality holds them all.
LOGGED_ISSUES = 10
MACROS = STAGING_DIR / "macros.sql"
# In order: what differs, then the core rows to delete, update and insert to match.
RESTAGE_STEPS = ("differences", "delete_gone", "update_changed", "insert_added")
CORE_TABLES = (
    "incidents",
    "changes",
    "requests",
    "sla_records",
    "outages",
    "costs",
    "measures",
    "survey_responses",
)


@dataclass(frozen=True)
class StageResult:
    source: str
    table: str
    rows: int
    quality_issues: int
    # Set when nothing the queries read changed since this restage, which this run kept.
    unchanged_since: datetime | None = None
    # Why the rows were restaged (what changed), or that they were kept.
    reason: str = ""

    @property
    def outcome(self) -> str:
        """One line for the run's log and the asset's metadata."""
        if self.unchanged_since is not None:
            return f"skipped: unchanged since {self.unchanged_since.isoformat(timespec='seconds')}"
        return f"restaged: {self.reason}"


def staged_tables(source: str) -> list[str]:
    folder = STAGING_DIR / source
    staged = {
        p.stem
        for p in folder.glob("*.sql")
        if not p.stem.endswith(".quality") and not p.stem.startswith("_")
    }
    unknown = staged - set(CORE_TABLES)
    if unknown:
        raise ValueError(f"{folder}: staging files for unknown core tables {sorted(unknown)}")
    return sorted(staged)


def feeds(source: str) -> set[str]:
    """Core tables a source contributes to."""
    return set(staged_tables(source))


def raw_tables_sql(source: str) -> Path:
    """The source's own raw table declarations (CREATE TABLE IF NOT EXISTS), if it has them."""
    return STAGING_DIR / source / "_raw.sql"


def source_macros_sql(source: str) -> Path:
    """Macros shared by one source's staging and quality queries, if it has them."""
    return STAGING_DIR / source / "_macros.sql"


def prepare(con: duckdb.DuckDBPyConnection, sql: str, source: str | None = None) -> None:
    """Define the shared macros, and create (empty) any raw table the query reads that no load
    has created yet, so a source with nothing in one table still stages the others. The
    source's own macros come last: DuckDB binds the tables a macro reads when it is defined."""
    con.execute(MACROS.read_text(encoding="utf-8"))
    if source and raw_tables_sql(source).exists():
        con.execute(raw_tables_sql(source).read_text(encoding="utf-8"))
    # The raw tables the queries name, and those the macros they call read.
    named = set(re.findall(r"\braw\.([a-z][a-z0-9_]*)", sql))
    if source:
        named |= {
            relation.removeprefix("raw.")
            for relation in relations_read(source, sql)
            if relation.startswith("raw.")
        }
    for name in sorted(named):
        create_raw_table(con, f"raw.{name}")
    if source and source_macros_sql(source).exists():
        con.execute(source_macros_sql(source).read_text(encoding="utf-8"))


def stage(
    con: duckdb.DuckDBPyConnection, source: str, table: str, force: bool = False
) -> StageResult:
    """Restage the source's rows of core.<table>, unless nothing the queries read has changed
    since the last restage (and `force` is not set)."""
    query_file = STAGING_DIR / source / f"{table}.sql"
    quality_file = STAGING_DIR / source / f"{table}.quality.sql"
    query = query_file.read_text(encoding="utf-8")
    quality = quality_file.read_text(encoding="utf-8") if quality_file.exists() else None
    prepare(con, query + (quality or ""), source)
    inputs = query_inputs(source, table)
    with transaction(con):
        now = fingerprint(con, inputs)
        last = stored_state(con, source, table)
        if not force and last is not None and _unchanged(con, source, table, last, now):
            result = StageResult(
                source, table, last.rows, last.quality_issues, last.staged_at, "unchanged"
            )
            log.info("%s -> core.%s: %s, %d rows kept", source, table, result.outcome, last.rows)
            return result
        rows, issues = _restage(con, source, table, query, quality, query_file)
        record_state(con, source, table, now, rows, issues)
    result = StageResult(source, table, rows, issues, reason=_why(force, last, now))
    log.info(
        "%s -> core.%s: %s, %d rows, %d data-quality issues",
        source,
        table,
        result.outcome,
        rows,
        issues,
    )
    if issues:
        _log_first_issues(con, source, table, issues)
    return result


def _unchanged(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    last: StagedState,
    now: Fingerprint | None,
) -> bool:
    """The same inputs as the last restage, and core still holds exactly what it wrote."""
    if now is None or last.fingerprint.digest != now.digest:
        return False
    return _held(con, source, table) == (last.rows, last.quality_issues)


def _held(con: duckdb.DuckDBPyConnection, source: str, table: str) -> tuple[int, int]:
    """The source's rows in core.<table> and its data-quality notes on them."""
    rows, issues = con.execute(
        f"SELECT (SELECT count(*) FROM core.{table} WHERE source = $source), "
        "(SELECT count(*) FROM scorecard.data_quality "
        "WHERE source = $source AND table_name = $table)",
        {"source": source, "table": table},
    ).fetchall()[0]
    return rows, issues


def _why(force: bool, last: StagedState | None, now: Fingerprint | None) -> str:
    if force:
        return "forced"
    if last is None:
        return "no fingerprint of an earlier staging"
    if now is None:
        return "an input that cannot be fingerprinted"
    changed = changed_inputs(last.fingerprint, now)
    return ("changed: " + ", ".join(changed)) if changed else "core no longer holds its rows"


def _restage(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    query: str,
    quality: str | None,
    query_file: Path,
) -> tuple[int, int]:
    """Replace the source's rows and data-quality notes (inside the caller's transaction)."""
    try:
        _write_differences(con, source, table, query)
    except duckdb.Error as exc:
        raise RuntimeError(
            f"staging {query_file.relative_to(STAGING_DIR.parent)} failed: {exc}"
        ) from exc
    con.execute(
        "DELETE FROM scorecard.data_quality WHERE source = ? AND table_name = ?",
        [source, table],
    )
    if quality:
        con.execute(
            "INSERT INTO scorecard.data_quality SELECT source, table_name, record_key, "
            f"field, problem, value, now() FROM ({quality})"
        )
    return _held(con, source, table)


def _write_differences(con: duckdb.DuckDBPyConnection, source: str, table: str, query: str) -> None:
    """Make the source's rows of core.<table> the query's rows, touching only those that differ.

    The rows are staged once in a temporary copy of the core table (same key, defaults and NOT
    NULL, so a query's duplicate key still fails here), compared with core by primary key, and
    only the gone, changed and added rows are written. A source with no rows in the table yet
    (its first staging) has nothing to compare: its rows are inserted as they come."""
    held = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM core.{table} WHERE source = ? LIMIT 1)", [source]
    ).fetchall()[0][0]
    if not held:
        con.execute(f"INSERT INTO core.{table} BY NAME ({query})")
        return
    ddl, key, columns = _core_table(con, table)
    create = f"CREATE TABLE core.{table}("
    if not ddl.startswith(create):
        raise RuntimeError(f"core.{table} is declared in an unexpected form: {ddl[:80]}")
    con.execute("CREATE OR REPLACE TEMP TABLE staged_rows(" + ddl.removeprefix(create))
    con.execute(f"INSERT INTO staged_rows BY NAME ({query})")
    fields = {
        "table": table,
        "key": ", ".join(key),
        "assignments": ", ".join(f"{c} = staged.{c}" for c in columns if c not in key),
        "held_is_staged": " AND ".join(f"held.{c} = staged.{c}" for c in key),
    }
    for step in RESTAGE_STEPS:
        sql = (RESTAGE_DIR / f"{step}.sql").read_text(encoding="utf-8").format(**fields)
        con.execute(sql, {"source": source} if "$source" in sql else None)
    con.execute("DROP TABLE staged_rows; DROP TABLE restage_differences")


def _core_table(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, list[str], list[str]]:
    """The core table's CREATE statement, primary key and columns (quoted), from the catalog."""
    ddl, key = con.execute(
        "SELECT t.sql, c.constraint_column_names FROM duckdb_tables() AS t "
        "JOIN duckdb_constraints() AS c USING (schema_name, table_name) "
        "WHERE schema_name = 'core' AND table_name = ? AND c.constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchall()[0]
    columns = con.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE schema_name = 'core' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return ddl, [_quoted(c) for c in key], [_quoted(c) for (c,) in columns]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _log_first_issues(con: duckdb.DuckDBPyConnection, source: str, table: str, issues: int) -> None:
    """Name the first questioned records in the run's log, so a typo is found without SQL."""
    first = con.execute(
        "SELECT record_key, field, problem, value FROM scorecard.data_quality "
        "WHERE source = ? AND table_name = ? ORDER BY record_key, field LIMIT ?",
        [source, table, LOGGED_ISSUES],
    ).fetchall()
    for key, field, problem, value in first:
        log.warning("%s: %s, field %s: %s (value %r)", source, key, field, problem, value)
    if issues > len(first):
        log.warning("%s: %d more in scorecard.data_quality", source, issues - len(first))
