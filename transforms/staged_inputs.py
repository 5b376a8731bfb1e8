"""What a staging query reads, and a fingerprint of it, so an unchanged night can skip restaging.

Staging is a pure function of what its queries read: the raw tables (and the core tables of
other sources) they name, the SQL and macro files, the time zone, DuckDB's version and the
schema version; no query reads now() or a setting of its own. The fingerprint holds one digest
per input, each from a cheap summary of its state (transforms/staging/_state/), never from
reading the records. Whatever cannot be summed up this way makes the fingerprint None: restage.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

STAGING_DIR = Path(__file__).parent / "staging"
STATE_DIR = STAGING_DIR / "_state"
# The code that writes staged rows, Python and SQL: a change to it may change them too.
STAGING_CODE = Path(__file__).parent / "staging.py"
RESTAGE_DIR = STAGING_DIR / "_restage"
_MACRO = re.compile(r"CREATE OR REPLACE TEMP MACRO ([a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE)
_RELATION = re.compile(r"\b(raw|core)\.([a-z][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class QueryInputs:
    """The files one (source, core table) is staged with, and the relations its queries read."""

    source: str
    table: str
    # Each file by its path below transforms/ (its label in the fingerprint).
    files: dict[str, Path]
    relations: tuple[str, ...]


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    inputs: dict[str, str]

    @classmethod
    def of(cls, inputs: dict[str, str]) -> Fingerprint:
        text = json.dumps(inputs, sort_keys=True)
        return cls(hashlib.sha256(text.encode()).hexdigest(), inputs)


@dataclass(frozen=True)
class StagedState:
    """What meta.staging_fingerprints says the last restage of one (source, table) wrote."""

    fingerprint: Fingerprint
    rows: int
    quality_issues: int
    staged_at: datetime


def query_inputs(source: str, table: str) -> QueryInputs:
    folder = STAGING_DIR / source
    query_files = (folder / f"{table}.sql", folder / f"{table}.quality.sql")
    writers = (STAGING_CODE, *sorted(RESTAGE_DIR.glob("*.sql")))
    candidates = (*_macro_files(source), folder / "_raw.sql", *query_files, *writers)
    relations = relations_read(source, "\n".join(_code(p) for p in query_files))
    files = {str(p.relative_to(STAGING_DIR.parent)): p for p in candidates if p.exists()}
    return QueryInputs(source, table, files, relations)


def relations_read(source: str, sql: str) -> tuple[str, ...]:
    """The raw and core relations a query of `source` names, and those the macros it calls read."""
    query = _COMMENT.sub("", sql)
    macros = _macros(_code(p) for p in _macro_files(source))
    read = "\n".join([query, *_used(macros, query)])
    return tuple(sorted({f"{schema}.{name}" for schema, name in _RELATION.findall(read)}))


def _macro_files(source: str) -> tuple[Path, Path]:
    return STAGING_DIR / "macros.sql", STAGING_DIR / source / "_macros.sql"


def fingerprint(con: duckdb.DuckDBPyConnection, inputs: QueryInputs) -> Fingerprint | None:
    """Digests of every input's present state, or None when one cannot be summed up cheaply."""
    state = {
        f"file {label}": _hash(path.read_text(encoding="utf-8"))
        for label, path in inputs.files.items()
    }
    state["settings"] = _hash(_value(con, _state_sql("settings")))
    raw = [n for n in inputs.relations if n.startswith("raw.")]
    versions = [f"raw_versions.{n.removeprefix('raw.')}" for n in raw]
    stored = {
        name: (kind, definition, columns)
        for name, kind, definition, columns in con.execute(
            _state_sql("relations"), {"names": [*inputs.relations, *versions]}
        ).fetchall()
    }
    for name in inputs.relations:
        summary = _summary(con, inputs, name, stored)
        if summary is None:
            return None
        state[name] = _hash(json.dumps([stored.get(name), summary]))
    if (STAGING_DIR / inputs.source / "_raw.sql").exists():
        files = _value(con, _state_sql("files_loaded"), {"source": inputs.source})
        state["meta.loaded_files"] = _hash(files)
    return Fingerprint.of(state)


