"""Publish a consistent read-only copy of the working warehouse for BI tools.

The copy is written beside the published file and renamed over it: a reader holding the old file
keeps reading its complete snapshot, and a new reader sees the new one whole, never half a load.
It is written in a storage format that DuckDB 1.4+ (bundled by most BI tools) can open.

A write-ahead log left beside the published file (someone opened it read-write and did not close
cleanly) belongs to the old file: DuckDB would try to replay it into the new one and refuse to
open it ("WAL does not match database file"). So the publish removes it, and syncs the folder so
the rename survives a power cut.

A publish killed mid-copy (SIGKILL, out of memory, a reboot) leaves its staging copy behind, as
big as the warehouse; the next publish removes the copies whose process is gone.
"""

from __future__ import annotations

import glob
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.bi_views import create_bi_views
from warehouse.processes import is_running, process_identity
from warehouse.store import Warehouse, WarehouseError

BI_STORAGE_VERSION = "v1.4.0"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    path: Path
    bytes: int
    tables: int
    seconds: float


# What the system says when a disk is full or a folder not writable.
STORAGE_CAUSES = ("No space left on device", "Read-only file system", "Permission denied")


def publish(warehouse: Warehouse) -> PublishResult:
    started = time.monotonic()
    target = warehouse.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    # Named by pid and start time, so a later process given the same pid does not keep it.
    identity = process_identity(os.getpid()).replace(":", "-")
    staging = target.with_name(f".{target.name}.{identity}.tmp")
    staging.unlink(missing_ok=True)
    try:
        with warehouse.connect() as con:
            remove_abandoned_staging(target)
            # The bi views follow this release's tables; they reference only this file, so the
            # copy below carries them into the published file intact.
            create_bi_views(con)
            source_db = con.execute("SELECT current_database()").fetchall()[0][0]
            con.execute(
                f"ATTACH {sql_string(staging)} AS published_snapshot "
                f"(STORAGE_VERSION '{BI_STORAGE_VERSION}')"
            )
            try:
                con.execute(f'COPY FROM DATABASE "{source_db}" TO published_snapshot')
                tables = con.execute(
                    "SELECT count(*) FROM duckdb_tables() "
                    "WHERE database_name = 'published_snapshot'"
                ).fetchall()[0][0]
                con.execute("CHECKPOINT published_snapshot")
            finally:
                con.execute("DETACH published_snapshot")
            # Still under the writer lock: a publish that started later renames its newer copy
            # after this one, never before it.
            with open(staging, "rb") as handle:
                os.fsync(handle.fileno())
            stale_wal = target.with_name(target.name + ".wal")
            stale_wal.unlink(missing_ok=True)
            os.replace(staging, target)
            # A writer still holding the old file may have flushed its log again meanwhile.
            stale_wal.unlink(missing_ok=True)
            _sync_folder(target.parent)
    except (OSError, duckdb.Error) as exc:
        # The rename never happened, the old copy is whole. A full disk or a read-only folder:
        # DuckDB reports its own file writes as IOException, a write met while checkpointing
        # under another type that names the cause.
        storage = isinstance(exc, (OSError, duckdb.IOException)) or any(
            cause in str(exc) for cause in STORAGE_CAUSES
        )
        if storage:
            advice = f"; free space in, or allow writing to, {target.parent} and run again"
        elif "Out of Memory" in str(exc):
            # The copy rebuilds each primary key's index in memory (about 1 GB for 10M cost rows).
            advice = (
                f"; raise SCORECARD_MEMORY_LIMIT (now {warehouse.memory_limit or 'unset'}) "
                "and run again"
            )
        else:
            advice = ""
        raise WarehouseError(
            f"could not publish {target}: {exc}. The published copy is unchanged{advice}."
        ) from exc
    finally:
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + ".wal").unlink(missing_ok=True)
    return PublishResult(target, target.stat().st_size, tables, time.monotonic() - started)


def remove_abandoned_staging(target: Path) -> list[Path]:
    """Remove the staging copies (and their logs) that publishes of processes now gone left."""
    removed = []
    for path in sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp*")):
        identity = path.name[len(target.name) + 2 :].split(".")[0].replace("-", ":")
        pid = identity.partition(":")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or is_running(identity):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    if removed:
        log.info(
            "removed %d staging file(s) of an interrupted publish: %s",
            len(removed),
            ", ".join(p.name for p in removed),
        )
    return removed


def sql_string(value: object) -> str:
    """A DuckDB string literal, for statements that take no parameters (ATTACH, COPY TO)."""
    return "'" + str(value).replace("'", "''") + "'"


def _sync_folder(folder: Path) -> None:
    """Make the rename durable: it lives in the folder's entries, not in the file."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
