"""Publish the bi views and scorecard tables to PostgreSQL, for BI tools that cannot open a file.

Each publish loads into fresh schemas, then swaps them for the live ones in one transaction that
first locks the live tables: a reader's statement sees the old publish or the new one, never a mix,
and never a half-loaded table. The old schemas are dropped afterwards. The publisher's lock waits
are short and retried, so in a deadlock with a reader it is the publisher that backs off; it keeps
trying for SCORECARD_PUBLISH_LOCK_WAIT seconds, then names the sessions holding the live tables and
removes what it loaded. Data moves by COPY (a CSV stream written by DuckDB), not row INSERTs; the
descriptions of tables and columns travel as COMMENTs. The role named by SCORECARD_PUBLISH_READER
gets SELECT and nothing else; it is created (NOLOGIN, a group role) when missing, so that an
administrator only has to grant it to the login roles of BI tools.

One publish to a database runs at a time: a second waits for the first (an advisory lock), up to
SCORECARD_PUBLISH_LOCK_WAIT seconds. The URL's password never reaches a log line, metadata or
error: only `safe_url` is shown.

No statement of a publish waits for good: the server cancels one that runs, and ends the session
when it idles in a transaction, for longer than SCORECARD_PUBLISH_STATEMENT_TIMEOUT seconds; a
server that cannot (a frozen backend, a stalled proxy whose connection stays up) is cut off by the
client a little later. Either way the transaction is rolled back, the live schemas stay as they
were, and the error names the step that stalled.
"""

from __future__ import annotations

import codecs
import logging
import math
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import sqlalchemy as sa
from psycopg import sql

from connectors.secrets import MIN_SECRET_CHARS
from warehouse.bi_views import BI_VIEWS
from warehouse.publish import sql_string

log = logging.getLogger(__name__)

DEFAULT_READER = "scorecard_reader"
PUBLISHED_SCHEMAS = ("bi", "scorecard")
# warehouse/bi/_macros.sql's bi.period_last_day in PostgreSQL, so queries written against the
# DuckDB file run here too; in the loading schema, it moves with it.
PERIOD_LAST_DAY = """
CREATE FUNCTION {function}.period_last_day(grain text, period_start date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT (period_start + CASE grain
        WHEN 'week' THEN interval '7 days'
        WHEN 'month' THEN interval '1 month'
        ELSE interval '3 months'
    END - interval '1 day')::date
$$;
COMMENT ON FUNCTION {function}.period_last_day(text, date) IS
    'The last day of the period of grain (week, month, quarter) that starts on period_start.';
"""
# The comment on each schema a publish writes: a live schema without it (and none of the published
# tables) is someone else's, and a publish does not replace it.
SCHEMA_MARK = "Published by ITSM Scorecard; replaced whole by each publish."
# The publisher gives way to readers: its lock waits end before PostgreSQL's deadlock check
# (deadlock_timeout, 1 s by default) could pick a reader as the victim; then it tries again,
# until the lock wait (SCORECARD_PUBLISH_LOCK_WAIT seconds) has passed.
LOCK_TIMEOUT = "500ms"
LOCK_WAIT_VARIABLE = "SCORECARD_PUBLISH_LOCK_WAIT"
DEFAULT_LOCK_WAIT_SECONDS = 600.0
PROGRESS_EVERY_SECONDS = 30.0
# Dropping the replaced schemas only tidies up: a later publish drops what is left.
DROP_OLD_WAIT_SECONDS = 30.0
COPY_CHUNK_BYTES = 1 << 20
# Seconds to wait for the database to answer a connection (unless the URL sets connect_timeout).
CONNECT_TIMEOUT_SECONDS = 30
# The longest one statement of a publish may run, or its transaction idle between two (while DuckDB
# writes the next table's CSV): the COPY of the largest table takes minutes, so half an hour only
# ends a publish that has stopped. The server enforces it; when it cannot (its backend frozen),
# the client closes the connection once the same time and a grace (up to 30 s) have passed.
STATEMENT_TIMEOUT_VARIABLE = "SCORECARD_PUBLISH_STATEMENT_TIMEOUT"
PUBLISH_URL_VARIABLE = "SCORECARD_PUBLISH_URL"
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 1800.0
CLIENT_GRACE_SECONDS = 30.0
SWAP_STEP = "swapping the new schemas in for the live ones"
# The session-level advisory lock one publish to a database holds from start to end, so a second
# (another run, another warehouse) waits instead of dropping the first one's loading schemas as
# leftovers. PostgreSQL frees it when the session ends, a killed publisher's too.
PUBLISH_LOCK_KEY = 0x5C0_4EC4_2D

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


