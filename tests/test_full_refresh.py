"""A full refresh replaces a source's raw rows, and a refresh that dies halfway deletes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.base import WEEKLY, Page, Stream
from warehouse.ingest import ingest
from warehouse.landing import read_cursor
from warehouse.refresh import refresh_due

INCIDENT = Stream("incident", primary_key="sys_id", cursor_field="sys_updated_on")


class Instance:
    """A paging source over a set of keys that tests can shrink; 3 records a page."""

    name = "servicenow"

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def streams(self) -> list[Stream]:
        return [INCIDENT]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        start = int(cursor) if cursor else 0
        for first in range(start, len(self.keys), 3):
            records = [
                {"sys_id": k, "sys_updated_on": "2025-01-01"} for k in self.keys[first : first + 3]
            ]
            yield Page(records, str(first + 3))


def stored_keys(con) -> list[str]:
    return [
        r[0]
        for r in con.execute("SELECT record_key FROM raw.servicenow_incident ORDER BY 1").fetchall()
    ]


KEYS = [f"r{n:02d}" for n in range(12)]


def test_full_refresh_removes_records_the_source_no_longer_returns(warehouse):
    instance = Instance(list(KEYS))
    with warehouse.connect() as con:
        ingest(con, instance, "first")
        instance.keys = [k for k in KEYS if k not in ("r03", "r10")]
        incremental = ingest(con, instance, "incremental")
        assert stored_keys(con) == KEYS  # merging alone never notices a record is gone
        refreshed = ingest(con, instance, "refresh", full_refresh=True)
        assert stored_keys(con) == instance.keys
        assert refreshed.streams["incident"].removed == 2
        assert read_cursor(con, "servicenow", "incident") == "12"
        again = ingest(con, instance, "refresh-again", full_refresh=True)
    assert incremental.streams["incident"].removed == 0
    assert again.streams["incident"].removed == 0


def test_a_full_refresh_killed_halfway_leaves_the_last_good_rows(warehouse, tmp_path):
    """SIGKILL during a refresh that would remove r03..r11: every stored row is still there and
    readable, and the next complete refresh removes exactly what the source lost."""
    with warehouse.connect() as con:
        ingest(con, Instance(list(KEYS)), "first")
    script = tmp_path / "refresh.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import time
            from connectors.base import Page, Stream
            from warehouse import Warehouse
            from warehouse.ingest import ingest

            class Stalling:
                name = "servicenow"
                def streams(self):
                    return [Stream("incident", "sys_id", "sys_updated_on")]
                def read(self, stream, cursor):
                    for n in range(2):
                        yield Page([{{"sys_id": f"r0{{n}}", "sys_updated_on": "2025-01-02"}}], str(n + 1))
                        print("landed", n, flush=True)
                    time.sleep(60)  # killed here, before the stream ends

            with Warehouse.at({str(warehouse.published_path)!r}).connect() as con:
                ingest(con, Stalling(), "killed", full_refresh=True)
            """
        )
    )
    refresh = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    assert refresh.stdout.readline().startswith("landed 0")
    assert refresh.stdout.readline().startswith("landed 1")
    refresh.send_signal(signal.SIGKILL)
    refresh.wait()
    with warehouse.connect() as con:
        assert stored_keys(con) == KEYS
        versions = dict(
            con.execute("SELECT record_key, record_version FROM raw.servicenow_incident").fetchall()
        )
        assert (versions["r00"], versions["r01"], versions["r02"]) == (
            "2025-01-02",
            "2025-01-02",
            "2025-01-01",
        )
        assert read_cursor(con, "servicenow", "incident") == "2"  # matches what the refresh stored
        finished = ingest(con, Instance(["r00", "r01", "r02"]), "refresh", full_refresh=True)
        assert stored_keys(con) == ["r00", "r01", "r02"]
    assert finished.streams["incident"].removed == 9


def test_a_refresh_that_reads_nothing_keeps_the_stored_records(warehouse, caplog):
    """An empty answer is likelier an ACL or a filter hiding records than an empty source."""
    with warehouse.connect() as con:
        ingest(con, Instance(list(KEYS)), "first")
        result = ingest(con, Instance([]), "refresh", full_refresh=True)
        assert stored_keys(con) == KEYS
    assert result.streams["incident"].removed == 0
    assert "the full refresh read no records; keeping the 12 stored ones" in caplog.text


class Ledger:
    """A source that cannot report deletions: records paged in version order after the cursor
    (the last one read), two a page. A whole read (no cursor) can be made to break off."""

    name = "ledger"

    def __init__(self, records: dict[str, str]) -> None:
        self.records = dict(records)  # key -> version
        self.break_whole_reads = False

    def streams(self) -> list[Stream]:
        return [Stream("items", "id", "v", refresh_every=WEEKLY)]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        after = tuple(cursor.split("|")) if cursor else ("", "")
        order = sorted((v, k) for k, v in self.records.items() if (v, k) > after)
        for first in range(0, len(order), 2):
            if cursor is None and first > 0 and self.break_whole_reads:
                raise RuntimeError("the source broke off")
            page = order[first : first + 2]
            yield Page([{"id": k, "v": v} for v, k in page], "|".join(page[-1]))


def ledger_rows(con) -> dict[str, str]:
    return dict(con.execute("SELECT record_key, record_version FROM raw.ledger_items").fetchall())


def weeks_pass(con) -> None:
    con.execute("UPDATE meta.full_refreshes SET finished_at = finished_at - INTERVAL 8 DAY")


