"""Stage raw records into the canonical core.* tables, one source at a time.

A staging query is transforms/staging/<source>/<core_table>.sql (one SELECT of core columns); an
optional <core_table>.quality.sql lists the records it had to question. Restaging replaces the
source's rows in one transaction, so core never holds half of a source. Raw tables are the
generic JSON records of warehouse/landing.py, unless the source declares its own in
<source>/_raw.sql (file sources landing rows keyed by file and row). Macros one source's queries
share sit beside them in <source>/_macros.sql; macros.sql holds those of several sources.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.landing import create_raw_table
from warehouse.transaction import transaction

log = logging.getLogger(__name__)

STAGING_DIR = Path(__file__).parent / "staging"
# Questioned records named in the log per staged table; scorecard.data_quality holds them all.
LOGGED_ISSUES = 10
MACROS = STAGING_DIR / "macros.sql"
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
    has created yet, so a source with nothing in one table still stages the others."""
    con.execute(MACROS.read_text())
    for own in (raw_tables_sql(source), source_macros_sql(source)) if source else ():
        if own.exists():
            con.execute(own.read_text())
    for name in sorted(set(re.findall(r"\braw\.([a-z][a-z0-9_]*)", sql))):
        create_raw_table(con, f"raw.{name}")


def stage(con: duckdb.DuckDBPyConnection, source: str, table: str) -> StageResult:
    query_file = STAGING_DIR / source / f"{table}.sql"
    quality_file = STAGING_DIR / source / f"{table}.quality.sql"
    query = query_file.read_text()
    quality = quality_file.read_text() if quality_file.exists() else None
    prepare(con, query + (quality or ""), source)
    with transaction(con):
        con.execute(f"DELETE FROM core.{table} WHERE source = ?", [source])
        try:
            con.execute(f"INSERT INTO core.{table} BY NAME ({query})")
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
        rows = con.execute(
            f"SELECT count(*) FROM core.{table} WHERE source = ?", [source]
        ).fetchall()[0][0]
        issues = con.execute(
            "SELECT count(*) FROM scorecard.data_quality WHERE source = ? AND table_name = ?",
            [source, table],
        ).fetchall()[0][0]
    log.info("%s -> core.%s: %d rows, %d data-quality issues", source, table, rows, issues)
    if issues:
        _log_first_issues(con, source, table, issues)
    return StageResult(source, table, rows, issues)


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