class _ForeignSchema(RuntimeError):
    """A live schema of a published name that no publish wrote: it is not replaced."""


class _LockWaitExpired(RuntimeError):
    """The live tables stayed in use for the whole lock wait; the message names their users."""


class _Watchdog:
    """Closes the connection when the server has not answered one exchange (a statement, a chunk
    of COPY data, a commit) within `seconds`: a frozen backend cannot act on its own
    statement_timeout, nor on a cancel request. Shutting the socket down wakes the waiting
    driver, which then fails as on a lost connection; the server rolls the transaction back."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._socket: int | None = None
        self._deadline: float | None = None
        self._stopped = False
        self._changed = threading.Condition()
        threading.Thread(target=self._watch, name="postgres publish watchdog", daemon=True).start()

    def arm(self, fileno: int) -> None:
        with self._changed:
            self._socket, self._deadline = fileno, time.monotonic() + self.seconds
            self._changed.notify()

    def disarm(self) -> None:
        with self._changed:
            self._deadline = None

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while not self._stopped:
                if self._deadline is None:
                    self._changed.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                self.expired, self._deadline = True, None
                try:
                    with socket.socket(fileno=os.dup(self._socket)) as connection:
                        connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed: nothing left to wait for


class _BoundedConnection(psycopg.Connection):
    """A connection whose every wait for the server is watched; `step` names the publish's
    current step for the error."""

    watchdog: _Watchdog | None = None
    step = "connecting"

    def wait(self, gen, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201  (psycopg's own)
        if self.watchdog is None:
            return super().wait(gen, *args, **kwargs)
        self.watchdog.arm(self.pgconn.socket)
        try:
            return super().wait(gen, *args, **kwargs)
        finally:
            self.watchdog.disarm()


@dataclass(frozen=True)
class PostgresPublishResult:
    url: str
    tables: int
    rows: int
    seconds: float


# libpq takes a password in the query string too (`?password=`), and a client key's passphrase.
SECRET_QUERY_KEYS = ("password", "sslpassword")


def safe_url(url: str) -> str:
    """The URL as logs and metadata may show it: every password replaced by ***."""
    parsed = sa.make_url(url)
    hidden = {key: "***" for key in parsed.query if key.lower() in SECRET_QUERY_KEYS}
    shown = parsed.update_query_dict(hidden).render_as_string(hide_password=True)
    return shown.replace("=%2A%2A%2A", "=***")


def _secrets(parsed: sa.URL) -> list[str]:
    """Every password the URL carries, to be blanked out of a driver's message, longest first.
    One shorter than MIN_SECRET_CHARS is left: blanking "0" or "o" wherever it occurs would make
    the message unreadable and show the password by what went missing ("127.***.***.1")."""
    values = [parsed.password] if parsed.password else []
    for key, value in parsed.query.items():
        if key.lower() in SECRET_QUERY_KEYS:
            values += [value] if isinstance(value, str) else list(value)
    return sorted((v for v in values if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True)


def _password_split_at_an_at_sign(url: str, parsed: sa.URL) -> bool:
    """Whether an @ left unencoded in the password split it: the first @ ends the user info, so
    the rest of the password would read as the host, database or a query key, and be shown (and
    looked up in DNS) as such. An @ is only at home in a query value (`?password=s3c@ret`)."""
    if "@" in (parsed.host or "") or "@" in (parsed.database or ""):
        return True
    in_query_values = sum(
        piece.partition("=")[2].count("@") for piece in url.partition("?")[2].split("&")
    )
    return url.count("@") - in_query_values > 1


def reader_role() -> str:
    return os.environ.get("SCORECARD_PUBLISH_READER") or DEFAULT_READER


def lock_wait_seconds(env: Mapping[str, str] = os.environ) -> float:
    """How long a publish waits for readers of the live tables: SCORECARD_PUBLISH_LOCK_WAIT."""
    return _seconds_setting(env, LOCK_WAIT_VARIABLE, DEFAULT_LOCK_WAIT_SECONDS)


def statement_timeout_seconds(env: Mapping[str, str] = os.environ) -> float:
    """How long one statement of a publish may take: SCORECARD_PUBLISH_STATEMENT_TIMEOUT."""
    return _seconds_setting(env, STATEMENT_TIMEOUT_VARIABLE, DEFAULT_STATEMENT_TIMEOUT_SECONDS)


def settings_problems(env: Mapping[str, str]) -> list[str]:
    """What a publish would refuse in its settings, for check-config and the run's first step:
    found there, not after the night's loads and KPIs. Messages never hold the password."""
    problems = []
    for check in (
        lambda: parsed_url(env.get(PUBLISH_URL_VARIABLE, "")),
        lambda: lock_wait_seconds(env),
        lambda: statement_timeout_seconds(env),
    ):
        try:
            check()
        except PostgresPublishError as exc:
            problems.append(str(exc))
    return problems