def test_a_scheduled_whole_read_follows_the_incremental_one_and_holds_back_no_update(warehouse):
    ledger = Ledger({f"r{n}": "1" for n in range(6)})
    with warehouse.connect() as con:
        first = ingest(con, ledger, "first")  # read whole: stamped, no second read
        weeks_pass(con)
        ledger.records["r1"] = "2"
        ledger.break_whole_reads = True
        with pytest.raises(RuntimeError, match="broke off"):
            ingest(con, ledger, "broken")
        after_broken = ledger_rows(con)
        after_broken_cursor = read_cursor(con, "ledger", "items")
        ledger.break_whole_reads = False
        finished = ingest(con, ledger, "next night")
        again = ingest(con, ledger, "the night after")
    assert first.streams["items"].received == 6
    assert after_broken["r1"] == "2"  # landed by the incremental read before the whole one
    # The broken read left the cursor after its first page (r0, r2), so the next night reads on
    # from there (r3, r4, r5 and r1 again: nothing lost), then all six, still due; the night
    # after reads incrementally only, and finds nothing new.
    assert after_broken_cursor == "1|r2"
    assert finished.streams["items"].received == 4 + 6
    assert again.streams["items"].received == 0


def test_a_scheduled_whole_read_removes_a_record_only_when_the_one_before_missed_it_too(warehouse):
    """A source paged by position skips a record when another leaves mid-read; that record is
    not gone, and the next whole read finds it."""
    ledger = Ledger({f"r{n}": "1" for n in range(6)})
    with warehouse.connect() as con:
        ingest(con, ledger, "first")
        del ledger.records["r2"]  # deleted at the source
        skipped = ledger.records.pop("r4")  # skipped by one whole read only
        weeks_pass(con)
        once = ingest(con, ledger, "week 1")
        kept = set(ledger_rows(con))
        missed = con.execute("SELECT record_key FROM meta.refresh_misses ORDER BY 1").fetchall()
        ledger.records["r4"] = skipped
        weeks_pass(con)
        twice = ingest(con, ledger, "week 2")
        left = set(ledger_rows(con))
        still_missed = con.execute("SELECT record_key FROM meta.refresh_misses").fetchall()
    assert once.streams["items"].removed == 0 and kept == {f"r{n}" for n in range(6)}
    assert missed == [("r2",), ("r4",)]
    assert twice.streams["items"].removed == 1 and left == {"r0", "r1", "r3", "r4", "r5"}
    assert still_missed == []


@pytest.mark.parametrize(("ago", "due"), [(None, True), (6.0, False), (6.6, True), (8.0, True)])
def test_a_weekly_whole_read_is_due_half_a_day_early_so_nightly_runs_keep_the_week(
    warehouse, ago, due
):
    with warehouse.connect() as con:
        if ago is not None:
            con.execute(
                "INSERT INTO meta.full_refreshes VALUES ('ledger', 'items', now() - ?)",
                [timedelta(days=ago)],
            )
        assert refresh_due(con, "ledger", "items", WEEKLY) is due
        assert refresh_due(con, "ledger", "items", timedelta(0)) is False


def test_the_interval_setting_reaches_only_streams_that_need_whole_reads(warehouse):
    """A stream whose source reports deletions (or windows costs) has no whole reads to time."""
    instance = Instance(list(KEYS))
    with warehouse.connect() as con:
        ingest(con, instance, "first", refresh_every=timedelta(days=1))
        instance.keys = KEYS[:-1]
        later = ingest(con, instance, "later", refresh_every=timedelta(days=1))
        stamped = con.execute("SELECT count(*) FROM meta.full_refreshes").fetchall()
        assert stored_keys(con) == KEYS
    assert (later.streams["incident"].received, stamped) == (0, [(0,)])


class SkippingLedger(Ledger):
    """A Ledger whose whole reads skip the keys in `skipped` (paging by position passes over a
    record when another leaves mid-read), while incremental reads still find them."""

    def __init__(self, records: dict[str, str]) -> None:
        super().__init__(records)
        self.skipped: set[str] = set()

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        for page in super().read(stream, cursor):
            if cursor is None:
                page.records = [r for r in page.records if r["id"] not in self.skipped]
            yield page


def test_a_record_read_between_two_whole_reads_that_skip_it_is_not_removed(warehouse):
    """A record the incremental read lands after one whole read missed it exists: that miss no
    longer counts, so one more skip by the next whole read does not remove it."""
    ledger = SkippingLedger({f"r{n}": "1" for n in range(6)})
    with warehouse.connect() as con:
        ingest(con, ledger, "first")
        ledger.skipped = {"r4"}
        weeks_pass(con)
        ingest(con, ledger, "week 1")  # whole read skips r4: one miss
        ledger.records["r4"] = "2"
        between = ingest(con, ledger, "a night between")  # r4 updated, landed incrementally
        weeks_pass(con)
        week_2 = ingest(con, ledger, "week 2")  # whole read skips r4 again
        rows = ledger_rows(con)
        missed = con.execute("SELECT record_key FROM meta.refresh_misses").fetchall()
    assert between.streams["items"].received == 1
    # r4 was read at version 2 after the first miss: only the second miss counts.
    assert week_2.streams["items"].removed == 0
    assert rows == {"r0": "1", "r1": "1", "r2": "1", "r3": "1", "r4": "2", "r5": "1"}
    assert missed == [("r4",)]
