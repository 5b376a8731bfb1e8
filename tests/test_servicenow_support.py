"""Shared pieces of the ServiceNow tests: staging runner, ground truth and connector setup.

It runs the staging SQL the way the pipeline's runner does: the source's core rows replaced by
`INSERT INTO core.<table> BY NAME <select>`, quality rows appended to scorecard.data_quality.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from connectors.http import HttpClient, RetryPolicy
from connectors.servicenow import ServiceNowSource, servicenow_retry_after

STAGING = Path(__file__).resolve().parents[1] / "transforms" / "staging" / "servicenow"
CORE_TABLES = ("incidents", "changes", "requests", "sla_records", "outages")
FAST = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2)


def stage(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the servicenow rows of every core table and its data-quality rows."""
    con.execute("BEGIN TRANSACTION")
    for table in CORE_TABLES:
        con.execute(f"DELETE FROM core.{table} WHERE source = 'servicenow'")
        con.execute(f"INSERT INTO core.{table} BY NAME {(STAGING / f'{table}.sql').read_text()}")
        con.execute(
            "DELETE FROM scorecard.data_quality WHERE source = 'servicenow' AND table_name = ?",
            [table],
        )
        quality = (STAGING / f"{table}.quality.sql").read_text()
        con.execute(
            f"INSERT INTO scorecard.data_quality BY NAME SELECT *, now() AS detected_at FROM ({quality})"
        )
    con.execute("COMMIT")


def source_for(
    url: str,
    user: str = "tester",
    password: str = "s3cret-pass",
    page_size: int = 100,
    policy: RetryPolicy = FAST,
) -> ServiceNowSource:
    client = HttpClient(
        "servicenow", auth=(user, password), policy=policy, retry_after=servicenow_retry_after
    )
    return ServiceNowSource(url, client, page_size=page_size)