def publishing(env: Mapping[str, str] = os.environ) -> bool:
    """Whether SCORECARD_PUBLISH_URL asks for a publish: set to more than blanks (an empty
    secret file gives a line break, which is no URL)."""
    return bool(env.get(PUBLISH_URL_VARIABLE, "").strip())


def parsed_url(url: str) -> sa.URL:
    """SCORECARD_PUBLISH_URL parsed, or an error that does not repeat it."""
    # A secret mounted from a file often ends with a line break, which would end the database name.
    url = url.strip()
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        # The parser's message may repeat the whole URL, password included.
        raise PostgresPublishError("SCORECARD_PUBLISH_URL is not a valid database URL") from None
    if _password_split_at_an_at_sign(url, parsed):
        raise PostgresPublishError(
            "SCORECARD_PUBLISH_URL is not a valid database URL: an @ in the password must be "
            "written %40"
        )
    if parsed.get_backend_name() != "postgresql":
        raise PostgresPublishError(
            f"SCORECARD_PUBLISH_URL names a {parsed.get_backend_name()} database; only "
            "PostgreSQL (postgresql://...) is published to"
        )
    if problems := _option_problems(parsed.query):
        raise PostgresPublishError(
            "SCORECARD_PUBLISH_URL: " + "; ".join(f"{option}: {what}" for option, what in problems)
        )
    return parsed


# libpq's values of the connection options a publish URL commonly sets; libpq refuses others only
# when it connects, after the night's loads.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _option_problems(query: Mapping[str, str | tuple[str, ...]]) -> list[tuple[str, str]]:
    """The values of connect_timeout and sslmode libpq would refuse (other options pass: a host
    given twice is a multi-host URL)."""
    problems = []
    for option, given in query.items():
        for value in (given,) if isinstance(given, str) else given:
            if option == "connect_timeout" and not value.strip().lstrip("-").isdigit():
                problems.append((option, f"expected whole seconds, got {value!r}"))
            elif option == "sslmode" and value not in SSL_MODES:
                problems.append((option, f"expected one of {', '.join(SSL_MODES)}, got {value!r}"))
    return problems


def _seconds_setting(env: Mapping[str, str], variable: str, default: float) -> float:
    configured = env.get(variable, "").strip()
    if not configured:
        return default
    try:
        seconds = float(configured)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds < math.inf):
        raise PostgresPublishError(
            f"{variable} must be a number of seconds above 0, got {configured!r}"
        )
    return seconds


