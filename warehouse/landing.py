"""Raw landing: one page of records and its cursor are merged in one transaction.

A crash between pages therefore leaves the pages before it stored with a cursor that points just
past them; re-reading a page replaces records by primary key (latest version wins), so nothing is
lost or duplicated.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from connectors.base import Page, Stream

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class LandingResult:
    received: int
    stored: int


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
) -> LandingResult:
    """Merge a page by primary key and advance the cursor, atomically."""
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
            "record_key": [k for k, _, _ in keyed],
            "record_version": [v for _, v, _ in keyed],
            "record": [json.dumps(r, separators=(",", ":")) for _, _, r in keyed],
        }
    )
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("landing_batch", batch)
        stored = con.execute(
            f"""
            INSERT INTO {table}
            SELECT record_key, record_version, record::JSON, now(), ?
            FROM landing_batch
            QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY record_version DESC) = 1
            ON CONFLICT (record_key) DO UPDATE
                SET record_version = excluded.record_version, record = excluded.record,
                    loaded_at = excluded.loaded_at, run_id = excluded.run_id
                WHERE excluded.record_version > record_version
                   OR (excluded.record_version = record_version AND excluded.record <> record)
            """,
            [run_id],
        ).fetchall()[0][0]
        con.unregister("landing_batch")
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
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LandingResult(received=len(keyed), stored=stored)
