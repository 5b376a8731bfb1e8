"""Scoring at scale: 500 metrics x 5 years monthly x 50 dimension values (plus the total).

Prints the seconds score_metrics takes (status, roll-ups, initiatives, action log) and the peak
RSS of the process. Usage: python benchmarks/scorecard_compute.py [--metrics 500] [--months 60]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from transforms.scoring import score_metrics
from warehouse import Warehouse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", type=int, default=500)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--dimension-values", type=int, default=50)
    args = parser.parse_args()
    metrics = {
        f"metric_{i:03d}": {
            "threshold": 90,
            "target": 95,
            "objective": f"objective_{i // 3}",
            "perspective": "customer",
            "owner": "owner",
        }
        for i in range(args.metrics)
    }
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Warehouse.at(Path(folder) / "warehouse.duckdb")
        with warehouse.connect() as con:
            con.execute(
                "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
                "dimension_value, value, unit, period_complete) "
                "SELECT format('metric_{:03d}', m), 'month', "
                "CAST(DATE '2021-01-01' + to_months(p) AS DATE), "
                "CASE WHEN d = 0 THEN 'all' ELSE 'service' END, "
                "CASE WHEN d = 0 THEN 'all' ELSE 'service_' || d END, "
                "85 + 15 * random(), '%', true "
                "FROM range(?) AS a(m), range(?) AS b(p), range(?) AS c(d)",
                [args.metrics, args.months, args.dimension_values + 1],
            )
            rows = con.execute("SELECT count(*) FROM kpi.metric_values").fetchone()[0]
            started = time.perf_counter()
            summary = score_metrics(con, metrics, as_of=datetime(2026, 1, 1, 2, tzinfo=UTC))
            seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"metric_values rows: {rows}")
    print(f"status rows: {summary.status_rows}, open actions: {summary.open_actions}")
    print(f"score_metrics seconds: {seconds:.2f}")
    print(f"peak RSS MB: {peak_mb:.0f}")


if __name__ == "__main__":
    main()
