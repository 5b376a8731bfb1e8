"""What every connector promises, so one landing routine serves them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

Record = dict[str, Any]
# How often a stream whose source cannot report deletions is read whole by default.
WEEKLY = timedelta(days=7)


def _plain(value: Any) -> str:
    """A reference object ({"value": ..., "link": ...}) stands for its value."""
    if isinstance(value, dict):
        value = value.get("value", value.get("id"))
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Stream:
    """One entity of a source: where it lands and how versions of a record compare."""

    name: str
    primary_key: str
    cursor_field: str | None = None
    # Turns a record's cursor field into a string that sorts in time order (e.g. UTC ISO).
    version_of: Callable[[Record], str] | None = field(default=None, compare=False)
    # For a source that cannot report deletions: how often the stream is read whole, so that the
    # records it no longer returns are removed (warehouse/refresh.py). None: never needed.
    refresh_every: timedelta | None = field(default=None, compare=False)

    def key(self, record: Record) -> str:
        return _plain(record.get(self.primary_key))

    def version(self, record: Record) -> str:
        if self.version_of is not None:
            return self.version_of(record)
        return _plain(record.get(self.cursor_field)) if self.cursor_field else ""


@dataclass
class Page:
    """Records as received, and the cursor that is safe to resume from once they are stored."""

    records: list[Record]
    cursor: str | None


@dataclass
class ListedPage(Page):
    """A page whose records are the items from `first` on of the list at JSON path `path` of
    one answer, kept with that answer's text: landing cuts each record's JSON out of the text
    (DuckDB parses faster than Python encodes the decoded records again)."""

    answer: str = field(default="", repr=False)
    path: str = "$"
    first: int = 0


class Source(Protocol):
    """A paging source: declares its streams and reads one of them from a cursor.

    A source whose staging needs its settings in the warehouse (the cost sources' currency)
    also defines `prepare(con)`, which the landing loop calls before the first page.
    """

    name: str

    def streams(self) -> list[Stream]: ...

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]: ...


@dataclass(frozen=True)
class FileStream:
    """An entity read from files: each file's rows land in raw.<source>_*, keyed by file and row,
    and a file whose content is unchanged is not read again.

    By default each changed file replaces its own rows, and a file that left the set keeps them.
    A stream whose files are `together` one set (spreadsheets whose keys move between files)
    lands all of them again, in one transaction, when any file or the set itself changed.
    """

    name: str
    together: bool = False


class FileSource(Protocol):
    """A source read from files (FOCUS exports, measure spreadsheets).

    The landing loop (warehouse/ingest.py) skips a file whose content hash is unchanged and calls
    `land_file` inside one transaction with the file's new hash, so a changed file replaces its
    rows whole or not at all. `land_file` inserts the rows with SQL (DuckDB reads CSV and Parquet
    itself; a workbook arrives as Arrow columns) and raises SourceError naming the file when it
    cannot be loaded; `note_problem` records that.
    """

    name: str

    def streams(self) -> list[FileStream]: ...

    def files(self) -> list[Path]: ...

    def prepare(self, con: Any) -> None: ...

    def land_file(self, con: Any, path: Path, run_id: str | None) -> int: ...

    def note_problem(self, con: Any, path: Path, problem: str, run_id: str | None) -> None: ...

    def forget_file(self, con: Any, path: str) -> None:
        """Remove the rows a file landed (inside the caller's transaction): the landing loop
        calls it for a file no longer listed when a listed file with its content lands, as the
        file was renamed or moved, and its line items must not count under both names."""


class FileSetSource(FileSource, Protocol):
    """A file source with a `together` stream: `clear` removes every row the last set landed,
    in the transaction that lands the new set."""

    def clear(self, con: Any) -> None: ...
