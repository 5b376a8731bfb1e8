"""Asset metadata read from the warehouse: row count, schema and a short preview."""

from typing import Any

import dagster as dg
import duckdb

PREVIEW_ROWS = 5


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    schema, name = table.split(".")
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    if not columns:
        return {"dagster/table_name": table}
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    preview = con.execute(f"SELECT * FROM {table} LIMIT {PREVIEW_ROWS}").fetchall()
    return {
        "dagster/table_name": table,
        "dagster/row_count": rows,
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name=c, type=t) for c, t in columns]
        ),
        "preview": dg.MetadataValue.md(_markdown([c for c, _ in columns], preview)),
    }


def raw_metadata(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, Any]:
    """Rows per raw table of a source, with the schema and a preview of its largest table."""
    tables = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND starts_with(table_name, ?) ORDER BY table_name",
            [f"{source}_"],
        ).fetchall()
    ]
    counts = {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0] for t in tables}
    if not counts:
        return {}
    largest = max(counts, key=counts.__getitem__)
    metadata = table_metadata(con, f"raw.{largest}")
    metadata["dagster/row_count"] = sum(counts.values())
    metadata.update({f"raw.{t}": rows for t, rows in counts.items()})
    return metadata


def _markdown(header: list[str], rows: list[tuple]) -> str:
    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return (text[:40] + "...") if len(text) > 40 else text.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
