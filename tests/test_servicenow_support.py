"""Shared pieces of the ServiceNow tests: staging through the pipeline's own runner, and a
connector with fast retries pointed at an emulator."""

from __future__ import annotations

import duckdb

from connectors.http import HttpClient, RetryPolicy
from connectors.servicenow import ServiceNowSource, servicenow_retry_after
from transforms.staging import stage as stage_table
from transforms.staging import staged_tables

FAST = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2)


def stage(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the servicenow rows of every core table it feeds, and their data-quality rows."""
    tables = staged_tables("servicenow")
    assert tables == ["changes", "incidents", "outages", "requests", "sla_records"]
    for table in tables:
        stage_table(con, "servicenow", table)


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
