"""A full refresh replaces a source's raw rows, and a refresh that dies halfway deletes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

from connectors.base import Page, Stream
from warehouse.ingest import ingest
from warehouse.landing import read_cursor

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
