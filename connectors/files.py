"""Bookkeeping shared by file sources: which files the globs name, and which are already loaded.

A file's content hash is stored in meta.loaded_files with its rows, so an unchanged file is
skipped and a changed one (providers restate the current month) replaces what it loaded before.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import re
from pathlib import Path
from typing import BinaryIO

import duckdb

from connectors.http import PermanentSourceError


def split_patterns(value: str) -> list[str]:
    """Glob patterns separated by commas or os.pathsep."""
    parts = re.split(rf"[,{re.escape(os.pathsep)}]", value)
    return [p.strip() for p in parts if p.strip()]


def expand_paths(source: str, variable: str, patterns: list[str]) -> list[Path]:
    """Every file the patterns match, sorted; a pattern matching nothing is a config error."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        matches = [Path(expanded)] if os.path.isfile(expanded) else []
        if not matches:
            target = os.path.join(expanded, "*") if os.path.isdir(expanded) else expanded
            matches = [Path(m) for m in glob.glob(target, recursive=True) if os.path.isfile(m)]
        if not matches:
            raise PermanentSourceError(f"{source}: {variable} pattern {pattern!r} matched no files")
        for match in matches:
            found[str(match.resolve())] = match.resolve()
    return [found[k] for k in sorted(found)]


def content_hash(path: Path) -> str:
    """The hash of what the file holds: a gzipped file's is that of its text, so an export kept
    beside its gzipped twin (`gzip -k`), or compressed in place, is known as the same content.
    A file that does not decompress is hashed as it is, and refused when it is read."""
    if path.name.lower().endswith(".gz"):
        try:
            with gzip.open(path, "rb") as handle:
                return _sha256(handle)
        except (OSError, EOFError):
            pass
    with path.open("rb") as handle:
        return _sha256(handle)


def _sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def forget_loaded_files(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Forget a source's content hashes, so every file loads again and replaces its rows."""
    con.execute("DELETE FROM meta.loaded_files WHERE source = ?", [source])


def forget_loaded_file(con: duckdb.DuckDBPyConnection, source: str, path: str) -> None:
    """Forget one file a source loaded (its rows went with it)."""
    con.execute("DELETE FROM meta.loaded_files WHERE source = ? AND path = ?", [source, path])


def loaded_hash(con: duckdb.DuckDBPyConnection, source: str, path: Path) -> str | None:
    rows = con.execute(
        "SELECT content_hash FROM meta.loaded_files WHERE source = ? AND path = ?",
        [source, str(path)],
    ).fetchall()
    return rows[0][0] if rows else None


def loaded_hashes(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """Every file a source has loaded (by path) with its content hash."""
    rows = con.execute(
        "SELECT path, content_hash FROM meta.loaded_files WHERE source = ?", [source]
    ).fetchall()
    return dict(rows)


def record_loaded_file(
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    digest: str,
    rows: int,
    run_id: str | None,
) -> None:
    con.execute(
        """
        INSERT INTO meta.loaded_files VALUES (?, ?, ?, ?, now(), ?)
        ON CONFLICT (source, path) DO UPDATE
            SET content_hash = excluded.content_hash, rows_loaded = excluded.rows_loaded,
                loaded_at = excluded.loaded_at, run_id = excluded.run_id
        """,
        [source, str(path), digest, rows, run_id],
    )
