"""What a warehouse must hold after a load, computed from the emulator's own tables.

Comparisons use what a user can see (the keys and latest versions in raw, the rows of core), not
how landing stores them, so they hold whatever landing does inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from connectors.emulators.servicenow_tables import Store
from connectors.servicenow import TABLE_FIELDS
from transforms.staging import stage, staged_tables
from warehouse import Warehouse

SERVICENOW_CORE = ("incidents", "changes", "requests", "sla_records", "outages")


def emulator_versions(tables: Mapping[str, Store]) -> dict[str, dict[str, str]]:
    """For each table the scorecard reads: sys_id -> sys_updated_on, as the instance holds now."""
    return {
        table: {r["sys_id"]: r["sys_updated_on"] for r in tables[table].scan()}
        for table in TABLE_FIELDS
        if table in tables
    }


def raw_versions(database: Path) -> dict[str, dict[str, str]]:
    """For each raw ServiceNow table: record_key -> latest record_version landed."""
    found: dict[str, dict[str, str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for table in TABLE_FIELDS:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'raw' AND table_name = ?",
                [f"servicenow_{table}"],
            ).fetchone()[0]
            rows = (
                con.execute(
                    f"SELECT record_key, max(record_version) FROM raw.servicenow_{table} "
                    "GROUP BY record_key"
                ).fetchall()
                if exists
                else []
            )
            found[table] = dict(rows)
    return found


def stage_servicenow(database: Path) -> None:
    """Stage raw ServiceNow into core, as the nightly job's core step does."""
    with Warehouse.at(database).connect() as con:
        for table in staged_tables("servicenow"):
            stage(con, "servicenow", table)


def duplicate_ids(database: Path) -> dict[str, int]:
    """Rows of each core table beyond one per id: must be all zero."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            table: con.execute(
                f"SELECT count(*) - count(DISTINCT {_id_column(con, table)}) FROM core.{table}"
            ).fetchone()[0]
            for table in SERVICENOW_CORE
        }


def _id_column(con: duckdb.DuckDBPyConnection, table: str) -> str:
    return con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'core' AND table_name = ? "
        "ORDER BY column_index LIMIT 1",
        [table],
    ).fetchone()[0]


def differing_core_rows(left: Path, right: Path) -> dict[str, int]:
    """Rows of each core table in one file and not the other (both ways), load times aside."""
    differences = {}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        for table in SERVICENOW_CORE:
            columns = [
                f'"{name}"'
                for (name,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = 'l' "
                    "AND schema_name = 'core' AND table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if name not in ("loaded_at", "run_id")
            ]
            select = ", ".join(columns)
            differences[table] = con.execute(
                f"SELECT count(*) FROM ("
                f"(SELECT {select} FROM l.core.{table} EXCEPT ALL "
                f"SELECT {select} FROM r.core.{table}) UNION ALL "
                f"(SELECT {select} FROM r.core.{table} EXCEPT ALL "
                f"SELECT {select} FROM l.core.{table}))"
            ).fetchone()[0]
    return differences
