"""Benchmark: land a 10,000,000-row FOCUS Parquet export in raw.focus_costs and stage core.costs.

Generates the file with DuckDB (once; reused when present), reads it once the plain way (every
column, in batches that are dropped: the file's raw serving rate, the anchor), then in a child
process lands it through the real FocusFiles connector (warehouse/ingest.py) and stages it
(transforms/staging.py) into a fresh warehouse, and prints rows/second for each step and the
child's peak resident memory. Usage:

    .venv/bin/python benchmarks/focus_load.py [--rows N] [--memory-limit 1GB] [--workdir DIR]
        [--json]

--json prints one JSON line instead (records, seconds, records_per_s, raw_read_records_per_s,
peak_rss_mb, ...) for benchmarks/run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]

GENERATE_SQL = """
COPY (
    WITH numbered AS (
        SELECT range AS n, CAST(hash(range) % 1000000007 AS BIGINT) AS h FROM range($rows)
    )
    SELECT
        CAST((h % 100000) / 1000.0 AS DECIMAL(18, 6)) AS BilledCost,
        CAST((h % 100000) / 1100.0 AS DECIMAL(18, 6)) AS EffectiveCost,
        CAST((h % 100000) / 900.0 AS DECIMAL(18, 6)) AS ListCost,
        CAST((h % 100000) / 1000.0 AS DECIMAL(18, 6)) AS ContractedCost,
        TIMESTAMP '2024-01-01' + INTERVAL (n // 1000000) MONTH AS BillingPeriodStart,
        TIMESTAMP '2024-02-01' + INTERVAL (n // 1000000) MONTH AS BillingPeriodEnd,
        TIMESTAMP '2024-01-01' + INTERVAL (n % 8760) HOUR AS ChargePeriodStart,
        TIMESTAMP '2024-01-01' + INTERVAL (n % 8760 + 1) HOUR AS ChargePeriodEnd,
        'USD' AS BillingCurrency,
        'acct-' || (h % 7) AS BillingAccountId,
        'Bench Org' AS BillingAccountName,
        CASE WHEN h % 500 = 0 THEN 'Credit' ELSE 'Usage' END AS ChargeCategory,
        CAST(NULL AS VARCHAR) AS ChargeClass,
        'line item ' || (h % 1000) AS ChargeDescription,
        ['Compute', 'Storage', 'Databases', 'Networking'][CAST(1 + h % 4 AS BIGINT)] AS ServiceCategory,
        'Service ' || (h % 40) AS ServiceName,
        'BenchCloud' AS ProviderName,
        'BenchCloud' AS PublisherName,
        'BenchCloud' AS InvoiceIssuerName,
        'sub-' || (h % 50) AS SubAccountId,
        'region-' || (h % 6) AS RegionId,
        'res-' || (h % 200000) AS ResourceId,
        CAST(h % 1000 AS DOUBLE) AS PricingQuantity,
        'Hours' AS PricingUnit,
        CASE WHEN h % 10 < 7 THEN
            '{"cost_centre": "CC-' || (h % 9) || '", "service": "svc-' || (h % 23)
            || '", "environment": "prod"}'
        END AS Tags
    FROM numbered
) TO $path (FORMAT parquet, ROW_GROUP_SIZE 122880)
"""


def generate(path: Path, rows: int) -> float:
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        con.execute(GENERATE_SQL, {"rows": rows, "path": str(path)})
    finally:
        con.close()
    return time.perf_counter() - started


def read_raw(path: Path) -> tuple[int, float]:
    """The anchor: DuckDB reads every column of the file in record batches that are dropped."""
    started = time.perf_counter()
    con = duckdb.connect()
    rows = 0
    try:
        relation = con.sql("SELECT * FROM read_parquet($path)", params={"path": str(path)})
        for batch in relation.to_arrow_reader(122_880):
            rows += batch.num_rows
    finally:
        con.close()
    return rows, time.perf_counter() - started


def load(path: Path, memory_limit: str, workdir: Path) -> dict:
    """Runs in the child: one real connector load into a fresh warehouse."""
    sys.path.insert(0, str(ROOT))
    from connectors.focus import FocusFiles
    from transforms.staging import stage
    from warehouse.ingest import ingest
    from warehouse.store import Warehouse

    warehouse = Warehouse(workdir / "bench.duckdb", workdir / "bench.work.duckdb", memory_limit)
    with warehouse.connect() as con:
        started = time.perf_counter()
        landed = ingest(con, FocusFiles([str(path)]), "benchmark")
        land_seconds = time.perf_counter() - started
        staging = time.perf_counter()
        stage(con, "focus", "costs")
        stage_seconds = time.perf_counter() - staging
        total = con.execute(
            "SELECT count(*), sum(BilledCost), count(cost_centre) FROM core.costs"
        ).fetchall()[0]
        again = time.perf_counter()
        skipped = ingest(con, FocusFiles([str(path)]), "benchmark-2")
        skip_seconds = time.perf_counter() - again
    return {
        "rows": landed.received,
        "seconds": land_seconds + stage_seconds,
        "land_seconds": land_seconds,
        "stage_seconds": stage_seconds,
        "stored": total[0],
        "allocated": total[2],
        "billed_total": str(total[1]),
        "second_run_rows": skipped.received,
        "second_run_seconds": skip_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(load(args.child, args.memory_limit, args.workdir)))
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="focus-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    parquet = workdir / f"focus-{args.rows}.parquet"
    if not parquet.exists():
        seconds = generate(parquet, args.rows)
        print(
            f"generated {args.rows:,} rows -> {parquet} "
            f"({parquet.stat().st_size / 1e6:.0f} MB) in {seconds:.1f}s",
            file=sys.stderr if args.json else sys.stdout,
        )
    for stale in workdir.glob("bench*.duckdb*"):
        stale.unlink()
    raw_rows, raw_seconds = read_raw(parquet)
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            str(parquet),
            "--memory-limit",
            args.memory_limit,
            "--workdir",
            str(workdir),
        ],
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        last = child.stderr.strip().splitlines()[-1:] or ["no error output"]
        raise SystemExit(f"the loading process failed (exit {child.returncode}): {last[0]}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024
    cpu_seconds = usage.ru_utime + usage.ru_stime
    if args.json:
        print(
            json.dumps(
                {
                    "records": result["rows"],
                    "seconds": result["seconds"],
                    "records_per_s": result["rows"] / result["seconds"],
                    "raw_read_records_per_s": raw_rows / raw_seconds,
                    "raw_read_seconds": raw_seconds,
                    "peak_rss_mb": peak_mb,
                    "cpu_seconds": cpu_seconds,
                    "memory_limit": args.memory_limit,
                    **{k: v for k, v in result.items() if k not in ("rows", "seconds")},
                }
            )
        )
        return
    print(
        f"plain read of the file (every column, batches dropped): {raw_rows:,} rows in "
        f"{raw_seconds:.1f}s = {raw_rows / raw_seconds:,.0f} rows/s"
    )
    print(
        f"loaded {result['rows']:,} rows in {result['seconds']:.1f}s "
        f"= {result['rows'] / result['seconds']:,.0f} rows/s "
        f"(landing {result['land_seconds']:.1f}s, staging {result['stage_seconds']:.1f}s; "
        f"DuckDB memory_limit {args.memory_limit})"
    )
    print(
        f"peak resident memory of the loading process: {peak_mb:,.0f} MB; its CPU time "
        f"{cpu_seconds:.1f}s on {os.cpu_count()} cores (load average now "
        f"{os.getloadavg()[0]:.1f}: other processes share the machine)"
    )
    print(
        f"stored {result['stored']:,} rows, {result['allocated']:,} with a cost centre, "
        f"BilledCost total {result['billed_total']}"
    )
    print(
        f"second run (unchanged file): {result['second_run_rows']} rows in "
        f"{result['second_run_seconds']:.1f}s"
    )


if __name__ == "__main__":
    main()
