"""Where the warehouse lives and how a process opens it.

DuckDB allows one writing process per file and even a reader blocks the writer, so loads work on a
private working file and BI tools read a published copy that is replaced atomically (publish.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.migrations import migrate
from warehouse.writer_lock import writer_lock

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
# DuckDB would otherwise cache up to 80% of RAM; it spills to disk past this.
DEFAULT_MEMORY_LIMIT = "2GB"
# DuckDB writes the write-ahead log into the file once the log passes this size. Pages land a
# few thousand rows at a time: at DuckDB's default (16MB) each checkpoint rewrites the table's
# last, partly filled row group (122,880 rows), so landing 1M records spent more time in
# checkpoints than in appending; past a row group of JSON records (about 170MB), each row group
# is written about once. A killed run replays at most this much log when the file next opens.
CHECKPOINT_THRESHOLD = "256MB"
LOCK_WAIT_SECONDS = 30.0


@contextmanager
def landing_settings(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB on one thread while pages land, then as before.

    A page is a thousand rows or so: worker threads cost more CPU in handing work over than
    they save, and they take the core the source's server side needs (measured on 2 cores: 122
    instead of 144 ms of CPU per ServiceNow page of 1,000 incidents).
    """
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute("SET threads = 1")
    try:
        yield con
    finally:
        con.execute(f"SET threads = {int(threads)}")


class WarehouseError(RuntimeError):
    """A problem with the warehouse files that the user must act on."""


def memory_limit_problem(value: str) -> str | None:
    """Why DuckDB would refuse `value` as SCORECARD_MEMORY_LIMIT, or None if it reads it."""
    try:
        duckdb.connect(config={"memory_limit": value}).close()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        return f"SCORECARD_MEMORY_LIMIT: {value!r} is not a memory size (e.g. 2GB, 512MB): {reason}"
    return None


@dataclass(frozen=True)
class Warehouse:
    """The working file that loads write and the published file that readers open."""

    published_path: Path
    working_path: Path
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT
    # Named in the writer lock, so a run waiting for it can say who holds it.
    holder: str | None = None

    @classmethod
    def at(
        cls,
        published: str | os.PathLike,
        working: str | os.PathLike | None = None,
        memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
        holder: str | None = None,
    ) -> Warehouse:
        # `~` as a shell would expand it: DuckDB expands it itself, so without this the files
        # Python handles beside it (locks, the staging copy) would land in a folder named "~".
        published_path = Path(published).expanduser()
        working_path = (
            published_path.with_name(published_path.stem + ".work.duckdb")
            if working is None
            else Path(working).expanduser()
        )
        if working_path.resolve() == published_path.resolve():
            raise ValueError(
                f"the working warehouse and the published one are the same file ({published_path}),"
                " so loads would write the file BI tools read: set SCORECARD_WORK_DATABASE to"
                " another file, or leave it unset"
            )
        return cls(published_path, working_path, memory_limit, holder)

    @classmethod
    def from_env(cls) -> Warehouse:
        return cls.at(
            os.environ.get("SCORECARD_WAREHOUSE") or DEFAULT_WAREHOUSE,
            os.environ.get("SCORECARD_WORK_DATABASE") or None,
            os.environ.get("SCORECARD_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
        )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the working file read-write at the newest schema version, as its only writer."""
        with writer_lock(self.working_path, self.holder):
            con = self._open_with_lock_wait()
            try:
                migrate(con, label=str(self.working_path))
                yield con
            finally:
                con.close()

    def _open_with_lock_wait(self) -> duckdb.DuckDBPyConnection:
        self.working_path.parent.mkdir(parents=True, exist_ok=True)
        config = {"checkpoint_threshold": CHECKPOINT_THRESHOLD}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                con = duckdb.connect(str(self.working_path), config=config)
                con.execute("SET TimeZone = 'UTC'")
                return con
            except duckdb.IOException as exc:
                # Only a process outside the writer lock (a DuckDB client on the working file)
                # can hold DuckDB's own lock now.
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise WarehouseError(
                        f"cannot open the working warehouse {self.working_path}: {exc}. "
                        "Another load may be running; only one process may write at a time."
                    ) from exc
                time.sleep(0.5)
            except duckdb.Error:
                # The one setting that comes from the user: name it when it is what DuckDB refused.
                if self.memory_limit and (problem := memory_limit_problem(self.memory_limit)):
                    raise WarehouseError(problem) from None
                raise
