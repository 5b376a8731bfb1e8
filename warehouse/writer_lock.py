"""One writer per warehouse file across processes: a lock the kernel frees when its holder dies.

The lock is an OS file lock on `<working file>.lock`, so it is keyed by the warehouse file (two
warehouses never wait on each other) and a killed run cannot keep it. The lock file also says who
holds it, so a waiting run can name the holder in its log.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

REPORT_EVERY_SECONDS = 60.0
POLL_SECONDS = 0.25

# flock belongs to an open file, so a process that already holds the lock re-enters it instead of
# waiting on itself (DuckDB shares one database between connections of a process the same way).
_depth: dict[str, int] = {}
_depth_guard = threading.Lock()


def lock_path_for(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def writer_lock(
    database: Path, holder: str | None = None, report_every: float = REPORT_EVERY_SECONDS
) -> Iterator[None]:
    """Hold the write lock of `database`; while another process holds it, wait and say who."""
    path = lock_path_for(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _depth_guard:
        reentered = key in _depth
        if reentered:
            _depth[key] += 1
    if reentered:
        try:
            yield
        finally:
            _leave(key)
        return

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot take the warehouse writer lock {path} ({exc.strerror}); the folder "
            f"{path.parent} must be writable by this process",
        ) from exc
    try:
        _acquire(fd, path, report_every)
        _write_holder(fd, holder)
        with _depth_guard:
            _depth[key] = 1
        try:
            yield
        finally:
            _leave(key)
    finally:
        os.close(fd)


def current_holder(database: Path) -> dict[str, str]:
    """Who wrote the lock file last: the holder while the lock is held (empty if unknown)."""
    try:
        return json.loads(lock_path_for(database).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _acquire(fd: int, path: Path, report_every: float) -> None:
    waiting_since = time.monotonic()
    next_report = waiting_since
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if next_report > waiting_since:
                log.info(
                    "warehouse writer lock on %s acquired after %.0f s",
                    path.with_suffix(""),
                    time.monotonic() - waiting_since,
                )
            return
        except BlockingIOError:
            now = time.monotonic()
            if now >= next_report:
                log.info(
                    "waiting %.0f s for the warehouse writer lock on %s: %s",
                    now - waiting_since,
                    path.with_suffix(""),
                    _describe(current_holder(path.with_suffix(""))),
                )
                next_report = now + report_every
            time.sleep(POLL_SECONDS)


def _describe(holder: dict[str, str]) -> str:
    if not holder:
        return "held by another process"
    return (
        f"held by {holder.get('holder') or 'a process'} (pid {holder.get('pid')} on "
        f"{holder.get('host')}) since {holder.get('since')}"
    )


def _write_holder(fd: int, holder: str | None) -> None:
    record = {
        "holder": holder or f"pid {os.getpid()}",
        "pid": str(os.getpid()),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)


def _leave(key: str) -> None:
    with _depth_guard:
        _depth[key] -= 1
        if not _depth[key]:
            del _depth[key]
