"""ServiceNow extraction speed and client memory: N enterprise-shaped incidents via the emulator.

    .venv/bin/python benchmarks/servicenow_extract.py 100000 300000 1000000
    .venv/bin/python benchmarks/servicenow_extract.py --json --incremental 0.01 1000000

For each count the emulator (connectors/emulators/servicenow_bulk.py: incidents over three years
on 5,000 skewed services and 500 groups) runs in one process; each client runs in another, so
the peak RSS printed is the client's alone. Three clients, one after the other:
- a plain client that pages through the incidents with the connector's own HTTP client and
  pagination and discards them: the emulator's raw serving rate, the anchor;
- the full load into a fresh warehouse (connector plus DuckDB landing): records/s, peak RSS;
- with --incremental F: F of the incidents change at the emulator (updated now, reassigned once
  more), then a nightly run on the same warehouse; it must store exactly the changed versions.

--json prints one JSON line per count on stdout (human-readable lines go to stderr):
{"records", "seconds", "records_per_s", "emulator_records_per_s", "peak_rss_mb",
 "incremental": {"changed_fraction", "seconds", "full_seconds", "changed", "stored"}}.
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

ROOT = Path(__file__).resolve().parents[1]
PAGE_SIZE = 1000
# DuckDB's buffer pool; landing appends, so the client's memory stays flat under this limit
# whatever the table's size (the pipeline's default is 2GB).
MEMORY_LIMIT = os.environ.get("SCORECARD_MEMORY_LIMIT") or "128MB"


def _source(url: str, page_size: int):
    sys.path.insert(0, str(ROOT))
    from connectors.emulators.servicenow_bulk import CREDENTIALS
    from connectors.servicenow import from_env

    return from_env(
        {
            "SERVICENOW_INSTANCE_URL": url,
            "SERVICENOW_USERNAME": CREDENTIALS.username,
            "SERVICENOW_PASSWORD": CREDENTIALS.password,
            "SERVICENOW_PAGE_SIZE": str(page_size),
        }
    )


def run_plain(url: str, page_size: int) -> dict:
    """Child process: page through every incident as the connector does, and keep none."""
    source = _source(url, page_size)
    incidents = next(s for s in source.streams() if s.name == "incident")
    started = time.perf_counter()
    records = sum(len(page.records) for page in source.read(incidents, None))
    return {"records": records, "seconds": time.perf_counter() - started}


def run_load(url: str, page_size: int, folder: str) -> dict:
    """Child process: one run of the loader into the warehouse in `folder` (fresh or not)."""
    source = _source(url, page_size)
    from warehouse import Warehouse
    from warehouse.ingest import ingest

    path = Path(folder) / "bench.duckdb"
    warehouse = Warehouse(path, path, memory_limit=MEMORY_LIMIT)
    with warehouse.connect() as con:
        started = time.perf_counter()
        load = ingest(con, source)
        seconds = time.perf_counter() - started
        current = con.execute("SELECT count(*) FROM raw.servicenow_incident").fetchall()[0][0]
        versions = con.execute("SELECT count(*) FROM raw_versions.servicenow_incident").fetchall()[
            0
        ][0]
    return {
        "received": load.received,
        "stored": load.streams["incident"].stored,
        "current": current,
        "versions": versions,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark client {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(count: int, page_size: int, incremental: float | None) -> dict:
    """Serve `count` incidents, then run the plain client, the full load and the nightly run."""
    sys.path.insert(0, str(ROOT))
    from connectors.emulators.servicenow_bulk import emulator_process

    with emulator_process(count) as emulator:
        url = emulator.url
        plain = _child("--plain", url, str(page_size))
        with tempfile.TemporaryDirectory() as folder:
            full = _child("--load", url, str(page_size), folder)
            if full["current"] != count or full["stored"] != count:
                raise AssertionError(f"full load stored {full}, expected {count} incidents")
            result = {
                "records": count,
                "seconds": full["seconds"],
                "records_per_s": full["received"] / full["seconds"],
                "emulator_records_per_s": plain["records"] / plain["seconds"],
                "peak_rss_mb": full["peak_rss_mb"],
            }
            if incremental is not None:
                changed = emulator.change(incremental)
                nightly = _child("--load", url, str(page_size), folder)
                # Exactly the changed versions: no record lost, none stored twice.
                expected = (changed, count, full["versions"] + changed)
                found = (nightly["stored"], nightly["current"], nightly["versions"])
                if found != expected:
                    raise AssertionError(
                        f"nightly run stored (changed, current, versions) {found}, "
                        f"expected {expected}"
                    )
                result["incremental"] = {
                    "changed_fraction": incremental,
                    "seconds": nightly["seconds"],
                    "full_seconds": full["seconds"],
                    "changed": changed,
                    "stored": nightly["stored"],
                }
        return result


def main(argv: list[str]) -> None:
    if argv[:1] == ["--plain"]:
        print(json.dumps(run_plain(argv[1], int(argv[2]))))
        return
    if argv[:1] == ["--load"]:
        print(json.dumps(run_load(argv[1], int(argv[2]), argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", type=int, nargs="*", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--json", action="store_true", help="one JSON line per count on stdout")
    parser.add_argument("--incremental", type=float, help="fraction changed before a nightly run")
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    args = parser.parse_args(argv)
    human = sys.stderr if args.json else sys.stdout
    print(
        f"ServiceNow incident extraction, page size {args.page_size}, DuckDB memory_limit "
        f"{MEMORY_LIMIT}, emulator and each client in their own process, {os.cpu_count()} cores",
        file=human,
    )
    print(
        f"{'incidents':>10} {'seconds':>8} {'records/s':>10} {'emulator/s':>10} {'ratio':>6}"
        f" {'peak RSS MB':>12} {'nightly s':>10} {'of full':>8}",
        file=human,
    )
    for count in args.counts:
        result = measure(count, args.page_size, args.incremental)
        nightly = result.get("incremental")
        print(
            f"{count:>10,} {result['seconds']:>8.1f} {result['records_per_s']:>10,.0f} "
            f"{result['emulator_records_per_s']:>10,.0f} "
            f"{result['records_per_s'] / result['emulator_records_per_s']:>6.0%} "
            f"{result['peak_rss_mb']:>12.0f} "
            + (
                f"{nightly['seconds']:>10.1f} {nightly['seconds'] / nightly['full_seconds']:>8.1%}"
                if nightly
                else ""
            ),
            file=human,
            flush=True,
        )
        if args.json:
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