def stored_state(con: duckdb.DuckDBPyConnection, source: str, table: str) -> StagedState | None:
    rows = con.execute(
        "SELECT fingerprint, inputs, rows_staged, quality_issues, staged_at "
        "FROM meta.staging_fingerprints WHERE source = ? AND table_name = ?",
        [source, table],
    ).fetchall()
    if not rows:
        return None
    digest, inputs, staged, issues, staged_at = rows[0]
    return StagedState(Fingerprint(digest, json.loads(inputs)), staged, issues, staged_at)


def record_state(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    staged: Fingerprint | None,
    rows: int,
    quality_issues: int,
) -> None:
    """Store what was just staged from (inside the restaging transaction); None forgets it."""
    con.execute(
        "DELETE FROM meta.staging_fingerprints WHERE source = ? AND table_name = ?",
        [source, table],
    )
    if staged is not None:
        con.execute(
            "INSERT INTO meta.staging_fingerprints VALUES (?, ?, ?, ?, ?, ?, now())",
            [source, table, staged.digest, json.dumps(staged.inputs), rows, quality_issues],
        )


def changed_inputs(last: Fingerprint, now: Fingerprint) -> list[str]:
    """The inputs whose state differs between two fingerprints (added and removed ones too)."""
    names = set(last.inputs) | set(now.inputs)
    return sorted(n for n in names if last.inputs.get(n) != now.inputs.get(n))


def _summary(
    con: duckdb.DuckDBPyConnection,
    inputs: QueryInputs,
    name: str,
    stored: dict[str, tuple[str, str, str]],
) -> str | None:
    """One relation's state by its kind (see _state/*.sql); None for a kind with no summary."""
    if name not in stored:
        return "absent"
    kind, _, columns = stored[name]
    schema, table = name.split(".")
    if schema == "core":
        return _value(
            con,
            _state_sql("other_sources", table=table),
            {"source": inputs.source, "table": table},
        )
    versions = f"raw_versions.{table}"
    if kind == "view" and versions in stored:
        return _value(con, _state_sql("landed_stream", versions_table=versions))
    if kind == "table" and re.search(r"\bloaded_at TIMESTAMP WITH TIME ZONE\b", columns or ""):
        return _value(con, _state_sql("landed_files", table=name))
    if kind == "table":
        return _value(con, _state_sql("small_table", table=name))
    return None


def _code(path: Path) -> str:
    """A SQL file without its comments, which may name tables the query does not read."""
    return _COMMENT.sub("", path.read_text(encoding="utf-8")) if path.exists() else ""


def _macros(texts: Iterable[str]) -> dict[str, str]:
    """Each macro's definition by name, from files of CREATE OR REPLACE TEMP MACRO statements."""
    found: dict[str, str] = {}
    for text in texts:
        starts = list(_MACRO.finditer(text))
        for number, match in enumerate(starts):
            end = starts[number + 1].start() if number + 1 < len(starts) else len(text)
            found[match[1].lower()] = text[match.start() : end]
    return found


def _used(macros: dict[str, str], text: str) -> list[str]:
    """The definitions of the macros `text` calls, and of those they call in turn."""
    used: dict[str, str] = {}
    pending = [text]
    while pending:
        body = pending.pop()
        for name, definition in macros.items():
            if name not in used and re.search(rf"\b{name}\s*\(", body, re.IGNORECASE):
                used[name] = definition
                pending.append(definition)
    return list(used.values())


def _state_sql(name: str, **tables: str) -> str:
    return (STATE_DIR / f"{name}.sql").read_text(encoding="utf-8").format(**tables)


def _value(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> str:
    return str(con.execute(sql, params or {}).fetchall()[0][0])


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