def publish_to_postgres(
    published_file: Path,
    url: str,
    reader: str = DEFAULT_READER,
    lock_wait: float | None = None,
    statement_timeout: float | None = None,
) -> PostgresPublishResult:
    """Copy the published file's bi views and scorecard tables into PostgreSQL, atomically.

    lock_wait: seconds to wait for another publish, and for readers of the live tables (default:
    lock_wait_seconds()). statement_timeout: seconds one statement may take (default:
    statement_timeout_seconds()).
    """
    started = time.monotonic()
    lock_wait = lock_wait_seconds() if lock_wait is None else lock_wait
    if statement_timeout is None:
        statement_timeout = statement_timeout_seconds()
    url = url.strip()
    parsed = parsed_url(url)
    secrets = _secrets(parsed)
    # A database that takes the connection and never answers (a tunnel whose far end is gone, a
    # stalled proxy) would hold the run for good: connecting gives up after a while, and a peer
    # that vanishes mid-publish is noticed by TCP keepalives. The URL's own settings win.
    bounds = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    engine = sa.create_engine(
        parsed.set(drivername="postgresql+psycopg"),
        connect_args={key: value for key, value in bounds.items() if key not in parsed.query},
    )
    watchdog = _Watchdog(statement_timeout + min(statement_timeout, CLIENT_GRACE_SECONDS))

    @sa.event.listens_for(engine, "do_connect")
    def connect(dialect, record, cargs, cparams):  # noqa: ANN001, ANN202, ARG001
        pg = _BoundedConnection.connect(*cargs, **cparams)
        pg.watchdog = watchdog
        return pg

    suffix = f"{os.getpid()}_{int(time.time() * 1000)}"
    pg: _BoundedConnection | None = None
    try:
        with duckdb.connect(str(published_file), read_only=True) as source:
            source.execute("SET TimeZone = 'UTC'")
            tables = _tables_to_publish(source)
            with engine.connect() as connection:
                pg = connection.connection.driver_connection
                pg.autocommit = False
                _bound_statements(pg, statement_timeout)
                _hold_publish_lock(pg, lock_wait)
                try:
                    _ensure_reader(pg, reader)
                    _drop_leftovers(pg)
                    _refuse_foreign_schemas(pg, tables)
                    try:
                        rows = _load(source, pg, tables, suffix, reader)
                        _swap(pg, suffix, lock_wait)
                    except BaseException:
                        _drop_loading(pg, suffix)
                        raise
                    _drop_old(pg, suffix)
                finally:
                    _release_publish_lock(pg)
                    if pg.closed:
                        # Lost (cut off, or ended by the server): the pool must not roll it back.
                        connection.invalidate()
    except (
        sa.exc.SQLAlchemyError,
        psycopg.Error,
        duckdb.Error,
        _LockWaitExpired,
        _ForeignSchema,
    ) as exc:
        message = str(exc)
        if pg is not None and _stalled(exc, watchdog):
            message = _stalled_message(pg.step, statement_timeout, watchdog)
        for secret in secrets:
            message = message.replace(secret, "***")
        raise PostgresPublishError(
            f"publishing to PostgreSQL at {safe_url(url)} failed: {message}"
        ) from None
    finally:
        watchdog.stop()
        engine.dispose()
    return PostgresPublishResult(safe_url(url), len(tables), rows, time.monotonic() - started)


def _bound_statements(pg: _BoundedConnection, seconds: float) -> None:
    """Have the server end a statement of this session that runs, or a transaction that idles,
    for longer than `seconds`."""
    milliseconds = str(max(1, round(seconds * 1000)))
    with pg.cursor() as cur:
        cur.execute(
            "SELECT set_config('statement_timeout', %s, false), "
            "set_config('idle_in_transaction_session_timeout', %s, false)",
            [milliseconds, milliseconds],
        )
    pg.commit()


def _stalled(exc: BaseException, watchdog: _Watchdog) -> bool:
    """Whether the publish failed because a step outlasted the statement timeout."""
    if watchdog.expired and isinstance(exc, (psycopg.OperationalError, sa.exc.DBAPIError)):
        return True
    if isinstance(exc, psycopg.errors.IdleInTransactionSessionTimeout):
        return True
    return isinstance(exc, psycopg.errors.QueryCanceled) and "statement timeout" in str(exc)


def _stalled_message(step: str, seconds: float, watchdog: _Watchdog) -> str:
    how = (
        f"the server did not answer for {watchdog.seconds:g} s while {step}, so the connection "
        "was closed"
        if watchdog.expired
        else f"{step} did not finish within {seconds:g} s"
    )
    outcome = (
        "If the swap's commit had reached the server, the new tables are live; otherwise"
        if step == SWAP_STEP
        else "The publish is rolled back and"
    )
    return (
        f"{how} ({STATEMENT_TIMEOUT_VARIABLE}={seconds:g}). {outcome} the tables published before "
        "stay as they were. Look for a session holding a lock on what the publish touches, or a "
        f"stalled server (pg_stat_activity), or raise {STATEMENT_TIMEOUT_VARIABLE} if that step "
        "needs longer, and publish again."
    )


def _tables_to_publish(source: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    scorecard = source.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'scorecard' ORDER BY table_name"
    ).fetchall()
    return [("bi", view) for view in BI_VIEWS] + [("scorecard", t) for (t,) in scorecard]


