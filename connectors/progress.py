"""Progress of long loads: records so far and their rate, in the run log at most every few seconds.

A load of a million records runs for minutes; without a line now and then the run log looks hung.
The reporter logs through the caller's logger (under `connectors` or `warehouse`, which Dagster
forwards to the run log). On a terminal, `show_progress_on_terminal` turns those lines into one
progress bar that redraws in place.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

DEFAULT_INTERVAL = 5.0
BAR_WIDTH = 30
PROGRESS_LOGGERS = ("connectors", "warehouse")


@dataclass(frozen=True)
class ProgressUpdate:
    """One report: what is loading, how much is done (of how much, when known), how fast."""

    label: str
    done: int
    unit: str
    rate: float
    seconds: float
    total: int | None = None
    detail: str = ""
    finished: bool = False

    def message(self) -> str:
        so_far = f"{self.done:,} {self.unit}" + (f" of {self.total:,}" if self.total else "")
        detail = f", {self.detail}" if self.detail else ""
        if self.finished:
            return f"{self.label}: {so_far} in {self.seconds:.1f}s ({self.rate:,.0f}/s){detail}"
        return f"{self.label}: {so_far} so far ({self.rate:,.0f}/s){detail}"


class Progress:
    """Counts the records of one load and reports them at most once per `interval` seconds.

    The rate is that of the last interval, so a stalled source shows as a falling rate rather
    than hiding behind a good start; the final report gives the average over the whole load.
    """

    def __init__(
        self,
        label: str,
        logger: logging.Logger,
        unit: str = "records",
        total: int | None = None,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.logger = logger
        self.unit = unit
        self.total = total
        self.interval = interval
        self.clock = clock
        self.done = 0
        self.started = clock()
        self._reported_at = self.started
        self._reported_done = 0

    def add(self, count: int, detail: str = "") -> None:
        """Count `count` more records; report when the interval has passed since the last one."""
        self.done += count
        now = self.clock()
        elapsed = now - self._reported_at
        if elapsed < self.interval:
            return
        rate = (self.done - self._reported_done) / elapsed if elapsed > 0 else 0.0
        self._report(
            ProgressUpdate(
                self.label, self.done, self.unit, rate, now - self.started, self.total, detail
            )
        )
        self._reported_at, self._reported_done = now, self.done

    def finish(self, detail: str = "") -> ProgressUpdate:
        """Report the total and the average rate; always logged."""
        seconds = self.clock() - self.started
        rate = self.done / seconds if seconds > 0 else 0.0
        update = ProgressUpdate(
            self.label, self.done, self.unit, rate, seconds, self.total, detail, finished=True
        )
        self._report(update)
        return update

    def _report(self, update: ProgressUpdate) -> None:
        self.logger.info("%s", update.message(), extra={"progress": update})


class TerminalProgress(logging.Handler):
    """Draws progress reports as one bar redrawn in place; other log lines print above it."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.INFO)
        self.stream = stream
        self._bar_shown = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            update = getattr(record, "progress", None)
            if update is None:
                self._end_bar()
                self.stream.write(self.format(record) + "\n")
            elif update.finished:
                self.stream.write("\r\033[K" + _bar(update) + "\n")
                self._bar_shown = False
            else:
                self.stream.write("\r\033[K" + _bar(update))
                self._bar_shown = True
            self.stream.flush()
        except Exception:  # a broken terminal must not stop a load
            self.handleError(record)

    def _end_bar(self) -> None:
        if self._bar_shown:
            self.stream.write("\n")
            self._bar_shown = False


def _bar(update: ProgressUpdate) -> str:
    """`[#####.....]  45% label: 4,500 records of 10,000 (900/s)`; without a total, no bar."""
    if update.total:
        share = min(1.0, update.done / update.total)
        filled = round(share * BAR_WIDTH)
        return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%} {update.message()}"
    return update.message()


def show_progress_on_terminal(stream: TextIO | None = None) -> TerminalProgress | None:
    """On a terminal, show load progress as a bar (and other INFO lines as text); else nothing."""
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        return None
    handler = TerminalProgress(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in PROGRESS_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    return handler
