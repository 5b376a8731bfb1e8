"""Benchmark: the KPI and scorecard half of the nightly job at a real instance's shape, then pandas.

    .venv/bin/python benchmarks/kpi_compute.py [--services 5000] [--groups 500]
        [--workdir DIR] [--threads N] [--skip-pandas]

The data: 1M incidents, 200k changes, 300k requests and 10M cost rows (with credits) over two
years, spread over --services services (CIs) and --groups assignment groups, skewed as on real
instances (benchmarks/kpi_generate.sql). `--services 20 --groups 50` is the shape this benchmark
had before, which hid the cost of dimension cardinality.

Each phase runs in its own process at the warehouse's default DuckDB memory limit, so its peak
memory (max RSS) is its own and an out-of-memory failure is a figure, not the end of the script:
1. generate the data in DuckDB with SQL;
2. compute_metrics with scorecard.yaml's metric settings (three grains, every dimension,
   Europe/Berlin), then time on-demand evidence look-ups;
3. score_metrics with scorecard.yaml's goals and the catalogue perspectives (as the nightly job);
4. publish the read-only snapshot for BI tools (warehouse.publish);
5. the heavy KPIs again in pandas (incident durations and ratios, change failure rate, deployment
   frequency, cloud spend, cost allocation) at the same grains and dimensions, checked against SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse import Warehouse  # noqa: E402
from warehouse.store import DEFAULT_MEMORY_LIMIT  # noqa: E402

TIMEZONE = "Europe/Berlin"
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
GRAINS = ("week", "month", "quarter")
PHASES = ("generate", "compute", "score", "publish", "pandas")
# The nightly job's scoring and KPI steps depend on these; pandas only reads what they left.
NEEDS = {"compute": "generate", "score": "compute", "publish": "score"}


def _settings():
    from settings import load_settings

    return load_settings(ROOT / "scorecard.yaml")


def phase_generate(path: Path, services: int, groups: int) -> dict:
    started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        con.execute(f"SET VARIABLE services = {int(services)}")
        con.execute(f"SET VARIABLE groups = {int(groups)}")
        con.execute((Path(__file__).parent / "kpi_generate.sql").read_text())
        counts = {
            table: con.execute(f"SELECT count(*) FROM core.{table}").fetchall()[0][0]
            for table in ("incidents", "changes", "requests", "costs", "outages", "measures")
        }
        distinct = con.execute(
            "SELECT count(DISTINCT service), count(DISTINCT assignment_group) FROM core.incidents"
        ).fetchall()[0]
    return {
        "seconds": time.perf_counter() - started,
        "rows": counts,
        "incident_services": distinct[0],
        "incident_groups": distinct[1],
    }


def _evidence_lookups(con) -> dict:
    """Time the on-demand evidence views; an engine without one of them reports it as missing."""
    import duckdb

    lookups = {}
    queries = {
        "change_failure_rate": (
            "SELECT count(*) FROM kpi.metric_evidence WHERE metric_id = 'change_failure_rate' "
            "AND grain = 'month' AND period_start = '2024-03-01' AND dimension = 'all'"
        ),
        "cloud_spend (cost rows via kpi.cost_evidence)": (
            "SELECT count(*) FROM kpi.cost_evidence WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = '2024-03-01' AND dimension = 'all'"
        ),
    }
    for name, query in queries.items():
        started = time.perf_counter()
        try:
            records = con.execute(query).fetchall()[0][0]
        except duckdb.CatalogException as exc:
            lookups[name] = {"missing": str(exc).splitlines()[0]}
            continue
        lookups[name] = {"records": records, "seconds": time.perf_counter() - started}
    return lookups


def phase_compute(path: Path, threads: int) -> dict:
    from transforms.kpis import compute_metrics

    settings = _settings()
    warehouse = Warehouse.at(path)
    size_before = warehouse.working_path.stat().st_size
    with warehouse.connect() as con:
        con.execute(f"SET threads = {threads}")
        memory_limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        summary = compute_metrics(
            con,
            timezone=TIMEZONE,
            week_start=settings.calendar.week_start,
            overrides=settings.metric_overrides(),
            min_n=settings.kpi.min_n,
            as_of=AS_OF,
        )
        con.execute("CHECKPOINT")
        total, for_all, with_value = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE dimension = 'all'), count(value) "
            "FROM kpi.metric_values"
        ).fetchall()[0]
        lookups = _evidence_lookups(con)
    return {
        "seconds": summary.seconds,
        "memory_limit": memory_limit,
        "metrics": len(summary.metrics),
        "value_rows": total,
        "value_rows_all": for_all,
        "value_rows_with_value": with_value,
        "fact_rows": getattr(summary, "fact_rows", None),
        "file_growth_mb": (warehouse.working_path.stat().st_size - size_before) / 2**20,
        "evidence_lookups": lookups,
    }


def phase_score(path: Path) -> dict:
    from transforms.catalogue import load_catalogue
    from transforms.scoring import score_metrics

    settings = _settings()
    perspectives = {metric.id: metric.perspective for metric in load_catalogue()}
    started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        summary = score_metrics(
            con, settings.metric_overrides(), perspectives, as_of=AS_OF, timezone=TIMEZONE
        )
        statuses = dict(
            con.execute(
                "SELECT coalesce(status, 'null'), count(*) FROM scorecard.metric_status GROUP BY 1"
            ).fetchall()
        )
    return {
        "seconds": time.perf_counter() - started,
        "summary": repr(summary),
        "statuses": statuses,
    }


def phase_publish(path: Path) -> dict:
    from warehouse.publish import publish

    result = publish(Warehouse.at(path))
    return {"seconds": result.seconds, "tables": result.tables, "size_mb": result.bytes / 2**20}


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
    # An incident counts as resolved only in state resolved or closed (docs/metrics.md).
    done_state = incidents["state"].isin(["resolved", "closed"])
    resolved = incidents[(incidents["resolved_at"] <= AS_OF) & done_state].copy()
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
    # Change failure rate and deployment frequency share one population: production deployments.
    production = changes["is_production"].fillna(True).astype(bool)
    done = changes[
        (changes["completed_at"] <= AS_OF) & ~changes["state"].isin(["canceled"]) & production
    ].copy()
    done["local_day"] = _local_day(done["completed_at"])
    # A cancelled incident does not mark its change failed.
    caused = set(incidents.loc[not_cancelled, "caused_by_change_id"].dropna())
    done["failed"] = (
        (done["outcome"] == "unsuccessful")
        | done["backed_out"].fillna(False).astype(bool)
        | done["change_id"].isin(caused)
    ) * 100.0
    out["change_failure_rate"] = _aggregate(done, change_dims, lambda g: g["failed"].mean())
    out["deployment_frequency"] = _aggregate(done, change_dims, lambda g: g.size())

    costs["local_day"] = _local_day(costs["ChargePeriodStart"])
    costs = costs.rename(
        columns={"ProviderName": "provider", "ServiceCategory": "service_category"}
    )
    costs["service"] = costs["service"].fillna("(unknown)")
    out["cloud_spend"] = _aggregate(
        costs, ["provider", "service", "service_category", "source"], lambda g: g["cost"].sum()
    )
    # Allocation coverage is the allocated share of positive cost: credits left out of both sides.
    positive = costs[costs["cost"] > 0].copy()
    has_owner_tag = positive["Tags"].fillna("").str.lower().str.contains('"owner"')
    allocated = (
        positive["cost_centre"].notna()
        | positive["service"].ne("(unknown)")
        | positive["application"].notna()
        | has_owner_tag
    )
    positive["allocated_cost"] = positive["cost"].where(allocated, 0.0)
    out["cost_allocation_coverage"] = _aggregate(
        positive,
        ["provider", "service_category", "source"],
        lambda g: g["allocated_cost"].sum() / g["cost"].sum() * 100,
    )
    seconds = time.perf_counter() - started

    # Check that both sides computed the same thing (monthly totals; counts are not rates).
    differences = {}
    for metric, frame in out.items():
        if metric == "deployment_frequency" or sql_values.empty:
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
        "kpis": sorted(out),
        "check_against_sql": differences,
    }


def _phase_in_this_process(name: str, args: argparse.Namespace) -> int:
    """Run one phase and print its figures as one JSON line; a failure is a figure too."""
    path = args.workdir / "bench.duckdb"
    phases: dict[str, Callable[[], dict]] = {
        "generate": lambda: phase_generate(path, args.services, args.groups),
        "compute": lambda: phase_compute(path, args.threads),
        "score": lambda: phase_score(path),
        "publish": lambda: phase_publish(path),
        "pandas": lambda: phase_pandas(path),
    }
    started = time.perf_counter()
    try:
        figures = {"status": "completed", **phases[name]()}
        code = 0
    except Exception as exc:  # reported to the parent as the phase's result
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        out_of_memory = "out of memory" in message.lower() or isinstance(exc, MemoryError)
        figures = {
            "status": "out of memory" if out_of_memory else "failed",
            "error": f"{type(exc).__name__}: {message}"[:400],
            "seconds": time.perf_counter() - started,
        }
        code = 1
    print(json.dumps(figures, default=str))
    return code


def run_phase(name: str, args: argparse.Namespace, workdir: Path) -> dict:
    """Run a phase in a child process; its own max RSS comes from wait4, even if it was killed."""
    command = [sys.executable, __file__, "--phase", name, "--workdir", str(workdir)]
    command += ["--threads", str(args.threads)]
    command += ["--services", str(args.services), "--groups", str(args.groups)]
    env = os.environ | {"SCORECARD_AS_OF": AS_OF.isoformat()}
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        lines = stdout.read().strip().splitlines()
        errors = stderr.read().strip().splitlines()
    try:
        figures = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        if child.returncode < 0 and -child.returncode == signal.SIGKILL:
            state = "killed (SIGKILL: the kernel's out-of-memory killer?)"
        else:
            state = f"failed (exit {child.returncode})"
        figures = {"status": state, "error": errors[-1] if errors else "", "seconds": wall}
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    figures["wall_seconds"] = wall
    return figures


def _headline(name: str, figures: dict) -> str:
    line = (
        f"{name}: {figures['status']}, {figures['seconds']:.1f} s "
        f"(process {figures['wall_seconds']:.1f} s), peak RSS {figures['peak_rss_mb']:.0f} MB"
    )
    if figures["status"] != "completed":
        line += f"\n  {figures.get('error', '')}"
    return line


def _report(name: str, figures: dict) -> None:
    print(_headline(name, figures))
    if figures["status"] != "completed":
        return
    if name == "generate":
        print(
            f"  rows {figures['rows']}; incidents over {figures['incident_services']} services "
            f"and {figures['incident_groups']} groups"
        )
    elif name == "compute":
        print(
            f"  DuckDB memory_limit {figures['memory_limit']}, {figures['metrics']} metrics; "
            f"kpi.metric_values {figures['value_rows']} rows ({figures['value_rows_all']} for "
            f"dimension 'all', {figures['value_rows_with_value']} with a value); "
            f"{figures['fact_rows']} fact rows; file +{figures['file_growth_mb']:.0f} MB"
        )
        for metric, lookup in figures["evidence_lookups"].items():
            if "missing" in lookup:
                print(f"  evidence on demand, {metric}: not available ({lookup['missing']})")
                continue
            print(
                f"  evidence on demand, {metric} 2024-03 month: {lookup['records']} records "
                f"in {lookup['seconds']:.2f} s"
            )
    elif name == "score":
        print(f"  {figures['summary']}; statuses {figures['statuses']}")
    elif name == "publish":
        print(f"  {figures['tables']} tables, {figures['size_mb']:.0f} MB")
    elif name == "pandas":
        print(
            f"  {len(figures['kpis'])} KPIs ({', '.join(figures['kpis'])}), "
            f"+{figures['load_seconds']:.1f} s to load the tables"
        )
        if not figures["check_against_sql"]:
            print("  not checked against SQL: kpi.metric_values is empty")
        for metric, check in figures["check_against_sql"].items():
            print(
                f"  {metric}: {check['months']} months, "
                f"max |pandas - SQL| {check['max_abs_diff']:.2e}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=5000, help="services (CIs); default 5000")
    parser.add_argument("--groups", type=int, default=500, help="assignment groups; default 500")
    parser.add_argument("--workdir", type=Path, help="folder for the temporary warehouse")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--skip-pandas", action="store_true", help="only the nightly job's phases")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        raise SystemExit(_phase_in_this_process(args.phase, args))

    print(
        f"shape: 1,000,000 incidents, 200,000 changes, 300,000 requests, 10,000,000 cost rows over "
        f"{args.services} services and {args.groups} groups; DuckDB memory limit "
        f"{DEFAULT_MEMORY_LIMIT} (the warehouse default); {args.threads} threads",
        flush=True,
    )
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for name in PHASES:
            if name == "pandas" and args.skip_pandas:
                continue
            needed = NEEDS.get(name)
            if needed and results[needed]["status"] != "completed":
                print(f"{name}: skipped ({needed} did not complete)", flush=True)
                results[name] = {"status": f"skipped ({needed} did not complete)"}
                continue
            results[name] = run_phase(name, args, Path(tmp))
            _report(name, results[name])
            sys.stdout.flush()
    nightly = [results[name]["status"] for name in ("compute", "score", "publish")]
    verdict = "completed" if all(s == "completed" for s in nightly) else "did NOT complete"
    print(f"KPI + scorecard + publish at {DEFAULT_MEMORY_LIMIT}: {verdict}")
    compute, pandas = results["compute"], results.get("pandas")
    if pandas and pandas["status"] == "completed" and compute["status"] == "completed":
        print(
            f"ratio pandas / SQL (pandas does {len(pandas['kpis'])} of {compute['metrics']} KPIs, "
            f"without evidence): {pandas['seconds'] / compute['seconds']:.2f}x"
        )


if __name__ == "__main__":
    main()
