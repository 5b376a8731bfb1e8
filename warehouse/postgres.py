"""Publish the bi views and scorecard tables to PostgreSQL, for BI tools that cannot open a file.

Each publish loads into fresh schemas, then swaps them for the live ones in one transaction that
first locks the live tables: a reader's statement sees the old publish or the new one, never a mix,
and never a half-loaded table. The old schemas are dropped afterwards. The publisher's lock waits
are short and retried, so in a deadlock with a reader it is the publisher that backs off. Data
moves by COPY (a CSV stream written by DuckDB), not row INSERTs. The role named by
SCORECARD_PUBLISH_READER gets SELECT and nothing else; it is created (NOLOGIN, a group role) when
missing, so that an administrator only has to grant it to the login roles of BI tools.

The URL's password never reaches a log line, metadata or error: only `safe_url` is shown.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import sqlalchemy as sa
from psycopg import sql

from warehouse.bi_views import BI_VIEWS

log = logging.getLogger(__name__)

DEFAULT_READER = "scorecard_reader"
PUBLISHED_SCHEMAS = ("bi", "scorecard")
# The publisher gives way to readers: its lock waits end before PostgreSQL's deadlock check
# (deadlock_timeout, 1 s by default) could pick a reader as the victim; then it tries again.
LOCK_ATTEMPTS = 40
LOCK_TIMEOUT = "500ms"
COPY_CHUNK_BYTES = 1 << 20

# DuckDB type (prefix) -> PostgreSQL type; anything else travels as text.
PG_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
    "JSON": "jsonb",
}


class PostgresPublishError(RuntimeError):
    """Publishing to PostgreSQL failed; the message names the database without its password."""


@dataclass(frozen=True)
class PostgresPublishResult:
    url: str
    tables: int
    rows: int
    seconds: float


def safe_url(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def reader_role() -> str:
    return os.environ.get("SCORECARD_PUBLISH_READER") or DEFAULT_READER


def publish_to_postgres(
    published_file: Path, url: str, reader: str = DEFAULT_READER
) -> PostgresPublishResult:
    """Copy the published file's bi views and scorecard tables into PostgreSQL, atomically."""
    started = time.monotonic()
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        # The parser's message may repeat the whole URL, password included.
        raise PostgresPublishError("SCORECARD_PUBLISH_URL is not a valid database URL") from None
    password = parsed.password
    engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
    suffix = f"{os.getpid()}_{int(time.time() * 1000)}"
    try:
        with duckdb.connect(str(published_file), read_only=True) as source:
            source.execute("SET TimeZone = 'UTC'")
            tables = _tables_to_publish(source)
            with engine.connect() as connection:
                pg = connection.connection.driver_connection
                pg.autocommit = False
                _ensure_reader(pg, reader)
                _drop_leftovers(pg)
                rows = _load(source, pg, tables, suffix, reader)
                _swap(pg, suffix, tables)
                _drop_old(pg, suffix)
    except (sa.exc.SQLAlchemyError, psycopg.Error, duckdb.Error) as exc:
        message = str(exc).replace(password, "***") if password else str(exc)
        raise PostgresPublishError(
            f"publishing to PostgreSQL at {safe_url(url)} failed: {message}"
        ) from None
    finally:
        engine.dispose()
    return PostgresPublishResult(safe_url(url), len(tables), rows, time.monotonic() - started)


def _tables_to_publish(source: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    scorecard = source.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'scorecard' ORDER BY table_name"
    ).fetchall()
    return [("bi", view) for view in BI_VIEWS] + [("scorecard", t) for (t,) in scorecard]


def _ensure_reader(pg: psycopg.Connection, reader: str) -> None:
    with pg.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [reader])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(reader)))
    pg.commit()


