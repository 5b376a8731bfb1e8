"""A full refresh replaces a stream's raw rows: records the source no longer returns disappear.

The refresh lands pages as every run does (appended with their cursor, so a crash leaves
the last good rows plus whatever it read, and a cursor that matches them) and notes each key it
reads in a temporary table. Only when the stream has been read to its end are the stored records
it did not read removed, in one transaction. A refresh that dies halfway deletes nothing.

A scheduled refresh (a stream whose source cannot report deletions, read whole every so often)
runs after the night's incremental read and keeps its cursor, so one that never finishes holds
back no update; it removes a record only when the scheduled refresh before it missed it too
and no page landed since read it (warehouse/sql/clear_refresh_misses.sql).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import duckdb

from warehouse.landing import ensure_raw_table, landing_sql, versions_table
from warehouse.transaction import transaction

log = logging.getLogger(__name__)


def refresh_due(
    con: duckdb.DuckDBPyConnection, source: str, stream: str, every: timedelta | None
) -> bool:
    """Whether a stream read whole every `every` is due: never read whole, or not for that long.

    A first load reads everything anyway, so reading it as a refresh costs nothing extra. The
    last one counts from when it finished, less half a day (at most half the interval), so a
    nightly run keeps a weekly rhythm however long the read took.
    """
    if not every:
        return False
    last = con.execute(
        "SELECT now() - finished_at FROM meta.full_refreshes WHERE source = ? AND stream = ?",
        [source, stream],
    ).fetchall()
    return not last or last[0][0] >= every - min(timedelta(hours=12), every / 2)


@dataclass(frozen=True)
class FullRefresh:
    """The keys one stream's full refresh has read so far (a connection-local temp table)."""

    source: str
    stream: str
    # Scheduled: a record is removed only when the scheduled refresh before missed it too.
    scheduled: bool = False

    @property
    def read_keys(self) -> str:
        return f"temp.full_refresh_{self.source}_{self.stream}"

    def start(self, con: duckdb.DuckDBPyConnection) -> None:
        ensure_raw_table(con, self.source, self.stream)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.read_keys.removeprefix('temp.')} "
            "(record_key VARCHAR)"
        )

    def sweep(self, con: duckdb.DuckDBPyConnection, windowed: bool = False) -> int:
        """Delete the stored records this refresh did not read; returns how many.

        A source that answered nothing at all is more likely hiding records (an ACL, a filter, an
        outage answering 200) than empty: then nothing is deleted and the log says why. A stream
        read in windows (connectors/removals.py WindowPage, the cost APIs' days) removed what
        each window lacks as it landed; a record outside every window was not asked for (a day
        older than the provider serves), so `windowed` removes nothing more.
        """
        table = ensure_raw_table(con, self.source, self.stream)
        read, stored = con.execute(
            f"SELECT (SELECT count(*) FROM {self.read_keys}), (SELECT count(*) FROM {table})"
        ).fetchall()[0]
        if read == 0 and stored > 0 and not windowed:
            log.warning(
                "%s.%s: the full refresh read no records; keeping the %d stored ones (delete "
                "them by hand if the source really is empty)",
                self.source,
                self.stream,
                stored,
            )
            removed = 0  # not stamped: the next run reads it whole again
        else:
            tables = {
                "raw_table": table,
                "versions_table": versions_table(table),
                "seen_table": self.read_keys,
            }
            key = {"source": self.source, "stream": self.stream}
            with transaction(con):
                removed = (
                    0
                    if windowed
                    else con.execute(
                        landing_sql("sweep_unread", **tables),
                        {**key, "missed_twice": self.scheduled},
                    ).fetchall()[0][0]
                )
                con.execute(
                    "DELETE FROM meta.refresh_misses WHERE source = $source AND stream = $stream",
                    key,
                )
                if self.scheduled:
                    con.execute(landing_sql("note_refresh_misses", **tables), key)
                con.execute(
                    "INSERT INTO meta.full_refreshes VALUES (?, ?, now()) "
                    "ON CONFLICT (source, stream) DO UPDATE SET finished_at = excluded.finished_at",
                    [self.source, self.stream],
                )
        con.execute(f"DROP TABLE IF EXISTS {self.read_keys}")
        return removed
