"""How fast the bi views and scorecard tables reach PostgreSQL (COPY + schema swap).

    SCORECARD_PUBLISH_URL=postgresql://user@127.0.0.1:5432/db python benchmarks/postgres_publish.py [incidents]

Builds a warehouse with that many incidents (default 500,000) in a temporary folder, publishes it
to DuckDB and then to the database, and prints the figures.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from warehouse import Warehouse
from warehouse.postgres import publish_to_postgres
from warehouse.publish import publish

INCIDENTS_SQL = """
INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, priority, state,
                            service, assignment_group, updated_at)
SELECT 'demo:' || i, 'demo', 'INC' || i,
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i % 500000),
       TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i % 500000 + 90),
       1 + i % 5, 'resolved', 'service ' || (i % 500), 'group ' || (i % 50),
       TIMESTAMPTZ '2025-06-01 00:00:00+00'
FROM range(?) AS t(i)
"""


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    url = os.environ["SCORECARD_PUBLISH_URL"]
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Warehouse.at(Path(folder) / "warehouse.duckdb")
        with warehouse.connect() as con:
            con.execute(INCIDENTS_SQL, [count])
        started = time.monotonic()
        publish(warehouse)
        duckdb_seconds = time.monotonic() - started
        result = publish_to_postgres(warehouse.published_path, url)
    print(f"incidents:            {count:,}")
    print(f"duckdb publish:       {duckdb_seconds:.1f} s")
    print(f"postgres publish:     {result.seconds:.1f} s for {result.rows:,} rows")
    print(f"postgres rows/second: {result.rows / result.seconds:,.0f}")


if __name__ == "__main__":
    main()