def _refuse_foreign_schemas(pg: psycopg.Connection, tables: list[tuple[str, str]]) -> None:
    """The swap drops the live schemas: refuse when one of them is not a publish's (someone's own
    schema `bi` in a shared database), rather than drop it with its data. A schema is a
    publish's when it carries SCHEMA_MARK, or (written by an earlier release, which did not mark
    it) holds a table a publish writes there; an empty one (created ahead) is replaced too."""
    pg.step = "reading the live schemas"
    with pg.cursor() as cur:
        cur.execute(
            "SELECT n.nspname, obj_description(n.oid, 'pg_namespace'), "
            "array(SELECT c.relname::text FROM pg_class AS c WHERE c.relnamespace = n.oid "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') ORDER BY 1), "
            "EXISTS (SELECT FROM pg_proc AS p WHERE p.pronamespace = n.oid) "
            "FROM pg_namespace AS n WHERE n.nspname = ANY(%s) ORDER BY 1",
            [list(PUBLISHED_SCHEMAS)],
        )
        live = cur.fetchall()
    pg.rollback()
    for schema, mark, relations, has_functions in live:
        ours = {table for published_schema, table in tables if published_schema == schema}
        if mark == SCHEMA_MARK or ours.intersection(relations):
            continue
        if relations or has_functions:
            held = ", ".join(relations[:5]) if relations else "functions"
            held += f" and {len(relations) - 5} more" if len(relations) > 5 else ""
            raise _ForeignSchema(
                f"schema {schema} holds none of the tables a publish writes there (it holds "
                f"{held}), so it is not replaced: rename it, or publish to another database"
            )


def _ensure_reader(pg: psycopg.Connection, reader: str) -> None:
    pg.step = f"creating the reader role {reader}"
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
    descriptions = dict(
        ((schema, name), comment)
        for schema, name, comment in source.execute(
            "SELECT schema_name, view_name, comment FROM duckdb_views() "
            "WHERE database_name = current_database() "
            "UNION ALL SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE database_name = current_database()"
        ).fetchall()
    )
    pg.step = "creating the loading schemas"
    server_encoding, codec = _copy_encoding(pg)
    with pg.cursor() as cur, tempfile.TemporaryDirectory(prefix="pg-publish-") as scratch:
        for schema in PUBLISHED_SCHEMAS:
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(_loading(schema, suffix)))
            cur.execute(
                sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                    _loading(schema, suffix), sql.Literal(SCHEMA_MARK)
                )
            )
        for schema, table in tables:
            pg.step = f"loading {schema}.{table}"
            columns = source.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() "
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
                        for name, kind, _ in columns
                    ),
                )
            )
            _describe(cur, target, descriptions.get((schema, table)), columns)
            csv_file = Path(scratch) / f"{schema}.{table}.csv"
            source.execute(
                f"COPY (SELECT {', '.join(_exported(name, kind) for name, kind, _ in columns)} "
                f"FROM {_duckdb_name(schema)}.{_duckdb_name(table)}) "
                f"TO {sql_string(csv_file)} (FORMAT csv, HEADER false)"
            )
            replaced = _copy_file(cur, target, csv_file, codec)
            if replaced:
                log.warning(
                    "%s.%s: %d characters have no equivalent in the database's encoding %s and "
                    "were replaced by ?",
                    schema,
                    table,
                    replaced,
                    server_encoding,
                )
            rows += cur.rowcount if cur.rowcount > 0 else 0
            csv_file.unlink()
        pg.step = "creating bi.period_last_day"
        cur.execute(sql.SQL(PERIOD_LAST_DAY).format(function=_loading("bi", suffix)))
        pg.step = f"granting SELECT to {reader}"
        for schema in PUBLISHED_SCHEMAS:
            loading = _loading(schema, suffix)
            role = sql.Identifier(reader)
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(loading, role))
            cur.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(loading, role)
            )
    pg.step = "committing the loaded tables"
    pg.commit()
    return rows


def _copy_encoding(pg: psycopg.Connection) -> tuple[str, str | None]:
    """The database's encoding, and the Python codec COPY data must be sent in (None: as DuckDB
    writes it, UTF-8). The session's client encoding otherwise follows the database's, and UTF-8
    bytes sent to a LATIN1 database would be stored as LATIN1 characters ("Zürich" as
    "ZÃ¼rich"). A UTF8 database, or an SQL_ASCII one (which stores bytes as they come), takes
    UTF-8; any other gets the data in its own encoding."""
    server = pg.info.parameter_status("server_encoding") or "UTF8"
    with pg.cursor() as cur:
        if server in ("UTF8", "SQL_ASCII"):
            cur.execute("SET client_encoding = 'UTF8'")
            return server, None
        cur.execute(sql.SQL("SET client_encoding = {}").format(sql.Literal(server)))
    return server, pg.info.encoding


