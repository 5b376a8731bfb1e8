"""Hostile answers from the instance: the run survives, and every bad value is named.

Records with wrong types, missing fields, 1 MB strings, odd Unicode and dates in the wrong format
land (nothing is dropped) and each bad value is a scorecard.data_quality row naming the record's
number and field. A truncated JSON answer is transient: asked again, and when it stays truncated
the read fails with a message naming the source and the page, keeping the pages before it.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from connectors import servicenow
from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.server import Faults
from connectors.emulators.servicenow import DEMO_CREDENTIALS, serve
from connectors.emulators.servicenow_demo import demo_tables
from connectors.http import RetryPolicy, SourceError
from tests.faults.ground_truth import emulator_versions, raw_versions, stage_servicenow
from warehouse import Warehouse
from warehouse.ingest import ingest

pytestmark = pytest.mark.faults

MEGABYTE = "x" * 1_000_000
ODD_TEXT = "nul\x00 rtl\u202eevil\u202c emoji\U0001f525 lone\ud800surrogate"


def _set(field: str, value: object):
    def change(record: dict) -> None:
        record[field] = {"display_value": value, "value": value}

    return change


def _drop(*fields: str):
    def change(record: dict) -> None:
        for name in fields:
            record.pop(name, None)

    return change


# The first eight incidents in paging order get one fault each (applied as the instance answers).
FAULTS = [
    _set("priority", ["1"]),  # wrong type: a list where a code string belongs
    _set("opened_at", 1700000000),  # wrong type: epoch seconds, not a ServiceNow date
    _drop("state", "opened_at"),  # missing fields
    _set("resolved_at", MEGABYTE),  # a 1 MB string in a date field
    _set("category", MEGABYTE),  # a 1 MB string where text is fine: kept whole
    _set("category", ODD_TEXT),  # NUL, right-to-left override, emoji, a lone surrogate
    _set("opened_at", "01/02/2024 10:00"),  # a date in the wrong format
    _set("closed_at", "2024-02-30T25:61:00Z"),  # ISO with a T, an impossible day and time
]


def hostile(numbers: list[str]):
    """A `Faults.rewrite` that breaks the incidents `numbers` as FAULTS says, one each."""
    by_number = dict(zip(numbers, FAULTS, strict=True))

    def rewrite(body: object) -> object:
        records = body.get("result") if isinstance(body, dict) else None
        for record in records if isinstance(records, list) else []:
            number = (record.get("number") or {}).get("value")
            if number in by_number:
                by_number[number](record)
        return body

    return rewrite


def source_for(url: str, page_size: int = 500) -> servicenow.ServiceNowSource:
    source = servicenow.from_env(
        {
            "SERVICENOW_INSTANCE_URL": url,
            "SERVICENOW_USERNAME": DEMO_CREDENTIALS.username,
            "SERVICENOW_PASSWORD": DEMO_CREDENTIALS.password,
            "SERVICENOW_PAGE_SIZE": str(page_size),
        }
    )
    source.client.policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02)
    return source


def test_hostile_records_land_and_each_bad_value_is_named_in_data_quality(tmp_path):
    # The demo's history grows with its day; a fixed day keeps the count below a known number.
    tables = demo_tables(demo_as_of(date(2026, 12, 1)))
    first = [r["number"] for r in list(tables["incident"].scan())[:8]]
    server = serve(tables, DEMO_CREDENTIALS, faults=Faults(rewrite=hostile(first)))
    warehouse = Warehouse.at(tmp_path / "warehouse.duckdb")
    try:
        with warehouse.connect() as con:
            ingest(con, source_for(server.url), origin=server.url)
    finally:
        server.stop()
    stage_servicenow(warehouse.published_path)

    with duckdb.connect(str(warehouse.working_path), read_only=True) as con:
        issues = con.execute(
            "SELECT record_key, field, problem, length(value) FROM scorecard.data_quality "
            "WHERE source = 'servicenow' AND table_name = 'incidents' AND record_key IN ?"
            " ORDER BY record_key, field, problem",
            [first],
        ).fetchall()
        categories = dict(
            con.execute(
                "SELECT number, category FROM core.incidents WHERE number IN ?", [first]
            ).fetchall()
        )
        landed = con.execute("SELECT count(*) FROM core.incidents").fetchone()[0]
    expected = sorted(
        [
            (first[0], "priority", "unknown priority code", len('["1"]')),
            (first[1], "opened_at", "unparseable date", len("1700000000")),
            (first[2], "opened_at", "missing opened_at", None),
            (first[2], "state", "unknown state code", None),
            (first[3], "resolved_at", "unparseable date", 1_000_000),
            (first[6], "opened_at", "unparseable date", len("01/02/2024 10:00")),
            (first[7], "closed_at", "unparseable date", len("2024-02-30T25:61:00Z")),
        ]
    )
    assert issues == expected
    # Every incident reached core, the hostile ones too (2,648 in the history of 1 Dec 2026).
    assert landed == len(tables["incident"]) == 2648
    assert categories[first[4]] == MEGABYTE
    # Valid UTF-8 has no lone surrogate: it arrives as U+FFFD, the rest exactly as sent.
    assert categories[first[5]] == ODD_TEXT.replace("\ud800", "\ufffd")


def test_truncated_answers_are_asked_again_and_nothing_is_lost(tmp_path):
    tables = demo_tables(demo_as_of())
    server = serve(tables, DEMO_CREDENTIALS, faults=Faults(truncate_every=3))
    warehouse = Warehouse.at(tmp_path / "warehouse.duckdb")
    try:
        with warehouse.connect() as con:
            ingest(con, source_for(server.url), origin=server.url)
        truncated = server.faults_injected
    finally:
        server.stop()
    # Every third answer was cut short: about one request in three was a repeat.
    assert truncated > 10
    assert raw_versions(warehouse.working_path) == emulator_versions(tables)


def test_answers_that_stay_truncated_fail_the_read_naming_the_page_and_keep_earlier_pages(
    tmp_path,
):
    tables = demo_tables(demo_as_of())
    # The first 4 answers are whole (4 pages of 100 incidents); every one after is cut short.
    server = serve(tables, DEMO_CREDENTIALS, faults=Faults(truncate_every=1, start_after=4))
    warehouse = Warehouse.at(tmp_path / "warehouse.duckdb")
    try:
        with warehouse.connect() as con, pytest.raises(SourceError) as failure:
            ingest(con, source_for(server.url, page_size=100), origin=server.url)
        attempts = server.requests - 4
    finally:
        server.stop()

    message = str(failure.value)
    assert message.startswith("servicenow: gave up reading table incident at offset 400 after")
    assert "4 attempts (last: the answer was" in message and "not whole JSON" in message
    assert attempts == 4
    fourth = list(tables["incident"].scan())[399]
    with duckdb.connect(str(warehouse.working_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.servicenow_incident").fetchone()[0] == 400
        (cursor,) = con.execute(
            "SELECT cursor_value FROM meta.cursors WHERE stream = 'incident'"
        ).fetchone()
    assert servicenow.Position.decode(cursor, "incident") == servicenow.Position(
        fourth["sys_updated_on"], fourth["sys_id"]
    )


@pytest.mark.parametrize(("entry", "shown"), [(None, "null"), ("oops", '"oops"'), ([1], "[1]")])
def test_an_entry_of_the_result_list_that_is_no_record_fails_the_read_naming_it(
    tmp_path, entry, shown
):
    def rewrite(body: object) -> object:
        if isinstance(body, dict) and body.get("result"):
            body["result"].insert(1, entry)
        return body

    tables = demo_tables(demo_as_of(date(2026, 12, 1)))
    server = serve(tables, DEMO_CREDENTIALS, faults=Faults(rewrite=rewrite))
    warehouse = Warehouse.at(tmp_path / "warehouse.duckdb")
    try:
        with warehouse.connect() as con, pytest.raises(SourceError) as failure:
            ingest(con, source_for(server.url), origin=server.url)
    finally:
        server.stop()
    assert str(failure.value) == (
        "servicenow: table incident at offset 0: entry 1 of the answer's result list is no "
        f"record (JSON object): {shown}"
    )