def _load(
    source: duckdb.DuckDBPyConnection,
    pg: psycopg.Connection,
    tables: list[tuple[str, str]],
    suffix: str,
    reader: str,
) -> int:
    """Create the loading schemas, fill them by COPY and grant the reader; commit when all is in."""
    rows = 0
    with pg.cursor() as cur, tempfile.TemporaryDirectory(prefix="pg-publish-") as scratch:
        for schema in PUBLISHED_SCHEMAS:
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(_loading(schema, suffix)))
        for schema, table in tables:
            columns = source.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
                "ORDER BY column_index",
                [schema, table],
            ).fetchall()
            target = sql.SQL("{}.{}").format(_loading(schema, suffix), sql.Identifier(table))
            cur.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    target,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_pg_type(kind)))
                        for name, kind in columns
                    ),
                )
            )
            csv_file = Path(scratch) / f"{schema}.{table}.csv"
            source.execute(
                f'COPY (SELECT * FROM "{schema}"."{table}") '
                f"TO '{csv_file}' (FORMAT csv, HEADER false)"
            )
            with (
                cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)) as copy,
                open(csv_file, "rb") as data,
            ):
                while chunk := data.read(COPY_CHUNK_BYTES):
                    copy.write(chunk)
            rows += cur.rowcount if cur.rowcount > 0 else 0
            csv_file.unlink()
        for schema in PUBLISHED_SCHEMAS:
            loading = _loading(schema, suffix)
            role = sql.Identifier(reader)
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(loading, role))
            cur.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(loading, role)
            )
    pg.commit()
    return rows


def _swap(pg: psycopg.Connection, suffix: str, tables: list[tuple[str, str]]) -> None:
    """Rename loading schemas over the live ones in one transaction, after locking the live tables.

    The lock waits for statements reading the old tables to finish; a statement that queued behind
    it resolves its table names again once the swap commits, so it reads the new publish whole.
    Tables are locked in name order (the order a reader joining them alphabetically takes); a
    deadlock or lock timeout rolls the swap back and it is tried again.
    """
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            with pg.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                live = _live_tables(cur)
                if live:
                    cur.execute(
                        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                            sql.SQL(", ").join(
                                sql.SQL("{}.{}").format(sql.Identifier(s), sql.Identifier(t))
                                for s, t in live
                            )
                        )
                    )
                cur.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                    [list(PUBLISHED_SCHEMAS)],
                )
                existing = {name for (name,) in cur.fetchall()}
                for schema in PUBLISHED_SCHEMAS:
                    if schema in existing:
                        cur.execute(
                            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                                sql.Identifier(schema), _retired(schema, suffix)
                            )
                        )
                    cur.execute(
                        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                            _loading(schema, suffix), sql.Identifier(schema)
                        )
                    )
            pg.commit()
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            pg.rollback()
            if attempt == LOCK_ATTEMPTS:
                raise
            time.sleep(0.1)


def _live_tables(cur: psycopg.Cursor) -> list[tuple[str, str]]:
    cur.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2",
        [list(PUBLISHED_SCHEMAS)],
    )
    return cur.fetchall()


def _drop_old(pg: psycopg.Connection, suffix: str) -> None:
    """Drop the retired schemas once their last readers finish; a later publish retries if not."""
    for _ in range(LOCK_ATTEMPTS):
        try:
            with pg.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                for schema in PUBLISHED_SCHEMAS:
                    cur.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(_retired(schema, suffix))
                    )
            pg.commit()
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            pg.rollback()
            time.sleep(0.1)
    log.warning("old published schemas still in use; the next publish drops them")


def _drop_leftovers(pg: psycopg.Connection) -> None:
    """Schemas a crashed or interrupted publish left behind (one publish runs at a time)."""
    with pg.cursor() as cur:
        cur.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname ~ %s",
            [f"^({'|'.join(PUBLISHED_SCHEMAS)})__(loading|retired)_[0-9_]+$"],
        )
        for (schema,) in cur.fetchall():
            cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    pg.commit()


def _loading(schema: str, suffix: str) -> sql.Identifier:
    return sql.Identifier(f"{schema}__loading_{suffix}")


def _retired(schema: str, suffix: str) -> sql.Identifier:
    return sql.Identifier(f"{schema}__retired_{suffix}")


def _pg_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    return PG_TYPES.get(duckdb_type, "text")
