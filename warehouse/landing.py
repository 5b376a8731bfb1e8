"""Raw landing: one page of records and its cursor are appended in one transaction.

Each stream's records land append-only in raw_versions.<source>_<stream>, and raw.<source>_<stream>
is a view of each record's current version (latest version wins whatever the page order), so a
page costs the page, not the table, however large the table grows. A crash between pages leaves
the pages before it stored with a cursor that points just past them; re-reading a page appends
nothing, so nothing is lost or duplicated. A page may also say which stored records are gone
(connectors/removals.py): those removals are appended in the same transaction as the page.
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import ListedPage, Page, Record, Stream
from connectors.removals import Deletion, DeletionLog, GonePage, RestoredPage, WindowPage
from warehouse.transaction import transaction

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# A JSON escape of a UTF-16 surrogate, in either case.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
SQL_DIR = Path(__file__).parent / "sql"
# What every reader of raw.<source>_<stream> sees, before and after append-only landing.
RAW_COLUMNS = ("record_key", "record_version", "record", "loaded_at", "run_id")
# Raw views each connection has seen in place: a page then skips the catalog lookup.
_VIEWS_SEEN: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, set[str]] = (
    weakref.WeakKeyDictionary()
)


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


def versions_table(table: str) -> str:
    """Where the versions behind the raw view `table` (raw.<name>) are appended."""
    return "raw_versions." + table.removeprefix("raw.")


def create_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Every raw table reads as this shape: the record as received plus its key and version.

    A raw table from before migration 009 is converted here, rows kept, in one transaction; a
    raw table of another shape (a file source's own) is left alone.
    """
    seen = _VIEWS_SEEN.setdefault(con, set())
    if table in seen:
        return
    name = table.removeprefix("raw.")
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'raw' AND table_name = ?",
        [name],
    ).fetchall()
    if kind and kind[0][0] == "VIEW":
        seen.add(table)
        return
    tables = {"raw_table": table, "versions_table": versions_table(table)}
    if not kind:
        con.execute(landing_sql("raw_versions_table", **tables))
        con.execute(landing_sql("raw_current_view", **tables))
    elif _has_landing_shape(con, name):
        with transaction(con):
            con.execute(landing_sql("raw_versions_table", **tables))
            con.execute(landing_sql("convert_raw_table", **tables))
            con.execute(landing_sql("raw_current_view", **tables))


