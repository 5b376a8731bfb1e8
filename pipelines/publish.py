"""The publish assets: the read-only DuckDB file for BI tools, and PostgreSQL when configured."""

import os

import dagster as dg

from pipelines.ingest import OWNERS, WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from warehouse.postgres import PUBLISH_URL_VARIABLE, publish_to_postgres, reader_role
from warehouse.publish import publish

PUBLISHED = dg.AssetKey(["publish", "warehouse"])
PUBLISHED_POSTGRES = dg.AssetKey(["publish", "postgres"])


def publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED,
        group_name="publish",
        description=(
            "The BI-facing DuckDB file (SCORECARD_WAREHOUSE) with the stable bi views, replaced "
            "atomically at the end of a run in a format DuckDB 1.4+ opens; readers never see "
            "half a load."
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


def postgres_publish_asset() -> dg.AssetsDefinition:
    """Defined only when SCORECARD_PUBLISH_URL is set; the URL is read at run time, never stored."""

    @dg.asset(
        key=PUBLISHED_POSTGRES,
        group_name="publish",
        description=(
            "The bi views and scorecard tables in PostgreSQL (SCORECARD_PUBLISH_URL), swapped in "
            "atomically; SELECT granted to SCORECARD_PUBLISH_READER only."
        ),
        deps=[PUBLISHED],
        kinds={"postgres"},
        owners=OWNERS,
    )
    def published_postgres(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        result = publish_to_postgres(
            warehouse.get().published_path, os.environ[PUBLISH_URL_VARIABLE], reader_role()
        )
        context.log.info(f"published {result.tables} tables ({result.rows} rows) to {result.url}")
        return dg.MaterializeResult(
            metadata={
                "database": result.url,
                "tables": result.tables,
                "rows": result.rows,
                "reader_role": reader_role(),
                "seconds": round(result.seconds, 2),
            }
        )

    return published_postgres
