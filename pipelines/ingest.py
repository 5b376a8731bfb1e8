"""Ingest assets: one per enabled source, landing its streams in raw.<source>_<stream>."""

import dagster as dg

from pipelines.metadata import raw_metadata
from pipelines.resources import SourcesResource, WarehouseResource
from warehouse.ingest import ingest

WAREHOUSE_POOL = "duckdb_warehouse"
OWNERS = ["team:data-engineering"]
INGEST_RETRY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


class IngestConfig(dg.Config):
    full_refresh: bool = False


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def ingest_asset(source: str, full_refresh_default: bool = False) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(source),
        group_name="ingest",
        description=(
            f"Records from {source} as received, merged by primary key into raw.{source}_*; "
            "the cursor is stored with each page, so a failed run resumes where it stopped."
        ),
        kinds={"python", "duckdb"},
        owners=OWNERS,
        tags={"source": source},
        retry_policy=INGEST_RETRY,
        pool=WAREHOUSE_POOL,
    )
    def _ingest(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        warehouse: WarehouseResource,
        sources: SourcesResource,
    ) -> dg.MaterializeResult:
        connector = sources.open(source)
        full_refresh = config.full_refresh or full_refresh_default
        with warehouse.get().connect() as con:
            load = ingest(con, connector, context.run_id, full_refresh, origin=sources.origin)
            metadata = raw_metadata(con, source)
        metadata.update({"records_received": load.received, "full_refresh": full_refresh})
        for stream in load.streams.values():
            metadata[f"{stream.stream}/records"] = stream.received
            if stream.cursor:
                metadata[f"{stream.stream}/cursor"] = stream.cursor
        context.log.info(f"{source}: {load.received} records received")
        return dg.MaterializeResult(metadata=metadata)

    return _ingest
