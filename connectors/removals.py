"""How a source says that records it delivered before are gone.

Merging by key only ever adds or updates. Three kinds of source news remove records instead:
- a window read whole (a restated cost day): stored records of that window that the new read
  lacks no longer exist, so the page carries its window and landing replaces it whole;
- a deletion log (ServiceNow's sys_audit_delete): each entry names a deleted record, so landing
  removes that record from its stream's raw table;
- a record found gone when read by key (PagerDuty answers 404 for a deleted incident): the page
  names it, and landing removes it as it removes a deletion log's record.

A record restored after its deletion (ServiceNow's deleted records list) comes back as it was,
with its old version, which the deletion's removal outranks: a RestoredPage lands it no older
than its restore instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.base import Page, Record, Stream

# Appended to a restore time ('2025-06-15 10:00:00~'): after every version of that second ('~'
# sorts after digits and letters), before the next second's.
RESTORED_IN_ITS_SECOND = "~"


@dataclass
class WindowPage(Page):
    """Every record whose version (cursor field) lies in [window[0], window[1]), and only those."""

    window: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Deletion:
    """A record of `stream` with primary key `key` was deleted at `deleted_at`.

    `deleted_at` compares with the stream's record versions, so a record restored (or updated)
    after the deletion is kept.
    """

    stream: str
    key: str
    deleted_at: str


@dataclass
class GonePage(Page):
    """A page that also names records of its own stream found deleted at the source; they are
    removed in the transaction that stores the page, after its records."""

    gone: list[Deletion] = field(default_factory=list)


@dataclass(frozen=True)
class DeletionLog(Stream):
    """A stream whose records each report the deletion of a record of another stream."""

    deletion_of: Callable[[Record], Deletion] | None = field(default=None, compare=False)

    def deletion(self, record: Record) -> Deletion:
        if self.deletion_of is None:
            raise TypeError(f"deletion log {self.name} does not say how to read its entries")
        return self.deletion_of(record)


@dataclass
class RestoredPage(Page):
    """Records restored at the source after a deletion: each lands with the later of its own
    version and its restore time (`restored_at` by primary key), so that neither a removal
    landed before nor its deletion read later outranks it."""

    restored_at: dict[str, str] = field(default_factory=dict)

    def version_of(self, key: str, version: str) -> str:
        """The version a restored record lands with. Audit times have whole seconds, and a
        restore always follows its deletion: a restore time sorts after its own second (and
        before the next), so a deletion in the same second does not outrank it."""
        restored = self.restored_at.get(key)
        return max(version, restored + RESTORED_IN_ITS_SECOND) if restored else version
