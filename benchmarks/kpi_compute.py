"""Benchmark: every KPI over 1M incidents, 200k changes and 10M cost rows, then pandas for comparison.

    .venv/bin/python benchmarks/kpi_compute.py [--workdir DIR] [--threads N]

Each phase runs in its own process so its peak memory (max RSS) is its own:
1. generate the data in DuckDB with SQL (benchmarks/kpi_generate.sql);
2. compute_metrics (all metrics, three grains, all dimensions, Europe/Berlin), then time two
   on-demand evidence look-ups (kpi.metric_evidence is a view over kpi.metric_facts);
3. the heavy KPIs again in pandas (incident durations and ratios, change failure rate, deployment
   frequency, cloud spend, cost allocation) at the same grains and dimensions, checked against SQL.
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
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse import Warehouse  # noqa: E402

TIMEZONE = "Europe/Berlin"
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
GRAINS = ("week", "month", "quarter")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_generate(path: Path) -> dict:
    started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        con.execute((Path(__file__).parent / "kpi_generate.sql").read_text())
        counts = {
            table: con.execute(f"SELECT count(*) FROM core.{table}").fetchall()[0][0]
            for table in ("incidents", "changes", "requests", "costs", "outages", "measures")
        }
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb(), "rows": counts}


def phase_compute(path: Path, threads: int) -> dict:
    from transforms.kpis import compute_metrics

    warehouse = Warehouse.at(path)
    size_before = warehouse.working_path.stat().st_size
    with warehouse.connect() as con:
        con.execute(f"SET threads = {threads}")
        summary = compute_metrics(con, timezone=TIMEZONE, as_of=AS_OF)
        con.execute("CHECKPOINT")
        lookups = {}
        for metric, period in (
            ("change_failure_rate", "2024-03-01"),
            ("cloud_spend", "2024-03-01"),
        ):
            started = time.perf_counter()
            records = con.execute(
                "SELECT count(*) FROM kpi.metric_evidence WHERE metric_id = ? AND grain = 'month' "
                "AND period_start = ? AND dimension = 'all'",
                [metric, period],
            ).fetchall()[0][0]
            lookups[metric] = {"records": records, "seconds": time.perf_counter() - started}
        started = time.perf_counter()
        cost_rows = con.execute(
            "SELECT count(*) FROM kpi.cost_evidence WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = '2024-03-01' AND dimension = 'all'"
        ).fetchall()[0][0]
        lookups["cloud_spend (cost rows via kpi.cost_evidence)"] = {
            "records": cost_rows,
            "seconds": time.perf_counter() - started,
        }
    return {
        "seconds": summary.seconds,
        "peak_rss_mb": peak_rss_mb(),
        "metrics": len(summary.metrics),
        "value_rows": summary.rows,
        "fact_rows": summary.fact_rows,
        "file_growth_mb": (warehouse.working_path.stat().st_size - size_before) / 2**20,
        "evidence_lookups": lookups,
    }


def _periods(local_day, grain: str):
    import pandas as pd

    days = pd.to_datetime(local_day)
    if grain == "week":
        return (days - pd.to_timedelta(days.dt.weekday, unit="D")).dt.date
    return days.dt.to_period("M" if grain == "month" else "Q").dt.start_time.dt.date


def _local_day(timestamps):
    return timestamps.dt.tz_convert(TIMEZONE).dt.date


def _aggregate(frame, dimensions, how):
    """Group a fact frame by period and each dimension at every grain (as the SQL does)."""
    import pandas as pd

    results = []
    for grain in GRAINS:
        frame = frame.assign(period=_periods(frame["local_day"], grain))
        for dimension in ("all", *dimensions):
            key = frame[dimension] if dimension != "all" else pd.Series("all", index=frame.index)
            grouped = frame.assign(dimension_value=key).groupby(["period", "dimension_value"])
            result = how(grouped).rename("value").reset_index()
            results.append(result.assign(grain=grain, dimension=dimension))
    return pd.concat(results, ignore_index=True)


def phase_pandas(path: Path) -> dict:
    load_started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        incidents = con.execute("SELECT * FROM core.incidents").df()
        changes = con.execute("SELECT * FROM core.changes").df()
        costs = con.execute(
            "SELECT ChargePeriodStart, CAST(EffectiveCost AS DOUBLE) AS cost, ProviderName, "
            "ServiceCategory, service, cost_centre, application, Tags, source FROM core.costs"
        ).df()
        sql_values = con.execute(
            "SELECT metric_id, grain, period_start, dimension, dimension_value, value "
            "FROM kpi.metric_values WHERE value IS NOT NULL"
        ).df()
    load_seconds = time.perf_counter() - load_started

    started = time.perf_counter()
    out = {}
    incident_dims = ["service", "assignment_group", "priority", "source"]
    incidents["priority"] = incidents["priority"].astype("string")
    not_cancelled = ~incidents["state"].isin(["canceled", "cancelled"])
    resolved = incidents[(incidents["resolved_at"] <= AS_OF) & not_cancelled].copy()
    resolved["local_day"] = _local_day(resolved["resolved_at"])
    resolved["hours"] = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    out["incident_resolution_time"] = _aggregate(
        resolved, incident_dims, lambda g: g["hours"].median()
    )
    out["incident_resolution_time_p90"] = _aggregate(
        resolved, incident_dims, lambda g: g["hours"].quantile(0.9)
    )
    resolved["reopened"] = (resolved["reopen_count"] > 0) * 100.0
    resolved["first_contact"] = (resolved["reassignment_count"] == 0) * 100.0
    out["reopen_rate"] = _aggregate(resolved, incident_dims, lambda g: g["reopened"].mean())
    out["first_contact_resolution"] = _aggregate(
        resolved, incident_dims, lambda g: g["first_contact"].mean()
    )
    major = resolved[
        resolved["priority"].isin(["1", "2"]) | resolved["caused_by_change_id"].notna()
    ]
    out["mean_time_to_restore"] = _aggregate(major, incident_dims, lambda g: g["hours"].median())

    completed = incidents[
        not_cancelled & (incidents["resolved_at"].notna() | incidents["closed_at"].notna())
    ].copy()
    completed["completed_at"] = completed["resolved_at"].fillna(completed["closed_at"])
    completed = completed[completed["made_sla"].notna() & (completed["completed_at"] <= AS_OF)]
    completed["local_day"] = _local_day(completed["completed_at"])
    completed["met"] = completed["made_sla"].astype(bool) * 100.0
    out["sla_attainment"] = _aggregate(
        completed, ["service", "priority", "source"], lambda g: g["met"].mean()
    )

    change_dims = ["service", "assignment_group", "source"]
    changes["completed_at"] = changes["actual_end"].fillna(changes["closed_at"])
    done = changes[(changes["completed_at"] <= AS_OF) & ~changes["state"].isin(["canceled"])].copy()
    done["local_day"] = _local_day(done["completed_at"])
    caused = set(incidents["caused_by_change_id"].dropna())
    done["failed"] = (
        (done["outcome"] == "unsuccessful")
        | done["backed_out"].fillna(False).astype(bool)
        | done["change_id"].isin(caused)
    ) * 100.0
    out["change_failure_rate"] = _aggregate(done, change_dims, lambda g: g["failed"].mean())
    deployments = done[done["is_production"].fillna(True).astype(bool)]
    out["deployment_frequency"] = _aggregate(deployments, change_dims, lambda g: g.size())

    costs["local_day"] = _local_day(costs["ChargePeriodStart"])
    costs = costs.rename(
        columns={"ProviderName": "provider", "ServiceCategory": "service_category"}
    )
    costs["service"] = costs["service"].fillna("(unknown)")
    out["cloud_spend"] = _aggregate(
        costs, ["provider", "service", "service_category", "source"], lambda g: g["cost"].sum()
    )
    has_owner_tag = costs["Tags"].fillna("").str.lower().str.contains('"owner"')
    allocated = costs["cost_centre"].notna() | costs["application"].notna() | has_owner_tag
    costs["allocated_cost"] = costs["cost"].where(allocated, 0.0)
    out["cost_allocation_coverage"] = _aggregate(
        costs,
        ["provider", "service_category", "source"],
        lambda g: g["allocated_cost"].sum() / g["cost"].sum() * 100,
    )
    seconds = time.perf_counter() - started

    # Check that both sides computed the same thing (monthly totals; counts are not rates).
    differences = {}
    for metric, frame in out.items():
        if metric == "deployment_frequency":
            continue
        monthly = frame[(frame["grain"] == "month") & (frame["dimension"] == "all")]
        sql = sql_values[
            (sql_values["metric_id"] == metric)
            & (sql_values["grain"] == "month")
            & (sql_values["dimension"] == "all")
        ]
        joined = monthly.merge(
            sql.assign(period=sql["period_start"].dt.date), on="period", suffixes=("", "_sql")
        )
        differences[metric] = {
            "months": len(joined),
            "max_abs_diff": float((joined["value"] - joined["value_sql"]).abs().max()),
        }
    return {
        "load_seconds": load_seconds,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "kpis": sorted(out),
        "check_against_sql": differences,
    }


def run_phase(name: str, workdir: Path, threads: int) -> dict:
    command = [sys.executable, __file__, "--phase", name, "--workdir", str(workdir)]
    command += ["--threads", str(threads)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--phase", choices=("generate", "compute", "pandas"))
    args = parser.parse_args()
    if args.phase:
        path = args.workdir / "bench.duckdb"
        phases = {
            "generate": lambda: phase_generate(path),
            "compute": lambda: phase_compute(path, args.threads),
            "pandas": lambda: phase_pandas(path),
        }
        print(json.dumps(phases[args.phase](), default=str))
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        generate = run_phase("generate", workdir, args.threads)
        print(f"generate: {generate['seconds']:.1f} s, rows {generate['rows']}")
        compute = run_phase("compute", workdir, args.threads)
        print(
            f"compute_metrics: {compute['seconds']:.1f} s, peak RSS {compute['peak_rss_mb']:.0f} MB, "
            f"{compute['metrics']} metrics, {compute['value_rows']} value rows, "
            f"{compute['fact_rows']} fact rows, file +{compute['file_growth_mb']:.0f} MB"
        )
        for metric, lookup in compute["evidence_lookups"].items():
            print(
                f"  evidence on demand, {metric} 2024-03 month: {lookup['records']} records "
                f"in {lookup['seconds']:.2f} s"
            )
        pandas = run_phase("pandas", workdir, args.threads)
        print(
            f"pandas ({len(pandas['kpis'])} KPIs: {', '.join(pandas['kpis'])}): "
            f"{pandas['seconds']:.1f} s (+{pandas['load_seconds']:.1f} s to load), "
            f"peak RSS {pandas['peak_rss_mb']:.0f} MB"
        )
        for metric, check in pandas["check_against_sql"].items():
            print(
                f"  {metric}: {check['months']} months, max |pandas - SQL| {check['max_abs_diff']:.2e}"
            )
        print(
            f"ratio pandas / SQL (pandas does {len(pandas['kpis'])} of {compute['metrics']} KPIs, "
            f"without evidence): {pandas['seconds'] / compute['seconds']:.2f}x"
        )


if __name__ == "__main__":
    main()
