"""Raw landing: one page of records and its cursor are merged in one transaction.

A crash between pages therefore leaves the pages before it stored with a cursor that points just
past them; re-reading a page replaces records by primary key (latest version wins), so nothing is
lost or duplicated. A page may also say which stored records are gone (connectors/removals.py):
those removals commit in the same transaction as the page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.base import Page, Record, Stream
from connectors.removals import DeletionLog, WindowPage
from warehouse.transaction import transaction

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
SQL_DIR = Path(__file__).parent / "sql"


@dataclass(frozen=True)
class LandingResult:
    received: int
    stored: int
    removed: int = 0


def raw_table(source: str, stream: str) -> str:
    name = f"{source}_{stream}"
    if not _IDENTIFIER.match(name):
        raise ValueError(f"raw table name {name!r} must be lower-case letters, digits and _")
    return f"raw.{name}"


def create_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Every raw table has this shape: the record as received plus its key and version."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " record_key VARCHAR PRIMARY KEY, record_version VARCHAR NOT NULL, record JSON NOT NULL,"
        " loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR)"
    )


def ensure_raw_table(con: duckdb.DuckDBPyConnection, source: str, stream: str) -> str:
    table = raw_table(source, stream)
    create_raw_table(con, table)
    return table


def landing_sql(name: str, **tables: str) -> str:
    """A statement of warehouse/sql/, with its (already validated) table names filled in."""
    return (SQL_DIR / f"{name}.sql").read_text().format(**tables)


def read_cursor(con: duckdb.DuckDBPyConnection, source: str, stream: str) -> str | None:
    rows = con.execute(
        "SELECT cursor_value FROM meta.cursors WHERE source = ? AND stream = ?", [source, stream]
    ).fetchall()
    return rows[0][0] if rows else None


def reset_cursor(con: duckdb.DuckDBPyConnection, source: str, stream: str) -> None:
    """Forget the cursor so the next read is a full refresh; stored records stay until replaced."""
    con.execute("DELETE FROM meta.cursors WHERE source = ? AND stream = ?", [source, stream])


def land_page(
    con: duckdb.DuckDBPyConnection,
    source: str,
    stream: Stream,
    page: Page,
    run_id: str | None = None,
    read_keys: str | None = None,
) -> LandingResult:
    """Merge a page by primary key, apply what it says is gone, and advance the cursor, atomically.

    `read_keys` names a table that collects every key read (a full refresh sweeps the rest).
    """
    table = ensure_raw_table(con, source, stream.name)
    keyed = [(stream.key(r), stream.version(r), r) for r in page.records]
    missing = [r for key, _, r in keyed if not key]
    if missing:
        raise ValueError(
            f"{source}.{stream.name}: record without primary key {stream.primary_key!r}: "
            f"{json.dumps(missing[0])[:200]}"
        )
    batch = pa.table(
        {
            "record_key": pa.array([k for k, _, _ in keyed], pa.string()),
            "record_version": pa.array([v for _, v, _ in keyed], pa.string()),
            "record": pa.array([_json_text(r) for _, _, r in keyed], pa.string()),
        }
    )
    deletions = _deletions(source, stream, page)
    removed = 0
    with transaction(con):
        con.register("landing_batch", batch)
        try:
            if isinstance(page, WindowPage):
                start, end = page.window
                removed += _count(
                    con.execute(
                        landing_sql("replace_window", raw_table=table),
                        {"window_start": start, "window_end": end},
                    )
                )
            stored = _count(
                con.execute(landing_sql("merge_page", raw_table=table), {"run_id": run_id})
            )
            if read_keys:
                con.execute(f"INSERT INTO {read_keys} SELECT record_key FROM landing_batch")
        finally:
            con.unregister("landing_batch")
        if deletions is not None:
            removed += _apply_deletions(con, source, deletions)
        if page.cursor is not None:
            con.execute(
                """
                INSERT INTO meta.cursors VALUES (?, ?, ?, ?, now(), ?)
                ON CONFLICT (source, stream) DO UPDATE
                    SET cursor_value = excluded.cursor_value,
                        records = meta.cursors.records + excluded.records,
                        updated_at = excluded.updated_at, run_id = excluded.run_id
                """,
                [source, stream.name, page.cursor, len(keyed), run_id],
            )
    return LandingResult(received=len(keyed), stored=stored, removed=removed)


def _json_text(record: Record) -> str:
    """The record as JSON DuckDB accepts: a lone UTF-16 surrogate (valid in a JSON escape, not
    in UTF-8) would fail the whole page, so it becomes U+FFFD, as any UTF-8 decoder shows it."""
    text = json.dumps(record, separators=(",", ":"))
    if "\\ud" not in text:  # no astral character and no surrogate: the common case
        return text
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _count(result: duckdb.DuckDBPyConnection) -> int:
    rows = result.fetchall()
    return rows[0][0] if rows else 0


def _deletions(source: str, stream: Stream, page: Page) -> pa.Table | None:
    """The (stream, record_key, deleted_at) entries of a deletion log's page, checked."""
    if not isinstance(stream, DeletionLog):
        return None
    entries = [stream.deletion(r) for r in page.records]
    for entry in entries:
        if not entry.key or not entry.deleted_at:
            raise ValueError(
                f"{source}.{stream.name}: deletion entry without the deleted record's key or "
                f"time: {entry!r}"
            )
        raw_table(source, entry.stream)  # refuses a name that cannot be a raw table
    return pa.table(
        {
            "stream": pa.array([e.stream for e in entries], pa.string()),
            "record_key": pa.array([e.key for e in entries], pa.string()),
            "deleted_at": pa.array([e.deleted_at for e in entries], pa.string()),
        }
    )


def _apply_deletions(con: duckdb.DuckDBPyConnection, source: str, deletions: pa.Table) -> int:
    removed = 0
    con.register("reported_deletions", deletions)
    try:
        for stream in sorted(set(deletions.column("stream").to_pylist())):
            table = ensure_raw_table(con, source, stream)
            removed += _count(
                con.execute(landing_sql("apply_deletions", raw_table=table), {"stream": stream})
            )
    finally:
        con.unregister("reported_deletions")
    return removed
