"""Read a source into raw tables: one loop for every paging source, page by page, and one for
every file source, file by file (or, for files that form one set, the whole set at once)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from connectors.base import FileSetSource, FileSource, FileStream, Source, Stream
from connectors.files import (
    content_hash,
    forget_loaded_file,
    forget_loaded_files,
    loaded_hashes,
    record_loaded_file,
)
from connectors.http import PermanentSourceError, SourceError
from connectors.progress import Progress
from connectors.removals import DeletionLog, WindowPage
from warehouse.landing import compact_raw_table, land_page, read_cursor, reset_cursor
from warehouse.refresh import FullRefresh, refresh_due
from warehouse.store import WarehouseError, landing_settings
from warehouse.transaction import transaction

log = logging.getLogger(__name__)


@dataclass
class StreamLoad:
    stream: str
    pages: int = 0
    received: int = 0
    stored: int = 0
    removed: int = 0
    seconds: float = 0.0
    started_from: str | None = None
    cursor: str | None = None
    # Files that could not be loaded, each with its problem (file streams only).
    refused: list[str] = field(default_factory=list)

    def then(self, later: StreamLoad) -> StreamLoad:
        """This load and a later read of the same stream in the same run, as one."""
        return StreamLoad(
            self.stream,
            self.pages + later.pages,
            self.received + later.received,
            self.stored + later.stored,
            self.removed + later.removed,
            self.seconds + later.seconds,
            self.started_from,
            later.cursor or self.cursor,
        )


@dataclass
class SourceLoad:
    source: str
    streams: dict[str, StreamLoad] = field(default_factory=dict)

    @property
    def received(self) -> int:
        return sum(s.received for s in self.streams.values())


class FilesRefused(PermanentSourceError):
    """Files that could not be loaded, raised once the source's other files have landed.

    `load` is what did land; `holds_files` says whether the warehouse holds any file of the
    source (landed now or before), so a caller can go on with those and let
    scorecard.data_quality name the refused ones.
    """

    def __init__(self, message: str, load: SourceLoad, holds_files: bool) -> None:
        super().__init__(message)
        self.load = load
        self.holds_files = holds_files


def claim_origin(con: duckdb.DuckDBPyConnection, source: str, origin: str) -> None:
    """Refuse to load a source into a warehouse that holds its records from another origin."""
    held = con.execute(
        "SELECT origin FROM meta.source_origins WHERE source = ?", [source]
    ).fetchall()
    if held and held[0][0] != origin:
        database = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0][0]
        raise WarehouseError(
            f"{source}: the warehouse {database} holds {source} records from {held[0][0]}, "
            f"and this run reads {origin}; loading both would blend them. Point "
            "SCORECARD_WAREHOUSE at another file, or delete this one (and its published copy) "
            "to start over."
        )
    if not held:
        con.execute("INSERT INTO meta.source_origins VALUES (?, ?, now())", [source, origin])


def ingest(
    con: duckdb.DuckDBPyConnection,
    source: Source | FileSource,
    run_id: str | None = None,
    full_refresh: bool = False,
    origin: str = "the configured source",
    refresh_every: timedelta | None = None,
) -> SourceLoad:
    """Land every stream of a source; resumes from the stored cursor unless full_refresh.

    A full refresh also forgets what the source's core rows were staged from, so the next
    staging restages them even if the refresh read exactly the records already stored. A stream
    that must be read whole now and then to see deletions (Stream.refresh_every, its interval
    overridden by `refresh_every`; zero: never) gets a scheduled refresh when that is due. Files
    that cannot be loaded raise FilesRefused once the source's other files have landed.
    """
    claim_origin(con, source.name, origin)
    if full_refresh:
        con.execute("DELETE FROM meta.staging_fingerprints WHERE source = ?", [source.name])
    result = SourceLoad(source.name)
    read_started = datetime.now(UTC)
    streams = source.streams()
    if not any(isinstance(stream, FileStream) for stream in streams):
        prepare = getattr(source, "prepare", None)
        if prepare is not None:
            prepare(con)
    for stream in streams:
        if isinstance(stream, FileStream) and stream.together:
            result.streams[stream.name] = _land_file_set(con, source, stream, run_id, full_refresh)
        elif isinstance(stream, FileStream):
            result.streams[stream.name] = _land_files(con, source, stream, run_id, full_refresh)
        else:
            result.streams[stream.name] = _land_paged(
                con, source, stream, run_id, full_refresh, refresh_every
            )
    refused = [problem for load in result.streams.values() for problem in load.refused]
    if refused:
        held = con.execute(
            "SELECT count(*) FROM meta.loaded_files WHERE source = ?", [source.name]
        ).fetchall()[0][0]
        raise FilesRefused("; ".join(refused), result, holds_files=held > 0)
    if not any(isinstance(stream, FileStream) for stream in streams):
        _note_source_read(con, source.name, read_started, run_id)
    return result


def _note_source_read(
    con: duckdb.DuckDBPyConnection, source: str, read_started: datetime, run_id: str | None
) -> None:
    """Every stream of a paging source was read to its end: what it changed before the read
    started is in (meta.source_reads, which tells the KPI step which periods are complete)."""
    con.execute(
        "INSERT INTO meta.source_reads VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE "
        "SET read_at = excluded.read_at, run_id = excluded.run_id",
        [source, read_started, run_id],
    )


def _land_paged(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    stream: Stream,
    run_id: str | None,
    full_refresh: bool,
    refresh_every: timedelta | None,
) -> StreamLoad:
    """A paged stream: incrementally, by a full refresh when asked, and read whole again after
    the incremental read when its scheduled refresh is due."""
    # A deletion log goes on from its cursor: the refresh of the tables removes what is gone,
    # and its old entries, read again, would remove records restored since.
    if full_refresh and not isinstance(stream, DeletionLog):
        return _land_stream(con, source, stream, run_id, FullRefresh(source.name, stream.name))
    every = (
        stream.refresh_every if refresh_every is None or not stream.refresh_every else refresh_every
    )
    due = refresh_due(con, source.name, stream.name, every)
    scheduled = FullRefresh(source.name, stream.name, scheduled=True) if due else None
    if read_cursor(con, source.name, stream.name) is None:
        return _land_stream(con, source, stream, run_id, scheduled)  # a first load reads it whole
    load = _land_stream(con, source, stream, run_id)
    if scheduled is None:
        return load
    log.info(
        "%s.%s: reading it whole (every %g days) to remove the records deleted at the source",
        source.name,
        stream.name,
        every / timedelta(days=1),
    )
    return load.then(_land_stream(con, source, stream, run_id, scheduled, reset=False))


def _land_files(
    con: duckdb.DuckDBPyConnection,
    source: FileSource,
    stream: FileStream,
    run_id: str | None,
    full_refresh: bool,
) -> StreamLoad:
    """Land every new or changed file; the bad ones are listed in `refused`, after the rest land."""
    source.prepare(con)
    files = source.files()
    digests = {str(path): content_hash(path) for path in files}
    # A loaded file no longer listed whose content a listed file has was renamed or moved: its
    # rows go when the new name lands, so its line items are not counted under both names.
    held = loaded_hashes(con, source.name)
    unlisted: dict[str, list[str]] = {}
    for held_path, held_hash in held.items():
        if held_path not in digests:
            unlisted.setdefault(held_hash, []).append(held_path)
    copies = _copies(digests, held)
    if full_refresh:
        forget_loaded_files(con, source.name)
    load = StreamLoad(stream.name)
    started = time.monotonic()
    problems: list[str] = []
    progress = Progress(source.name, log, unit="rows")
    for number, path in enumerate(files, 1):
        digest = digests[str(path)]
        if str(path) in copies:
            problem = _copy_problem(source.name, path, copies[str(path)])
            log.warning(problem)
            problems.append(problem)
            with transaction(con):  # rows it landed before it had a twin go
                source.forget_file(con, str(path))
                forget_loaded_file(con, source.name, str(path))
                source.note_problem(con, path, problem, run_id)
            continue
        if not full_refresh and held.get(str(path)) == digest:
            log.info("%s: %s unchanged, skipped", source.name, path)
            continue
        try:
            with transaction(con):
                for earlier in unlisted.get(digest, []):
                    log.info("%s: %s is %s renamed or moved", source.name, path, earlier)
                    source.forget_file(con, earlier)
                    forget_loaded_file(con, source.name, earlier)
                rows = source.land_file(con, path, run_id)
                record_loaded_file(con, source.name, path, digest, rows, run_id)
            unlisted.pop(digest, None)
        except SourceError as exc:
            problems.append(str(exc))
            source.note_problem(con, path, str(exc), run_id)
            continue
        load.pages += 1
        load.received += rows
        load.stored += rows
        progress.add(rows, f"file {number} of {len(files)}")
    load.seconds = time.monotonic() - started
    progress.finish(f"{len(files)} files, {len(problems)} refused")
    # A bad file stays bad until someone replaces it: retrying the step cannot help.
    load.refused = problems
    return load


def _copy_problem(source: str, path: Path | str, kept: str) -> str:
    return (
        f"{source}: {path} holds the same content as {kept}: left out so its rows count once "
        "(remove one of the two)"
    )


def _copies(digests: dict[str, str], held: dict[str, str]) -> dict[str, str]:
    """Each listed file whose content another listed file has (a re-download saved as
    "export (1).csv", an export written twice under two names), with the file that counts: the
    one already loaded with that content, else the first listed."""
    kept: dict[str, str] = {}
    for path, digest in digests.items():
        if held.get(path) == digest:
            kept.setdefault(digest, path)
    for path, digest in digests.items():
        kept.setdefault(digest, path)
    return {path: kept[digest] for path, digest in digests.items() if kept[digest] != path}


def _land_file_set(
    con: duckdb.DuckDBPyConnection,
    source: FileSetSource,
    stream: FileStream,
    run_id: str | None,
    full_refresh: bool,
) -> StreamLoad:
    """Land every file again, in one transaction, when any file or the set of files changed.

    The last set's rows are cleared in the same transaction, so a key that moved between files
    is neither lost nor doubled and a file that left the set takes its rows with it; a run that
    dies half-way, or meets a bad file (listed in `refused`), leaves the last set whole.
    """
    if full_refresh:
        forget_loaded_files(con, source.name)
    source.prepare(con)
    files = source.files()
    load = StreamLoad(stream.name)
    started = time.monotonic()
    digests = {path: content_hash(path) for path in files}
    by_name = {str(path): digest for path, digest in digests.items()}
    held = loaded_hashes(con, source.name)
    if held == by_name:
        log.info("%s: %d file(s) unchanged, skipped", source.name, len(files))
        return load
    # A file whose content another one has (a copy saved as "finance (1).csv") lands once.
    copies = _copies(by_name, held)
    landing: Path | None = None
    try:
        with transaction(con):
            source.clear(con)
            forget_loaded_files(con, source.name)
            for landing, digest in digests.items():
                if str(landing) in copies:
                    problem = _copy_problem(source.name, landing, copies[str(landing)])
                    log.warning(problem)
                    source.note_problem(con, landing, problem, run_id)
                    rows = 0
                else:
                    rows = source.land_file(con, landing, run_id)
                record_loaded_file(con, source.name, landing, digest, rows, run_id)
                load.pages += 1
                load.received += rows
    except SourceError as exc:
        # The whole set rolled back; a bad file stays bad until someone replaces it.
        if landing is not None:
            source.note_problem(con, landing, str(exc), run_id)
        return StreamLoad(stream.name, refused=[str(exc)])
    load.stored = load.received
    load.seconds = time.monotonic() - started
    log.info("%s: %d file(s) landed, %d rows", source.name, len(files), load.received)
    return load


def _land_stream(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    stream: Stream,
    run_id: str | None,
    refresh: FullRefresh | None = None,
    reset: bool = True,
) -> StreamLoad:
    """Land one stream page by page; a refresh reads it from the start and then removes what the
    source no longer has. One that keeps the cursor (`reset` false) leaves it where its pages
    put it if it dies, so the next run reads on from there."""
    if refresh is not None:
        if reset:
            reset_cursor(con, source.name, stream.name)
        refresh.start(con)
    start = None if refresh is not None else read_cursor(con, source.name, stream.name)
    load = StreamLoad(stream.name, started_from=start)
    started = time.monotonic()
    log.info("%s.%s: reading from cursor %s", source.name, stream.name, load.started_from)
    progress = Progress(f"{source.name}.{stream.name}", log)
    windowed = False
    with landing_settings(con):
        for page in source.read(stream, load.started_from):
            landed = land_page(
                con, source.name, stream, page, run_id, refresh.read_keys if refresh else None
            )
            load.pages += 1
            load.received += landed.received
            load.stored += landed.stored
            load.removed += landed.removed
            load.cursor = page.cursor or load.cursor
            windowed = windowed or isinstance(page, WindowPage)
            progress.add(landed.received)
    if refresh is not None:
        load.removed += refresh.sweep(con, windowed)
    compact_raw_table(con, source.name, stream.name)
    load.seconds = time.monotonic() - started
    progress.finish(f"{load.pages} pages, {load.removed} records removed, cursor now {load.cursor}")
    return load
