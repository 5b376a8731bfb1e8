"""Reads the published warehouse for the reports: one SQL file per question, set-based."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

import duckdb

SQL_DIR = Path(__file__).parent / "sql"

# Columns other parts of the scorecard add over time, and what the report assumes without them.
OPTIONAL_COLUMNS: dict[tuple[str, str], str] = {
    ("metric_status", "scorecard_id"): "$scorecard",
    ("metric_status", "commentary"): "NULL",
    ("perspective_scores", "scorecard_id"): "$scorecard",
    ("actions", "scorecard_id"): "$scorecard",
    ("actions", "status"): "NULL",
    ("actions", "commentary"): "NULL",
    ("actions", "service"): "NULL",
    ("initiatives", "scorecard_id"): "$scorecard",
}


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def prepare(con: duckdb.DuckDBPyConnection, scorecard: str) -> None:
    """Create the report's temporary views; a missing scorecard_id means one scorecard."""
    present = set(
        con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'scorecard'"
        ).fetchall()
    )
    expressions = {
        f"{table}_{column}": (
            f"{table}.{column}"
            if (table, column) in present
            else fallback.replace("$scorecard", sql_literal(scorecard))
        )
        for (table, column), fallback in OPTIONAL_COLUMNS.items()
    }
    con.execute(Template((SQL_DIR / "inputs.sql").read_text()).substitute(expressions))


def rows(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run reports/sql/<name>.sql with named parameters; rows as dicts."""
    cursor = con.execute((SQL_DIR / f"{name}.sql").read_text(), params or None)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
