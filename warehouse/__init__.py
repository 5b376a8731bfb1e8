"""The DuckDB store: schemas and migrations, idempotent landing, and the published snapshot."""

from warehouse.landing import land_page
from warehouse.store import Warehouse, WarehouseError

__all__ = ["Warehouse", "WarehouseError", "land_page"]
