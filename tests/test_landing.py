"""Raw landing: idempotent merge by primary key, cursor and data in one transaction."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from connectors.base import ListedPage, Page, Stream
from warehouse.ingest import ingest
from warehouse.landing import compact_raw_table, land_page, read_cursor

INCIDENT = Stream("incident", primary_key="sys_id", cursor_field="sys_updated_on")


def record(key: str, updated: str, **fields) -> dict:
    return {"sys_id": key, "sys_updated_on": updated, **fields}


def raw_rows(con) -> list[tuple]:
    return con.execute(
        "SELECT record_key, record_version, record->>'state' FROM raw.servicenow_incident ORDER BY 1"
    ).fetchall()


def test_same_page_twice_leaves_the_same_table(warehouse):
    page = Page(
        [
            record("a", "2024-01-01 10:00:00", state="1"),
            record("b", "2024-01-01 11:00:00", state="2"),
        ],
        "2024-01-01 11:00:00",
    )
    with warehouse.connect() as con:
        land_page(con, "servicenow", INCIDENT, page)
        first = raw_rows(con)
        land_page(con, "servicenow", INCIDENT, page)
        assert (
            raw_rows(con)
            == first
            == [("a", "2024-01-01 10:00:00", "1"), ("b", "2024-01-01 11:00:00", "2")]
        )


def test_latest_update_wins_whatever_the_arrival_order(warehouse):
    newer = Page([record("a", "2024-01-02 00:00:00", state="7")], "2024-01-02 00:00:00")
    older = Page([record("a", "2024-01-01 00:00:00", state="1")], "2024-01-01 00:00:00")
    within_page = Page(
        [
            record("b", "2024-01-03 00:00:00", state="6"),
            record("b", "2024-01-01 00:00:00", state="1"),
        ],
        None,
    )
    with warehouse.connect() as con:
        land_page(con, "servicenow", INCIDENT, newer)
        land_page(con, "servicenow", INCIDENT, older)
        land_page(con, "servicenow", INCIDENT, within_page)
        assert raw_rows(con) == [
            ("a", "2024-01-02 00:00:00", "7"),
            ("b", "2024-01-03 00:00:00", "6"),
        ]


def test_record_without_primary_key_is_refused_with_the_source_named(warehouse):
    with (
        warehouse.connect() as con,
        pytest.raises(
            ValueError, match=r"servicenow\.incident: record without primary key 'sys_id'"
        ),
    ):
        land_page(con, "servicenow", INCIDENT, Page([{"number": "INC1"}], None))


class PagedSource:
    """A source of 5 pages x 3 records that can be told to fail after some pages."""

    name = "servicenow"

    def __init__(self, fail_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.started_from: list[str | None] = []

    def streams(self) -> list[Stream]:
        return [INCIDENT]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        self.started_from.append(cursor)
        start = int(cursor) if cursor else 0
        for page_number in range(start, 5):
            if self.fail_after is not None and page_number == self.fail_after:
                raise ConnectionError("source went away")
            records = [record(f"r{page_number}-{i}", f"{page_number:04d}") for i in range(3)]
            yield Page(records, str(page_number + 1))


def test_crash_between_pages_loses_nothing_and_resume_duplicates_nothing(warehouse):
    with warehouse.connect() as con:
        with pytest.raises(ConnectionError):
            ingest(con, PagedSource(fail_after=3))
        assert con.execute("SELECT count(*) FROM raw.servicenow_incident").fetchall()[0][0] == 9
        assert read_cursor(con, "servicenow", "incident") == "3"
        resumed = PagedSource()
        ingest(con, resumed)
        assert resumed.started_from == ["3"]
        keys = [
            r[0]
            for r in con.execute(
                "SELECT record_key FROM raw.servicenow_incident ORDER BY 1"
            ).fetchall()
        ]
    assert keys == sorted(f"r{p}-{i}" for p in range(5) for i in range(3))


def test_killed_writer_leaves_cursor_and_data_consistent(warehouse, tmp_path):
    """SIGKILL in the middle of a load: whatever committed is whole and the cursor matches it."""
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import time
            from connectors.base import Page, Stream
            from warehouse import Warehouse, land_page
            stream = Stream("incident", "sys_id", "sys_updated_on")
            with Warehouse.at({str(warehouse.published_path)!r}).connect() as con:
                for n in range(100000):
                    records = [{{"sys_id": f"{{n}}-{{i}}", "sys_updated_on": f"{{n:06d}}"}} for i in range(500)]
                    land_page(con, "servicenow", stream, Page(records, f"{{n:06d}}"))
                    print(n, flush=True)
            """
        )
    )
    writer = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    for _ in range(20):  # let a few pages commit, then kill mid-flight
        writer.stdout.readline()
    time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with warehouse.connect() as con:
        cursor = read_cursor(con, "servicenow", "incident")
        rows, pages, newest = con.execute(
            "SELECT count(*), count(DISTINCT record_version), max(record_version) FROM raw.servicenow_incident"
        ).fetchall()[0]
    assert pages >= 20
    assert newest == cursor
    assert rows == pages * 500