def _copy_file(
    cur: psycopg.Cursor, target: sql.Composable, csv_file: Path, codec: str | None
) -> int:
    """Stream the CSV file into target by COPY, recoded to `codec` when given: a character the
    database's encoding has no equivalent for becomes '?' (one value changes, not the whole
    publish failing). Returns how many characters were replaced."""
    replaced = 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    with (
        cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(target)) as copy,
        open(csv_file, "rb") as data,
    ):
        while True:
            chunk = data.read(COPY_CHUNK_BYTES)
            if codec is None:
                if not chunk:
                    break
                copy.write(chunk)
                continue
            text = decoder.decode(chunk, final=not chunk)
            encoded = text.encode(codec, errors="replace")
            # A replaced character is a '?'; no encoding PostgreSQL serves uses that byte inside
            # a multi-byte character.
            replaced += encoded.count(b"?") - text.count("?")
            copy.write(encoded)
            if not chunk:
                break
    return replaced


def _describe(
    cur: psycopg.Cursor,
    target: sql.Composable,
    description: str | None,
    columns: list[tuple[str, str, str | None]],
) -> None:
    """Carry the DuckDB comments over: BI tools show them as table and field descriptions."""
    if description:
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(description)))
    for name, _, comment in columns:
        if comment:
            cur.execute(
                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    target, sql.Identifier(name), sql.Literal(comment)
                )
            )


def _exported(column: str, duckdb_type: str) -> str:
    """A column as the CSV carries it. PostgreSQL's text cannot hold U+0000 (COPY fails on the
    whole table), so it is left out of every value that travels as text. A list travels as an
    array literal, every item quoted and escaped, so a comma or quote in an item stays in it."""
    name = _duckdb_name(column)
    if _pg_type(duckdb_type).endswith("[]"):
        # Inside an array literal a backslash and a double quote are escaped by a backslash.
        text = "replace(CAST(item AS VARCHAR), chr(0), '')"
        escaped = rf"""replace(replace({text}, '\', '\\'), '"', '\"')"""
        quoted = f"CASE WHEN item IS NULL THEN 'NULL' ELSE '\"' || {escaped} || '\"' END"
        return (
            f"'{{' || array_to_string(list_transform({name}, lambda item: {quoted}), ',') || '}}' "
            f"AS {name}"
        )
    if _pg_type(duckdb_type) != "text":
        return name
    return f"replace(CAST({name} AS VARCHAR), chr(0), '') AS {name}"


def _duckdb_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _swap(pg: psycopg.Connection, suffix: str, lock_wait: float) -> None:
    """Rename loading schemas over the live ones in one transaction, after locking the live tables.

    The lock waits for statements reading the old tables to finish; a statement that queued behind
    it resolves its table names again once the swap commits, so it reads the new publish whole.
    Tables are locked in name order (the order a reader joining them alphabetically takes); a
    deadlock or lock timeout rolls the swap back and it is tried again, for lock_wait seconds.
    """
    pg.step = SWAP_STEP

    def rename(cur: psycopg.Cursor) -> None:
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
        views = _views_on_published_tables(cur)
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
        _move_views(cur, views)

    if not _retrying_lock_waits(pg, rename, _readers_of(pg, list(PUBLISHED_SCHEMAS)), lock_wait):
        holders = _holders(pg, list(PUBLISHED_SCHEMAS))
        raise _LockWaitExpired(
            f"the published tables stayed in use for the whole lock wait of {lock_wait:g} s "
            f"({LOCK_WAIT_VARIABLE}) by {_sessions(holders)}. The live schemas are unchanged; "
            f"end those sessions or allow a longer wait, and publish again."
        )


def _views_on_published_tables(cur: psycopg.Cursor) -> list[tuple[str, str, str, list[str]]]:
    """Views outside the published schemas that read their tables (an analyst's own), each as
    (qualified name, kind, definition, options such as security_barrier=true). The definitions
    are read with no schema on the search path, so they name each table with its schema, and so
    bind to the new tables when run again.
    """
    cur.execute("SET LOCAL search_path = pg_catalog")
    cur.execute(
        "SELECT format('%%I.%%I', vn.nspname, v.relname), v.relkind, pg_get_viewdef(v.oid), "
        "coalesce(v.reloptions, '{}') "
        "FROM pg_depend AS d "
        "JOIN pg_rewrite AS r ON r.oid = d.objid "
        "JOIN pg_class AS v ON v.oid = r.ev_class "
        "JOIN pg_namespace AS vn ON vn.oid = v.relnamespace "
        "JOIN pg_class AS t ON t.oid = d.refobjid "
        "JOIN pg_namespace AS tn ON tn.oid = t.relnamespace "
        "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND tn.nspname = ANY(%s) AND NOT vn.nspname = ANY(%s) AND v.oid <> t.oid "
        "GROUP BY v.oid, vn.nspname, v.relname, v.relkind, v.reloptions ORDER BY v.oid",
        [list(PUBLISHED_SCHEMAS), list(PUBLISHED_SCHEMAS)],
    )
    return cur.fetchall()


