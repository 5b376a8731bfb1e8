"""The publish asset: a consistent read-only snapshot at SCORECARD_WAREHOUSE for BI tools."""

import dagster as dg

from pipelines.ingest import OWNERS, WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from warehouse.publish import publish

PUBLISHED = dg.AssetKey(["publish", "warehouse"])


def publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED,
        group_name="publish",
        description=(
            "The BI-facing DuckDB file (SCORECARD_WAREHOUSE), replaced atomically at the end of "
            "a run in a format DuckDB 1.4+ opens; readers never see half a load."
        ),
        deps=upstream,
        kinds={"duckdb"},
        owners=OWNERS,
        pool=WAREHOUSE_POOL,
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        result = publish(warehouse.get())
        context.log.info(f"published {result.tables} tables to {result.path}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": result.tables,
                "size_mb": round(result.bytes / 1e6, 2),
                "seconds": round(result.seconds, 2),
            }
        )

    return published_warehouse
