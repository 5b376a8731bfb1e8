"""Reads the published warehouse for the reports: one SQL file per question, set-based."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(__file__).parent / "sql"


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the report's temporary view of metric_status, its current periods, the
    perspectives shown in them and the services' open actions."""
    for name in ("inputs", "report_perspectives", "service_actions"):
        con.execute((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run reports/sql/<name>.sql with named parameters; rows as dicts."""
    cursor = con.execute((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"), params or None)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