def _move_views(cur: psycopg.Cursor, views: list[tuple[str, str, str, list[str]]]) -> None:
    """Point each view onto the tables just swapped in, in place, so it keeps its owner, grants,
    comments, options (a security barrier, security_invoker, a check option: CREATE OR REPLACE
    would reset them) and the views built on it; otherwise dropping the old tables would drop it
    too. A view the new tables cannot answer (a column gone) is named in the log, and goes with
    them. A lock wait is not such a failure: it rolls the whole swap back, to be tried again."""
    for name, kind, definition, options in views:
        problem = "a materialized view cannot be redefined in place" if kind == "m" else None
        if problem is None:
            cur.execute("SAVEPOINT move_view")
            try:
                cur.execute(
                    sql.SQL("CREATE OR REPLACE VIEW {} {} AS {}").format(
                        sql.SQL(name),
                        _view_options(options),
                        sql.SQL(definition.rstrip().rstrip(";")),
                    )
                )
                cur.execute("RELEASE SAVEPOINT move_view")
                continue
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
                raise
            except psycopg.Error as exc:
                cur.execute("ROLLBACK TO SAVEPOINT move_view")
                problem = str(exc).strip().splitlines()[0]
        log.warning(
            "view %s could not be moved onto the new published tables and is dropped with the "
            "old ones (%s); create it again on the new tables",
            name,
            problem,
        )


def _view_options(options: list[str]) -> sql.Composable:
    """A view's options (pg_class.reloptions, each 'name=value') as the WITH clause of its
    definition."""
    if not options:
        return sql.SQL("")
    return sql.SQL("WITH ({})").format(
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(key), sql.Literal(value))
            for key, _, value in (option.partition("=") for option in options)
        )
    )


def _readers_of(pg: psycopg.Connection, schemas: list[str]) -> Callable[[], str]:
    """What a lock wait on the tables of `schemas` waits for, as the progress log names it."""
    return lambda: (
        f"{_sessions(_holders(pg, schemas))} to finish with the tables of {', '.join(schemas)}"
    )


def _retrying_lock_waits(
    pg: psycopg.Connection,
    work: Callable[[psycopg.Cursor], None],
    waiting_for: Callable[[], str],
    wait: float,
) -> bool:
    """Run work in a transaction whose lock waits end after LOCK_TIMEOUT, again until it commits
    (True) or `wait` seconds have passed (False, rolled back). While it waits it logs, every
    PROGRESS_EVERY_SECONDS, what it waits for."""
    started = time.monotonic()
    deadline = started + wait
    next_progress = started
    attempt = 0
    while True:
        attempt += 1
        try:
            with pg.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                work(cur)
            pg.commit()
            return True
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            pg.rollback()
        now = time.monotonic()
        if now >= deadline:
            return False
        if now >= next_progress:
            log.warning("waiting for %s: %.0f s of %g s so far", waiting_for(), now - started, wait)
            next_progress = now + PROGRESS_EVERY_SECONDS
        time.sleep(min(0.1 * attempt, 1.0, deadline - now))


def _holders(pg: psycopg.Connection, schemas: list[str]) -> list[tuple]:
    """The other sessions holding a lock on a table of `schemas`: who the publish waits for."""
    with pg.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT a.pid, a.usename, a.application_name, a.state, a.query_start "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE l.granted AND l.pid <> pg_backend_pid() AND n.nspname = ANY(%s) "
            "ORDER BY a.pid",
            [schemas],
        )
        holders = cur.fetchall()
    pg.rollback()
    return holders


def _sessions(holders: list[tuple]) -> str:
    """Sessions as an administrator finds them in pg_stat_activity. State and query start read
    as 'unknown' unless the publishing user may see other users' activity (pg_read_all_stats)."""
    if not holders:
        return "sessions that have finished since"
    described = [
        f"pid {pid} (user {user}, application {application or ''!r}, "
        f"state {state or 'unknown'}, query started "
        f"{query_start.isoformat(sep=' ', timespec='seconds') if query_start else 'unknown'})"
        for pid, user, application, state, query_start in holders
    ]
    return ("session " if len(described) == 1 else "sessions ") + "; ".join(described)


