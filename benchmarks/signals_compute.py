"""Benchmark: the signal, trend and progress statistics alone (transforms/scorecard/signals.sql).

    .venv/bin/python benchmarks/signals_compute.py [--metrics 500] [--dimension-values 50]
        [--months 60] [--workdir DIR]

Generates metric_status-shaped rows with SQL: one monthly series per metric and dimension value
(500 x 50 = 25,000 series of 60 complete months = 1.5M rows by default), a third each higher,
lower and band, a third of them with a target date, values a drifting wave with noise and a shift
half-way so every rule fires somewhere. Then runs apply_signals (XmR limits and rules, Mann-Kendall
with Sen's slope over 12 periods, periods to target, progress, on track) in a fresh process and
prints its seconds and peak RSS; the generation's own figures are printed apart.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse import Warehouse  # noqa: E402

GENERATE_SQL = """
CREATE OR REPLACE TABLE bench_goals AS
SELECT
    'bench' AS scorecard_id,
    'metric_' || m || '/' || d AS metric_id,
    'month' AS grain,
    CASE m % 3 WHEN 0 THEN 'higher' WHEN 1 THEN 'lower' ELSE 'band' END AS direction,
    CASE WHEN m % 3 = 2 THEN 40.0 END AS band_low,
    CASE WHEN m % 3 = 2 THEN 60.0 END AS band_high,
    CASE WHEN d % 3 = 0 THEN DATE '2024-12-01' END AS target_date,
    CAST(NULL AS DATE) AS goals_from,
    CAST(NULL AS DATE) AS goals_to
FROM range(getvariable('metrics')) AS metrics(m), range(getvariable('dimension_values')) AS dims(d);

DELETE FROM scorecard.metric_status;
INSERT INTO scorecard.metric_status BY NAME
SELECT
    g.scorecard_id,
    g.metric_id,
    g.grain,
    CAST(DATE '2020-01-01' + INTERVAL (p) MONTH AS DATE) AS period_start,
    50 + 10 * sin(p / 6.0) + 0.1 * p + random() * 8 + CASE WHEN p >= 30 THEN 6 ELSE 0 END
        AS actual,
    50.0 AS baseline,
    CASE g.direction WHEN 'higher' THEN 45.0 WHEN 'lower' THEN 55.0 END AS threshold,
    CASE g.direction WHEN 'higher' THEN 60.0 WHEN 'lower' THEN 40.0 END AS target,
    g.direction,
    'green' AS status
FROM bench_goals AS g, range(getvariable('months')) AS periods(p);
"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_generate(path: Path, metrics: int, dimension_values: int, months: int) -> dict:
    started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        con.execute("SET VARIABLE metrics = ?", [metrics])
        con.execute("SET VARIABLE dimension_values = ?", [dimension_values])
        con.execute("SET VARIABLE months = ?", [months])
        con.execute(GENERATE_SQL)
        rows = con.execute("SELECT count(*) FROM scorecard.metric_status").fetchall()[0][0]
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 2)}


def phase_signals(path: Path) -> dict:
    from transforms.signals import apply_signals
    from warehouse.transaction import transaction

    with Warehouse.at(path).connect() as con:
        con.execute("CREATE OR REPLACE TEMP VIEW scorecard_goals AS SELECT * FROM bench_goals")
        started = time.perf_counter()
        with transaction(con):
            apply_signals(con)
        seconds = time.perf_counter() - started
        counts = con.execute(
            "SELECT count(*) FILTER (WHERE signal IS NOT NULL), "
            "count(*) FILTER (WHERE mk_trend <> 'no trend'), count(on_track) "
            "FROM scorecard.metric_status"
        ).fetchall()[0]
    return {
        "seconds": round(seconds, 2),
        "rows_with_signal": counts[0],
        "rows_with_trend": counts[1],
        "rows_judged_on_track": counts[2],
    }


def _in_child(phase: str, args: argparse.Namespace, path: Path) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--warehouse", str(path)]
    command += ["--metrics", str(args.metrics), "--dimension-values", str(args.dimension_values)]
    command += ["--months", str(args.months)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        # an out-of-memory failure is a figure too: show the child's last words
        return {"failed": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=500)
    parser.add_argument("--dimension-values", type=int, default=50)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--phase", choices=("generate", "signals"), help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        if args.phase == "generate":
            figures = phase_generate(
                args.warehouse, args.metrics, args.dimension_values, args.months
            )
        else:
            figures = phase_signals(args.warehouse)
        figures["peak_rss_mb"] = round(_peak_rss_mb())
        print(json.dumps(figures))
        return

    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        path = Path(workdir) / "signals.duckdb"
        series = args.metrics * args.dimension_values
        print(f"{series:,} series x {args.months} months")
        generated = _in_child("generate", args, path)
        print(
            f"generate: {generated['rows']:,} metric_status rows in {generated['seconds']} s, "
            f"peak RSS {generated['peak_rss_mb']} MB"
        )
        signals = _in_child("signals", args, path)
        if "failed" in signals:
            print(f"signals:  failed: {signals['failed']}")
            return
        print(
            f"signals:  {signals['seconds']} s, peak RSS {signals['peak_rss_mb']} MB "
            f"({signals['rows_with_signal']:,} rows with a signal, "
            f"{signals['rows_with_trend']:,} with a significant trend, "
            f"{signals['rows_judged_on_track']:,} judged on track or not)"
        )


if __name__ == "__main__":
    main()
