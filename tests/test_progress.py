"""Load progress: records so far and rate, at most once per interval; a bar on a terminal."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from connectors.base import Page, Stream
from connectors.progress import PROGRESS_LOGGERS, Progress, show_progress_on_terminal
from warehouse.ingest import ingest

LOGGER = "warehouse.test_progress"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    levels = {name: logging.getLogger(name).level for name in PROGRESS_LOGGERS}
    stream = Terminal()
    handler = show_progress_on_terminal(stream)
    assert handler is not None
    yield stream
    for name, level in levels.items():
        logging.getLogger(name).removeHandler(handler)
        logging.getLogger(name).setLevel(level)


def test_reports_at_most_once_per_interval_with_the_rate_of_that_interval(caplog):
    clock = FakeClock()
    progress = Progress("servicenow.incident", logging.getLogger(LOGGER), interval=5.0, clock=clock)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for second in range(12):  # a page of 1,000 records every second, t = 0 .. 11
            clock.now = second
            progress.add(1000)
        clock.now = 12.0
        progress.finish("cursor now 2025-05-01")
    assert [r.getMessage() for r in caplog.records] == [
        # t=5: 6 pages (t=0..5) since the start 5 s before: 6,000 / 5 s = 1,200/s.
        "servicenow.incident: 6,000 records so far (1,200/s)",
        # t=10: 5 more pages since t=5: 5,000 / 5 s = 1,000/s. Nothing at t=6..9 or t=11.
        "servicenow.incident: 11,000 records so far (1,000/s)",
        # The end: 12,000 records over 12 s = 1,000/s on average.
        "servicenow.incident: 12,000 records in 12.0s (1,000/s), cursor now 2025-05-01",
    ]


def test_a_stalled_source_shows_as_a_falling_rate(caplog):
    clock = FakeClock()
    progress = Progress("focus", logging.getLogger(LOGGER), "line items", interval=5.0, clock=clock)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        clock.now = 5.0
        progress.add(50_000, "file 1 of 3")  # 50,000 in the first 5 s: 10,000/s
        clock.now = 30.0
        progress.add(1_000, "file 2 of 3")  # 1,000 in the next 25 s: 40/s
    assert [r.getMessage() for r in caplog.records] == [
        "focus: 50,000 line items so far (10,000/s), file 1 of 3",
        "focus: 51,000 line items so far (40/s), file 2 of 3",
    ]


def test_on_a_terminal_progress_is_one_bar_redrawn_in_place(terminal):
    clock = FakeClock()
    log = logging.getLogger("connectors.test_progress")
    progress = Progress("measures", log, total=10, interval=1.0, clock=clock)
    clock.now = 1.0
    progress.add(5)  # 5 of 10 after 1 s: half the bar, 5/s
    log.info("measures: a line of its own")
    clock.now = 2.0
    progress.add(5)
    progress.finish()
    half = "[" + "#" * 15 + "." * 15 + "]"
    full = "[" + "#" * 30 + "]"
    assert terminal.getvalue() == (
        f"\r\033[K{half}  50% measures: 5 records of 10 so far (5/s)"
        "\nmeasures: a line of its own\n"
        f"\r\033[K{full} 100% measures: 10 records of 10 so far (5/s)"
        f"\r\033[K{full} 100% measures: 10 records of 10 in 2.0s (5/s)\n"
    )


def test_without_a_terminal_no_bar_is_installed():
    assert show_progress_on_terminal(io.StringIO()) is None


class Pages:
    name = "servicenow"

    def streams(self) -> list[Stream]:
        return [Stream("incident", "sys_id", "sys_updated_on")]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        for n in range(3):
            yield Page([{"sys_id": f"{n}-{i}", "sys_updated_on": f"{n}"} for i in range(4)], f"{n}")


def test_a_load_ends_with_its_total_in_the_run_log(warehouse, caplog):
    with caplog.at_level(logging.INFO, logger="warehouse"), warehouse.connect() as con:
        ingest(con, Pages(), "run")
    final = [r for r in caplog.records if getattr(r, "progress", None) is not None]
    assert len(final) == 1
    assert final[0].name == "warehouse.ingest"
    assert final[0].getMessage().startswith("servicenow.incident: 12 records in ")
    assert final[0].getMessage().endswith(", 3 pages, 0 records removed, cursor now 2")


def test_the_load_command_draws_a_bar_on_a_terminal(tmp_path):
    """`itsm-scorecard load servicenow` with stderr on a pseudo-terminal, against the emulator."""
    import os
    import pty
    import subprocess
    import sys

    from connectors.emulators.servicenow import Credentials, serve
    from connectors.emulators.servicenow_tables import MemoryTable
    from connectors.servicenow import TABLE_FIELDS

    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["incident"] = MemoryTable.of(
        "incident",
        [{"sys_id": f"i{n:03d}", "sys_updated_on": f"2025-05-01 10:00:{n:02d}"} for n in range(7)],
    )
    controller, terminal_side = pty.openpty()
    with serve(tables, Credentials("tester", "s3cret-pass")) as server:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SCORECARD_", "SERVICENOW_"))
        }
        env.update(
            SERVICENOW_INSTANCE_URL=server.url,
            SERVICENOW_USERNAME="tester",
            SERVICENOW_PASSWORD="s3cret-pass",
            SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        )
        run = subprocess.run(
            [sys.executable, "-m", "settings.cli", "load", "servicenow"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=terminal_side,
            text=True,
            timeout=120,
        )
    os.close(terminal_side)
    shown = os.read(controller, 65536).decode()
    os.close(controller)
    assert run.returncode == 0, shown
    assert run.stdout == "servicenow: 7 records received\n"
    assert "\r\x1b[Kservicenow.incident: 7 records in " in shown
    assert "s3cret-pass" not in shown