def _live_tables(cur: psycopg.Cursor) -> list[tuple[str, str]]:
    cur.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2",
        [list(PUBLISHED_SCHEMAS)],
    )
    return cur.fetchall()


def _drop_old(pg: psycopg.Connection, suffix: str) -> None:
    """Drop the retired schemas once their last readers finish; a later publish retries if not."""
    pg.step = "dropping the replaced schemas"
    retired = [_retired_name(schema, suffix) for schema in PUBLISHED_SCHEMAS]

    def drop(cur: psycopg.Cursor) -> None:
        for schema in retired:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    try:
        dropped = _retrying_lock_waits(pg, drop, _readers_of(pg, retired), DROP_OLD_WAIT_SECONDS)
    except psycopg.Error as exc:
        # The new publish is live already: a server that stalls now does not fail it.
        log.warning(
            "could not drop the old published schemas (%s); the next publish drops them",
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
        )
        return
    if not dropped:
        log.warning("old published schemas still in use; the next publish drops them")


def _drop_loading(pg: psycopg.Connection, suffix: str) -> None:
    """A publish that failed after loading removes its loading schemas; the live ones stay."""
    try:
        pg.rollback()
        with pg.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            for schema in PUBLISHED_SCHEMAS:
                cur.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(_loading(schema, suffix))
                )
        pg.commit()
    except psycopg.Error as exc:
        log.warning(
            "could not drop the loading schemas (SQLSTATE %s); the next publish drops them",
            exc.sqlstate,
        )


def _hold_publish_lock(pg: psycopg.Connection, wait_seconds: float) -> None:
    """Wait up to `wait_seconds` for another publish to this database to end, then go first."""
    pg.step = "waiting for another publish to this database"

    def take(cur: psycopg.Cursor) -> None:
        cur.execute("SELECT pg_advisory_lock(%s)", [PUBLISH_LOCK_KEY])

    if not _retrying_lock_waits(pg, take, lambda: "another publish to this database", wait_seconds):
        raise _LockWaitExpired(
            f"another publish to this database was still running after {wait_seconds:g} s "
            f"({LOCK_WAIT_VARIABLE}); nothing was changed"
        )


def _release_publish_lock(pg: psycopg.Connection) -> None:
    if pg.closed:
        return
    pg.rollback()
    with pg.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s)", [PUBLISH_LOCK_KEY])
    pg.commit()


def _drop_leftovers(pg: psycopg.Connection) -> None:
    """Schemas a crashed or interrupted publish left behind: the publish lock is ours, so no
    other publish is loading them. Dropping them only tidies up, so one that another session still
    reads (a nightly backup holds every table it dumps) stays for a later publish instead of
    holding this one up."""
    pg.step = "dropping the schemas an earlier publish left behind"
    with pg.cursor() as cur:
        cur.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname ~ %s ORDER BY nspname",
            [f"^({'|'.join(PUBLISHED_SCHEMAS)})__(loading|retired)_[0-9_]+$"],
        )
        leftovers = [schema for (schema,) in cur.fetchall()]
    pg.commit()
    for schema in leftovers:

        def drop(cur: psycopg.Cursor, schema: str = schema) -> None:
            cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

        # One try under the swap's lock timeout: no waiting for a reader of an old schema.
        waiting_for = _readers_of(pg, [schema])
        if not _retrying_lock_waits(pg, drop, waiting_for, wait=0):
            log.warning(
                "schema %s, left behind by an earlier publish, is kept for a later publish: "
                "waiting for %s",
                schema,
                waiting_for(),
            )


def _loading(schema: str, suffix: str) -> sql.Identifier:
    return sql.Identifier(f"{schema}__loading_{suffix}")


def _retired(schema: str, suffix: str) -> sql.Identifier:
    return sql.Identifier(_retired_name(schema, suffix))


def _retired_name(schema: str, suffix: str) -> str:
    return f"{schema}__retired_{suffix}"


def _pg_type(duckdb_type: str) -> str:
    item_type = duckdb_type.removesuffix("[]")
    if item_type != duckdb_type and not item_type.endswith("]"):
        return f"{_pg_type(item_type)}[]"
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    return PG_TYPES.get(duckdb_type, "text")
