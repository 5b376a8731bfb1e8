"""Load one configured source into the working warehouse outside Dagster (`itsm-scorecard load`).

The same ingest the nightly job runs, for a first load of a large instance or a full refresh
watched from a terminal; the next nightly run stages and publishes what it landed.
"""

from __future__ import annotations

import os
import uuid

from connectors.registry import source_from_env
from warehouse.ingest import SourceLoad, ingest
from warehouse.store import Warehouse


def load_source(name: str, full_refresh: bool = False) -> SourceLoad:
    """Land `name` (configured by environment) in SCORECARD_WAREHOUSE's working file."""
    connector = source_from_env(name, os.environ)
    with Warehouse.from_env().connect() as con:
        return ingest(con, connector, f"cli-{uuid.uuid4().hex[:12]}", full_refresh)
