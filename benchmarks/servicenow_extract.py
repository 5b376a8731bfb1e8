"""ServiceNow extraction speed and client memory: N generated incidents through the emulator.

    .venv/bin/python benchmarks/servicenow_extract.py 100000 300000 1000000
    SCORECARD_MEMORY_LIMIT=256MB .venv/bin/python benchmarks/servicenow_extract.py 1000000

For each count, the emulator runs in one process and the connector plus DuckDB landing in
another, so the peak RSS printed is the client's alone; it should stay flat as N grows because
pages are streamed into the warehouse. Prints records/second and peak RSS per count.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# DuckDB's buffer pool: the primary-key index of the raw table lives in it, so a tighter limit
# keeps memory lower at the cost of speed as the table grows (the pipeline's default is 2GB).
MEMORY_LIMIT = os.environ.get("SCORECARD_MEMORY_LIMIT") or "128MB"


def run_client(url: str, page_size: int) -> None:
    """Child process: a full extraction into a fresh warehouse; prints one JSON line."""
    sys.path.insert(0, str(ROOT))
    from connectors.emulators.servicenow_bulk import CREDENTIALS
    from connectors.servicenow import from_env
    from warehouse import Warehouse
    from warehouse.ingest import ingest

    env = {
        "SERVICENOW_INSTANCE_URL": url,
        "SERVICENOW_USERNAME": CREDENTIALS.username,
        "SERVICENOW_PASSWORD": CREDENTIALS.password,
        "SERVICENOW_PAGE_SIZE": str(page_size),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        warehouse = Warehouse(path, path, memory_limit=MEMORY_LIMIT)
        with warehouse.connect() as con:
            started = time.perf_counter()
            load = ingest(con, from_env(env))
            seconds = time.perf_counter() - started
            stored = con.execute("SELECT count(*) FROM raw.servicenow_incident").fetchall()[0][0]
            duckdb_mb = con.execute(
                "SELECT sum(memory_usage_bytes) / 2 ^ 20 FROM duckdb_memory()"
            ).fetchall()[0][0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "received": load.received,
                "stored": stored,
                "seconds": seconds,
                "peak_rss_mb": peak_mb,
                "duckdb_mb": duckdb_mb,
            }
        )
    )


def measure(count: int, page_size: int) -> dict:
    emulator = subprocess.Popen(
        [sys.executable, "-m", "connectors.emulators.servicenow_bulk", str(count)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = emulator.stdout.readline().strip()
        client = subprocess.run(
            [sys.executable, __file__, "--client", url, str(page_size)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(client.stdout.strip().splitlines()[-1])
    finally:
        emulator.stdin.close()
        emulator.wait(timeout=30)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--client"]:
        run_client(argv[1], int(argv[2]))
        return
    page_size = 1000
    counts = [int(a) for a in argv] or [100_000, 300_000, 1_000_000]
    print(
        f"ServiceNow incident extraction, page size {page_size}, DuckDB memory_limit "
        f"{MEMORY_LIMIT}, emulator in its own process"
    )
    print(
        f"{'incidents':>10} {'stored':>10} {'seconds':>8} {'records/s':>10} {'peak RSS MB':>12}"
        f" {'DuckDB MB':>10}"
    )
    for count in counts:
        result = measure(count, page_size)
        rate = result["received"] / result["seconds"]
        print(
            f"{count:>10,} {result['stored']:>10,} {result['seconds']:>8.1f} {rate:>10,.0f} "
            f"{result['peak_rss_mb']:>12.0f} {result['duckdb_mb']:>10.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