def _has_landing_shape(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    columns = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
        "current_database() AND table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    return tuple(c[0] for c in columns) == RAW_COLUMNS


def ensure_raw_table(con: duckdb.DuckDBPyConnection, source: str, stream: str) -> str:
    table = raw_table(source, stream)
    create_raw_table(con, table)
    return table


def landing_sql(name: str, **tables: str) -> str:
    """A statement of warehouse/sql/, with its (already validated) table names filled in."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").format(**tables)


def compact_raw_table(
    con: duckdb.DuckDBPyConnection, source: str, stream: str, slack: float = 1.0
) -> int:
    """Drop the versions no reader sees once they outnumber `slack` x the current records.

    Appending keeps superseded versions and removals; compacting them now and then keeps reads of
    the view and the versions table close to the records' own size. Returns the rows dropped.
    Then the stream's pages still in the write-ahead log (up to store.CHECKPOINT_THRESHOLD) are
    written into the file, so the stream's load time includes them.
    """
    table = ensure_raw_table(con, source, stream)
    versions = versions_table(table)
    # An estimate of the records' count is enough to decide, and costs one pass over the keys.
    stored, current = con.execute(
        f"SELECT count(*), approx_count_distinct(record_key) FROM {versions}"
    ).fetchall()[0]
    dropped = 0
    if stored - current > slack * max(current, 10_000):
        with transaction(con):
            dropped = _count(con.execute(landing_sql("compact_versions", versions_table=versions)))
    con.execute("CHECKPOINT")
    return dropped


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
    tables = {"raw_table": table, "versions_table": versions_table(table)}
    keyed = [(stream.key(r), stream.version(r), r) for r in page.records]
    if isinstance(page, RestoredPage):
        keyed = [(k, page.version_of(k, v), r) for k, v, r in keyed]
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
            "record": _record_texts(con, page),
            # A record the page holds twice with one version (a list and a re-read in the same
            # second) keeps its later copy.
            "ordinal": pa.array(range(len(keyed)), pa.int64()),
        }
    )
    deletions = _deletions(source, stream, page)
    if deletions is not None:
        for deleted_from in set(deletions.column("stream").to_pylist()):
            ensure_raw_table(con, source, deleted_from)
    removed = 0
    with transaction(con):
        con.register("landing_batch", batch)
        try:
            if isinstance(page, WindowPage):
                start, end = page.window
                removed += _count(
                    con.execute(
                        landing_sql("replace_window", **tables),
                        {"window_start": start, "window_end": end, "run_id": run_id},
                    )
                )
            if read_keys:
                # A full refresh trusts what the source returns now: a record deleted and then
                # restored with its old version (an XML import) comes back, whatever removal its
                # deletion left, which would otherwise outrank it for ever.
                con.execute(
                    f"DELETE FROM {tables['versions_table']} "
                    "WHERE removed AND record_key IN (SELECT record_key FROM landing_batch)"
                )
            oldest = min((v for _, v, _ in keyed), default="")
            landed_after = (
                _last_landing(con, tables["versions_table"]) if deletions is not None else 0
            )
            stored = _count(
                con.execute(
                    landing_sql("merge_page", **tables),
                    {"run_id": run_id, "oldest_version": oldest, "full_refresh": bool(read_keys)},
                )
            )
            if read_keys:
                con.execute(f"INSERT INTO {read_keys} SELECT record_key FROM landing_batch")
            if stream.refresh_every:
                con.execute(
                    landing_sql("clear_refresh_misses"), {"source": source, "stream": stream.name}
                )
        finally:
            con.unregister("landing_batch")
        if deletions is not None:
            # Only entries stored just now: one read again (the cursor's overlap) was applied
            # when it landed, and applied again it would remove a record restored since.
            new = con.execute(
                f"SELECT record_key FROM {tables['versions_table']} WHERE landing_seq > ?",
                [landed_after],
            ).fetchall()
            fresh = deletions.filter(
                pc.is_in(deletions.column("entry_key"), pa.array([k for (k,) in new], pa.string()))
            )
            removed += _apply_deletions(con, source, fresh, run_id)
        if isinstance(page, GonePage) and page.gone:
            removed += _apply_deletions(con, source, _gone(source, stream, page.gone), run_id)
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


def _record_texts(con: duckdb.DuckDBPyConnection, page: Page) -> pa.Array | pa.ChunkedArray:
    """Each record's JSON: cut out of the answer it arrived in when there is one, which costs
    DuckDB a fraction of what encoding the decoded records again costs Python."""
    # A UTF-16 surrogate escape (either case) goes the Python way: DuckDB refuses a lone one.
    if isinstance(page, ListedPage) and not SURROGATE_ESCAPE.search(page.answer):
        texts = (
            con.sql(
                landing_sql("listed_records"),
                params={"answer": page.answer, "path": f"{page.path}[*]", "first": page.first + 1},
            )
            .to_arrow_table()
            .column("record")
        )
        if len(texts) == len(page.records):
            return texts
    return pa.array([_json_text(r) for r in page.records], pa.string())


def _json_text(record: Record) -> str:
    """The record as JSON DuckDB accepts: a lone UTF-16 surrogate (valid in a JSON escape, not
    in UTF-8) would fail the whole page, so it becomes U+FFFD, as any UTF-8 decoder shows it."""
    text = json.dumps(record, separators=(",", ":"))
    if "\\ud" not in text:  # no astral character and no surrogate: the common case
        return text
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _last_landing(con: duckdb.DuckDBPyConnection, versions: str) -> int:
    return con.execute(f"SELECT coalesce(max(landing_seq), 0) FROM {versions}").fetchall()[0][0]


def _count(result: duckdb.DuckDBPyConnection) -> int:
    rows = result.fetchall()
    return rows[0][0] if rows else 0


def _deletions(source: str, stream: Stream, page: Page) -> pa.Table | None:
    """The (entry_key, stream, record_key, deleted_at) entries of a deletion log's page, checked."""
    if not isinstance(stream, DeletionLog):
        return None
    entries = [stream.deletion(r) for r in page.records]
    return _deletion_table(source, stream, entries, [stream.key(r) for r in page.records])


def _gone(source: str, stream: Stream, gone: list[Deletion]) -> pa.Table:
    """A GonePage's records found deleted, as deletion entries of the page's own stream."""
    for entry in gone:
        if entry.stream != stream.name:
            raise ValueError(
                f"{source}.{stream.name}: a page may only name its own stream's records as "
                f"gone, not {entry!r}"
            )
    return _deletion_table(source, stream, gone, [entry.key for entry in gone])


def _deletion_table(
    source: str, stream: Stream, entries: list[Deletion], entry_keys: list[str]
) -> pa.Table:
    for entry in entries:
        if not entry.key or not entry.deleted_at:
            raise ValueError(
                f"{source}.{stream.name}: deletion entry without the deleted record's key or "
                f"time: {entry!r}"
            )
        raw_table(source, entry.stream)  # refuses a name that cannot be a raw table
    return pa.table(
        {
            "entry_key": pa.array(entry_keys, pa.string()),
            "stream": pa.array([e.stream for e in entries], pa.string()),
            "record_key": pa.array([e.key for e in entries], pa.string()),
            "deleted_at": pa.array([e.deleted_at for e in entries], pa.string()),
        }
    )


def _apply_deletions(
    con: duckdb.DuckDBPyConnection, source: str, deletions: pa.Table, run_id: str | None
) -> int:
    removed = 0
    con.register("reported_deletions", deletions)
    try:
        for stream in sorted(set(deletions.column("stream").to_pylist())):
            table = raw_table(source, stream)
            removed += _count(
                con.execute(
                    landing_sql(
                        "apply_deletions", raw_table=table, versions_table=versions_table(table)
                    ),
                    {"stream": stream, "run_id": run_id},
                )
            )
    finally:
        con.unregister("reported_deletions")
    return removed