def test_records_are_stored_as_received(warehouse):
    payload = record(
        "a",
        "2024-01-01 00:00:00",
        caller={"link": "https://x/api/now/table/sys_user/1", "value": "1"},
    )
    with warehouse.connect() as con:
        land_page(con, "servicenow", INCIDENT, Page([payload], None))
        stored = con.execute("SELECT record FROM raw.servicenow_incident").fetchall()[0][0]
    assert json.loads(stored) == payload


def test_demo_and_real_records_are_never_blended(warehouse):
    from warehouse import WarehouseError

    with warehouse.connect() as con:
        ingest(con, PagedSource(), origin="the built-in demo")
        ingest(con, PagedSource(), origin="the built-in demo")
        with pytest.raises(
            WarehouseError,
            match=r"servicenow: the warehouse .*warehouse.work.duckdb holds servicenow records from the built-in demo, and this run reads the configured source",
        ):
            ingest(con, PagedSource(), origin="the configured source")
        assert con.execute("SELECT count(*) FROM raw.servicenow_incident").fetchall()[0][0] == 15


def versions(con) -> int:
    return con.execute("SELECT count(*) FROM raw_versions.servicenow_incident").fetchall()[0][0]


def test_a_page_read_again_appends_nothing_and_keeps_its_load_time(warehouse):
    page = Page([record("a", "2024-01-01 10:00:00", state="1")], None)
    with warehouse.connect() as con:
        first = land_page(con, "servicenow", INCIDENT, page, run_id="run-1")
        again = land_page(con, "servicenow", INCIDENT, page, run_id="run-2")
        run = con.execute("SELECT run_id FROM raw.servicenow_incident").fetchall()
        assert (first.stored, again.stored, versions(con), run) == (1, 0, 1, [("run-1",)])


def test_same_version_with_other_content_replaces_the_stored_one(warehouse):
    with warehouse.connect() as con:
        land_page(con, "servicenow", INCIDENT, Page([record("a", "2024-01-01", state="1")], None))
        fixed = land_page(
            con, "servicenow", INCIDENT, Page([record("a", "2024-01-01", state="2")], None)
        )
        assert (fixed.stored, raw_rows(con)) == (1, [("a", "2024-01-01", "2")])


def test_an_older_version_landing_late_is_not_stored(warehouse):
    with warehouse.connect() as con:
        land_page(con, "servicenow", INCIDENT, Page([record("a", "2024-02-01", state="7")], None))
        late = land_page(
            con, "servicenow", INCIDENT, Page([record("a", "2024-01-01", state="1")], None)
        )
        assert (late.stored, versions(con), raw_rows(con)) == (0, 1, [("a", "2024-02-01", "7")])


def test_compaction_drops_only_the_versions_no_reader_sees(warehouse):
    # 12,000 records, then each updated twice: 36,000 versions, 24,000 of them superseded,
    # more than the 12,000 current ones, so compaction runs and leaves 12,000.
    keys = [f"k{n:05d}" for n in range(12_000)]
    with warehouse.connect() as con:
        for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
            for first in range(0, len(keys), 4000):
                batch = [record(k, day, state=day[-1]) for k in keys[first : first + 4000]]
                land_page(con, "servicenow", INCIDENT, Page(batch, None))
        before = con.execute(
            "SELECT count(*), min(record_version), max(record->>'state') "
            "FROM raw.servicenow_incident"
        ).fetchall()
        assert versions(con) == 36_000
        dropped = compact_raw_table(con, "servicenow", "incident")
        after = con.execute(
            "SELECT count(*), min(record_version), max(record->>'state') "
            "FROM raw.servicenow_incident"
        ).fetchall()
        assert (dropped, versions(con)) == (24_000, 12_000)
        assert before == after == [(12_000, "2024-01-03", "3")]
        assert compact_raw_table(con, "servicenow", "incident") == 0


