"""Benchmark: staging an unchanged night skipped or forced, and restaging a night of changes.

    .venv/bin/python benchmarks/staging_skip.py [--incidents 100000] [--cost-rows 1000000]
        [--changed 0.01] [--memory-limit 2GB] [--json]

One warehouse gets N enterprise-shaped ServiceNow incidents from the emulator
(connectors/emulators/servicenow_bulk.py, over HTTP, through the real connector), M FOCUS line
items (benchmarks/focus_load.py's generated Parquet file, through the FOCUS connector) and the
spreadsheet templates (measures). Then, per (source, core table), with nothing landed between:
- first: the first staging (no fingerprint yet);
- before: staging forced, an unchanged restage (what every unchanged night did before staging
  could be skipped, and what a forced restage or a changed staging file still costs);
- after: staging as now (it finds its fingerprint unchanged and skips);
- fingerprint: computing the fingerprint alone (inside `after`).
Then a night of changes: the emulator changes --changed of the incidents and the nightly run
lands them (staging restages only what reads them), and --changed of the FOCUS line items get
another BilledCost in raw.focus_costs, which the costs are restaged from (forced: an edit in
place moves no landing summary, so the fingerprint would not see it). Last, every raw FOCUS
line item gets another loaded_at, as when the file is landed again, and the costs are
restaged with every row changed. --json prints the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from focus_load import generate  # noqa: E402

from connectors.emulators.measures_demo import TEMPLATES  # noqa: E402
from connectors.emulators.servicenow_bulk import CREDENTIALS, emulator_process  # noqa: E402
from connectors.focus import FocusFiles  # noqa: E402
from connectors.measures import from_env as measures_from_env  # noqa: E402
from connectors.servicenow import from_env as servicenow_from_env  # noqa: E402
from transforms.staged_inputs import fingerprint, query_inputs  # noqa: E402
from transforms.staging import stage, staged_tables  # noqa: E402
from warehouse import Warehouse  # noqa: E402
from warehouse.ingest import ingest  # noqa: E402

SOURCES = ("servicenow", "focus", "measures")


def stage_all(con, force: bool | set[str] = False) -> dict[str, dict]:
    """Stage every (source, table) once (forced: all, or those named): seconds, rows, outcome."""
    figures = {}
    for source in SOURCES:
        for table in staged_tables(source):
            forced = force if isinstance(force, bool) else f"{source}/{table}" in force
            started = time.perf_counter()
            result = stage(con, source, table, force=forced)
            figures[f"{source}/{table}"] = {
                "seconds": time.perf_counter() - started,
                "rows": result.rows,
                "outcome": result.outcome.split(":")[0],
            }
    return figures


def fingerprint_all(con) -> dict[str, float]:
    seconds = {}
    for source in SOURCES:
        for table in staged_tables(source):
            started = time.perf_counter()
            fingerprint(con, query_inputs(source, table))
            seconds[f"{source}/{table}"] = time.perf_counter() - started
    return seconds


def measure(incidents: int, cost_rows: int, changed: float, memory_limit: str, work: Path) -> dict:
    parquet = work / f"focus-{cost_rows}.parquet"
    if not parquet.exists():
        generate(parquet, cost_rows)
    with emulator_process(incidents) as emulator:
        url = emulator.url
        servicenow = servicenow_from_env(
            {
                "SERVICENOW_INSTANCE_URL": url,
                "SERVICENOW_USERNAME": CREDENTIALS.username,
                "SERVICENOW_PASSWORD": CREDENTIALS.password,
                "SERVICENOW_PAGE_SIZE": "1000",
            }
        )
        path = work / "bench.duckdb"
        warehouse = Warehouse(path, path, memory_limit)
        with warehouse.connect() as con:
            started = time.perf_counter()
            ingest(con, servicenow, "bench-1", origin=url)
            ingest(con, FocusFiles([str(parquet)]), "bench-1")
            ingest(con, measures_from_env({"MEASURES_PATHS": str(TEMPLATES / "*.csv")}))
            landed = time.perf_counter() - started
            first = stage_all(con)
            before = stage_all(con, force=True)
            after = stage_all(con)
            prints = fingerprint_all(con)
            moved = emulator.change(changed)
            ingest(con, servicenow, "bench-2", origin=url)
            every = round(1 / changed)
            con.execute(
                "UPDATE raw.focus_costs SET BilledCost = BilledCost + 1 WHERE line_number % ? = 0",
                [every],
            )
            nightly = stage_all(con, force={"focus/costs"})
            con.execute("UPDATE raw.focus_costs SET loaded_at = loaded_at + INTERVAL 1 SECOND")
            started = time.perf_counter()
            stage(con, "focus", "costs", force=True)
            relanded = time.perf_counter() - started
    return {
        "incidents": incidents,
        "cost_rows": cost_rows,
        "land_seconds": landed,
        "changed_incidents": moved,
        "changed_cost_rows": cost_rows // every,
        "all_cost_rows_changed_seconds": relanded,
        "tables": {
            key: {
                "rows": first[key]["rows"],
                "first_seconds": first[key]["seconds"],
                "before_seconds": before[key]["seconds"],
                "after_seconds": after[key]["seconds"],
                "after_outcome": after[key]["outcome"],
                "fingerprint_seconds": prints[key],
                "changed_night_seconds": nightly[key]["seconds"],
                "changed_night_outcome": nightly[key]["outcome"],
            }
            for key in first
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--cost-rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="staging-skip-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench.duckdb").unlink(missing_ok=True)
    figures = measure(args.incidents, args.cost_rows, args.changed, args.memory_limit, work)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{figures['incidents']:,} incidents, {figures['cost_rows']:,} cost rows, templates; "
        f"landed in {figures['land_seconds']:.1f} s; then "
        f"{figures['changed_incidents']:,} incidents and {figures['changed_cost_rows']:,} cost "
        "rows changed"
    )
    print(
        f"{'source/table':<28} {'rows':>9} {'first s':>8} {'forced s':>9} {'skip s':>8} "
        f"{'fingerprint s':>13} {'changed night':>20}"
    )
    totals = dict.fromkeys(("first", "before", "after", "fingerprint", "changed_night"), 0.0)
    for key, row in figures["tables"].items():
        for name in totals:
            totals[name] += row[f"{name}_seconds"]
        print(
            f"{key:<28} {row['rows']:>9,} {row['first_seconds']:>8.3f} "
            f"{row['before_seconds']:>9.3f} {row['after_seconds']:>8.3f} "
            f"{row['fingerprint_seconds']:>13.3f} "
            f"{row['changed_night_seconds']:>8.3f} {row['changed_night_outcome']:>11}"
        )
    print(
        f"{'total':<28} {'':>9} {totals['first']:>8.2f} {totals['before']:>9.2f} "
        f"{totals['after']:>8.2f} {totals['fingerprint']:>13.2f} {totals['changed_night']:>8.2f}"
    )
    print(
        f"focus/costs with every row changed (loaded_at): "
        f"{figures['all_cost_rows_changed_seconds']:.2f} s"
    )


if __name__ == "__main__":
    main()
