"""The bi schema: the stable views BI tools read, created in the working file before a publish.

The views reference tables of their own file only, so they survive the publish copy and open in
the published file. Their names and columns are a public contract (README "The warehouse and BI
tools"); every column carries a comment from warehouse/bi/columns.yaml.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from warehouse.transaction import transaction

BI_DIR = Path(__file__).parent / "bi"
# In creation order: scorecard_current reads metric_history.
BI_VIEWS = (
    "metric_history",
    "scorecard_current",
    "scorecard_to_date",
    "objective_history",
    "metric_restatements",
    "actions_open",
    "incidents",
    "changes",
    "requests",
    "costs",
)


class UndocumentedColumnError(RuntimeError):
    """A bi view has a column that warehouse/bi/columns.yaml does not describe."""


def column_descriptions() -> dict[str, str]:
    return yaml.safe_load((BI_DIR / "columns.yaml").read_text(encoding="utf-8"))


def create_bi_views(con: duckdb.DuckDBPyConnection) -> None:
    """Replace every bi view and its comments in one transaction: readers see all or none."""
    descriptions = column_descriptions()
    with transaction(con):
        con.execute("CREATE SCHEMA IF NOT EXISTS bi")
        con.execute((BI_DIR / "_macros.sql").read_text(encoding="utf-8"))
        for view in BI_VIEWS:
            con.execute((BI_DIR / f"{view}.sql").read_text(encoding="utf-8"))
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'bi' ORDER BY ALL"
        ).fetchall()
        missing = [f"bi.{v}.{c}" for v, c in columns if c not in descriptions]
        if missing:
            raise UndocumentedColumnError(
                f"describe these columns in {BI_DIR / 'columns.yaml'}: {', '.join(missing)}"
            )
        for view, column in columns:
            comment = descriptions[column].replace("'", "''")
            con.execute(f"COMMENT ON COLUMN bi.{view}.{column} IS '{comment}'")