def test_a_raw_table_from_before_append_only_landing_is_converted_keeping_its_rows(tmp_path):
    """A warehouse at schema version 8 holds raw tables merged by primary key."""
    import duckdb

    from warehouse import Warehouse
    from warehouse.migrations import load_migrations, migrate

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        migrate(con, "old.duckdb", [m for m in load_migrations() if m.version <= 8])
        con.execute(
            "CREATE TABLE raw.servicenow_incident (record_key VARCHAR PRIMARY KEY, "
            "record_version VARCHAR NOT NULL, record JSON NOT NULL, "
            "loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR)"
        )
        con.execute(
            "INSERT INTO raw.servicenow_incident VALUES "
            """('a', '2024-01-01', '{"sys_id":"a","state":"1"}', '2024-01-01', 'old'), """
            """('b', '2024-01-05', '{"sys_id":"b","state":"6"}', '2024-01-05', 'old')"""
        )
    with Warehouse(path, path).connect() as con:
        landed = land_page(
            con,
            "servicenow",
            INCIDENT,
            Page(
                [
                    record("a", "2024-01-02", state="7"),  # newer than the stored one: wins
                    record("b", "2024-01-04", state="1"),  # older than the stored one: ignored
                ],
                None,
            ),
        )
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'servicenow_incident'"
        ).fetchall()
        assert landed.stored == 1
        assert kind == [("VIEW",)]
        assert raw_rows(con) == [("a", "2024-01-02", "7"), ("b", "2024-01-05", "6")]
        assert versions(con) == 3


def listed_page(answer: list[dict], first: int = 0) -> ListedPage:
    """A page of the answer's records from `first` on, as the ServiceNow connector makes it."""
    return ListedPage(
        answer[first:], None, answer=json.dumps({"result": answer}), path="$.result", first=first
    )


def test_records_cut_from_their_answer_are_stored_as_received(warehouse):
    answer = [
        record("a", "2024-01-01", state="1"),  # read on the page before
        record("b", "2024-01-02", state="2", caller={"value": "1", "display_value": "Zoë"}),
        record("c", "2024-01-03", state="3", note='tab\there, quote " and \\ slash'),
    ]
    with warehouse.connect() as con:
        landed = land_page(con, "servicenow", INCIDENT, listed_page(answer, first=1))
        stored = con.execute(
            "SELECT record_key, record FROM raw.servicenow_incident ORDER BY 1"
        ).fetchall()
    assert landed.stored == 2
    assert [(key, json.loads(text)) for key, text in stored] == [
        ("b", answer[1]),
        ("c", answer[2]),
    ]


def test_a_record_cut_from_its_answer_and_then_encoded_again_appends_nothing(warehouse):
    # Python escapes the ë, DuckDB writes it as UTF-8: the same record all the same.
    answer = [record("a", "2024-01-01", caller={"value": "1", "display_value": "Zoë"})]
    with warehouse.connect() as con:
        first = land_page(con, "servicenow", INCIDENT, listed_page(answer))
        again = land_page(con, "servicenow", INCIDENT, Page(answer, None))
        assert (first.stored, again.stored, versions(con)) == (1, 0, 1)


@pytest.mark.parametrize("escape", ["\\ud800", "\\uD800"])
def test_an_answer_with_a_lone_surrogate_lands_it_as_the_replacement_character(warehouse, escape):
    answer = [record("a", "2024-01-01", note="broken \ud800 text"), record("b", "2024-01-02")]
    page = listed_page(answer)
    page = replace(page, answer=page.answer.replace("\\ud800", escape))
    assert escape in page.answer
    with warehouse.connect() as con:
        landed = land_page(con, "servicenow", INCIDENT, page)
        notes = con.execute(
            "SELECT record_key, record->>'note' FROM raw.servicenow_incident ORDER BY 1"
        ).fetchall()
    assert (landed.stored, notes) == (2, [("a", "broken \ufffd text"), ("b", None)])


def test_two_copies_of_one_version_in_a_page_keep_the_later(warehouse):
    """PagerDuty's last page holds an open incident twice, as listed and as re-read by id: with
    whole-second update times, an incident resolved in the second it was listed has one version
    for both copies, and the re-read (later in the page) is its state."""
    with warehouse.connect() as con:
        for n in range(40):
            first = record(f"k{n}", "2025-06-01 10:00:00", state="1")
            filler = [record(f"f{n}-{i}", "2025-06-01 09:00:00", state="1") for i in range(50)]
            later = record(f"k{n}", "2025-06-01 10:00:00", state="6")
            land_page(con, "servicenow", INCIDENT, Page([first, *filler, later], None))
        states = {state for key, _, state in raw_rows(con) if key.startswith("k")}
    assert states == {"6"}
