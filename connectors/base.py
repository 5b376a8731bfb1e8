"""What every connector promises, so one landing routine serves them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

Record = dict[str, Any]


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


class Source(Protocol):
    """A paging source: declares its streams and reads one of them from a cursor."""

    name: str

    def streams(self) -> list[Stream]: ...

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]: ...


class FileSource(Protocol):
    """A source read from files by DuckDB directly (FOCUS exports, spreadsheets).

    `load` is given an open warehouse connection; it must be idempotent per file (same content
    hash = skip, changed file = replace its rows) and return rows loaded per stream.
    """

    name: str

    def load(self, con: Any, run_id: str | None) -> dict[str, int]: ...
