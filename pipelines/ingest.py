"""Ingest assets: one per enabled source, landing its records where its load writes them."""

import os
import re
import traceback
from collections.abc import Mapping
from datetime import timedelta

import dagster as dg

from connectors.http import (
    RETRY_DELAYS,
    STEP_RETRY_DELAY,
    PermanentSourceError,
    SourceError,
    retry_delay,
)
from connectors.secrets import without_secrets
from pipelines.clock import run_instant
from pipelines.metadata import raw_metadata
from pipelines.preflight import CONFIGURATION
from pipelines.resources import SourcesResource, WarehouseResource
from transforms.staging import STAGING_DIR, raw_tables_sql, staged_tables
from warehouse.ingest import FilesRefused, ingest
from warehouse.migrations import SchemaVersionError

WAREHOUSE_POOL = "duckdb_warehouse"
OWNERS = ["team:data-engineering"]


# Only what can heal is retried: throttling, 5xx, timeouts, dropped connections. A
# PermanentSourceError (settings, credentials, a bad file) ends the read at once, except files
# refused beside files that loaded: the run goes on with those, and data quality names the rest.
# A source that could not be read (at once, or after the last retry) does not stop the other
# sources: its read check fails, the KPIs, scoring and publish go on without its new records (its
# periods stay pending), and the last step (pipelines/outcome.py) fails the run naming it.
def ingest_retry(env: Mapping[str, str]) -> dg.RetryPolicy:
    """Three retries, SCORECARD_RETRY_DELAY (default 10 s) after the first try, then 3 and 7
    times that, each give or take the delay."""
    try:
        delay = retry_delay(env, STEP_RETRY_DELAY)
    except PermanentSourceError:
        # The run's first step (preflight/configuration) fails naming the bad value.
        delay = RETRY_DELAYS[STEP_RETRY_DELAY][0]
    return dg.RetryPolicy(
        max_retries=3, delay=delay, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )


INGEST_RETRY = ingest_retry(os.environ)


READ_CHECK = "read"


class IngestConfig(dg.Config):
    full_refresh: bool = False


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def written_tables(source: str) -> list[str]:
    """The tables a source's load writes: the raw tables a source declares (<source>/_raw.sql),
    else the raw.<source>_* tables its staging SQL reads."""
    if raw_tables_sql(source).exists():
        declared = raw_tables_sql(source).read_text(encoding="utf-8")
        return sorted(set(re.findall(r"CREATE TABLE IF NOT EXISTS (raw\.[a-z0-9_]+)", declared)))
    sql = "\n".join(
        (STAGING_DIR / source / f"{t}.sql").read_text(encoding="utf-8")
        for t in staged_tables(source)
    )
    return sorted(set(re.findall(rf"\braw\.{source}_[a-z0-9_]+", sql)))


def describe(source: str) -> str:
    tables = ", ".join(written_tables(source)) or f"raw.{source}_*"
    if raw_tables_sql(source).exists():
        return (
            f"Files from {source} landed row by row into {tables}, keyed by file and row; an "
            "unchanged file is skipped and a changed one replaces its rows."
        )
    return (
        f"Records from {source} as received, merged by primary key into {tables}; the cursor "
        "is stored with each page, so a failed run resumes where it stopped."
    )


# The UI's icon for where each source's data comes from.
SOURCE_KINDS = {"aws_ce": "aws", "azure_cost": "azure", "focus": "csv", "measures": "excel"}


def ingest_asset(
    source: str,
    full_refresh_default: bool = False,
    refresh_every: timedelta | None = None,
    timezone: str = "UTC",
) -> dg.AssetsDefinition:
    """The ingest asset of `source`; `timezone` (the calendar's) reads a SCORECARD_AS_OF without
    an offset, so the cost windows end at the instant the run scores."""

    @dg.asset(
        key=raw_key(source),
        group_name="ingest",
        description=describe(source),
        deps=[CONFIGURATION],
        kinds={"python", "duckdb", SOURCE_KINDS.get(source, source)},
        owners=OWNERS,
        tags={"source": source},
        retry_policy=INGEST_RETRY,
        pool=WAREHOUSE_POOL,
        check_specs=[
            dg.AssetCheckSpec(
                READ_CHECK,
                asset=raw_key(source),
                description=f"{source} was read to its end; when not, the run fails at its end "
                "naming the cause, after the other sources were scored and published.",
            )
        ],
    )
    def _ingest(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        warehouse: WarehouseResource,
        sources: SourcesResource,
    ) -> dg.MaterializeResult:
        full_refresh = config.full_refresh or full_refresh_default
        refused = ""
        try:
            # The run's instant (SCORECARD_AS_OF, else a scheduled run's tick): a retry days
            # later reads the cost days of the night it scores, not of the day it runs.
            connector = sources.open(source, run_instant(context, timezone))
            with warehouse.get().connect() as con:
                try:
                    load = ingest(
                        con,
                        connector,
                        context.run.run_id,
                        full_refresh,
                        origin=sources.origin,
                        refresh_every=refresh_every,
                    )
                except FilesRefused as exc:
                    if not exc.holds_files:
                        raise
                    load, refused = exc.load, str(exc)
                    context.log.warning(
                        f"{source}: files refused, the run goes on with the files that loaded "
                        f"(scorecard.data_quality lists the refused ones): {refused}"
                    )
                metadata = raw_metadata(con, source)
        except PermanentSourceError as exc:
            # Retrying cannot fix it: not read tonight, and said so at the run's end. The message
            # may quote the source's answer, which may quote a credential.
            return _not_read(context, source, without_secrets(str(exc), os.environ))
        except SchemaVersionError as exc:
            # The warehouse, not the source: no retry heals it and no source can be read into it.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except Exception as exc:
            # An unexpected error comes from a library, and its message (or one it chains) may
            # quote a credential: masked before it reaches the log, the run's events and
            # metadata or an alert, and then raised without the chain that held it.
            trace = traceback.format_exc()
            masked_trace = without_secrets(trace, os.environ)
            masked = without_secrets(f"{type(exc).__name__}: {exc}", os.environ)
            if context.retry_number < INGEST_RETRY.max_retries:
                if masked_trace == trace:
                    raise
                raise SourceError(f"{source}: {masked}") from None
            context.log.error(f"{source}: the last attempt failed\n{masked_trace}")
            return _not_read(context, source, f"{source}: {masked}")
        if refused:
            metadata["files_refused"] = dg.MetadataValue.text(refused)
        metadata.update({"records_received": load.received, "full_refresh": full_refresh})
        for stream in load.streams.values():
            metadata[f"{stream.stream}/records"] = stream.received
            if stream.cursor:
                metadata[f"{stream.stream}/cursor"] = stream.cursor
        context.log.info(f"{source}: {load.received} records received")
        return dg.MaterializeResult(
            metadata=metadata, check_results=[dg.AssetCheckResult(passed=True)]
        )

    return _ingest


def _not_read(context: dg.AssetExecutionContext, source: str, cause: str) -> dg.MaterializeResult:
    """The source was not read to its end: what it landed before stays (its cursor with it), its
    read check fails with the cause, and the other sources go on."""
    context.log.error(f"{source} not read tonight, the run goes on with the other sources: {cause}")
    return dg.MaterializeResult(
        metadata={"not_read": dg.MetadataValue.text(cause)},
        check_results=[
            dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=cause,
                metadata={"cause": dg.MetadataValue.text(cause)},
            )
        ],
    )
