"""Schema versions: numbered SQL files applied in order, each in its own transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.transaction import transaction

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class SchemaVersionError(RuntimeError):
    """The file was written by a newer release than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path} must be named NNN_description.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration numbers in {directory}: {versions}")
    return found


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'meta' AND table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM meta.schema_version").fetchall()[0][0]


def migrate(
    con: duckdb.DuckDBPyConnection, label: str, migrations: list[Migration] | None = None
) -> int:
    """Bring the database to the newest known version; refuse files from a newer release."""
    migrations = load_migrations() if migrations is None else migrations
    latest = max((m.version for m in migrations), default=0)
    version = current_version(con)
    if version > latest:
        raise SchemaVersionError(
            f"{label} has schema version {version}, but this release of itsm-scorecard only "
            f"knows versions up to {latest}. Upgrade itsm-scorecard, or point "
            "SCORECARD_WAREHOUSE at another file."
        )
    for migration in migrations:
        if migration.version <= version:
            continue
        try:
            with transaction(con):
                con.execute(
                    "CREATE SCHEMA IF NOT EXISTS meta; CREATE TABLE IF NOT EXISTS "
                    "meta.schema_version (version INTEGER PRIMARY KEY, name VARCHAR, "
                    "applied_at TIMESTAMPTZ)"
                )
                con.execute(migration.sql)
                con.execute(
                    "INSERT INTO meta.schema_version VALUES (?, ?, now())",
                    [migration.version, migration.name],
                )
        except Exception as exc:
            raise RuntimeError(
                f"{label}: migration {migration.version:03d}_{migration.name} failed: {exc}"
            ) from exc
        version = migration.version
    return version
