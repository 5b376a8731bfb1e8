"""Benchmark: the KPI and scorecard half of the nightly job at an enterprise instance's shape.

    .venv/bin/python benchmarks/kpi_compute.py [--scale 1] [--seed 13] [--services 5000]
        [--groups 500] [--workdir DIR] [--threads N] [--skip-pandas] [--skip-publish]
        [--export DIR] [--json]

The data (benchmarks/kpi_generate.sql, seeded): over three years, 1M incidents, 200k changes,
300k requests, 1M SLA records and 10M FOCUS cost rows (with credits) at --scale 1, spread over
--services services (CIs) and --groups assignment groups, skewed as on real instances. --scale 0.1
is the development size. --export DIR also writes the generated history as Parquet files, one per
core table, and the costs as a FOCUS file (focus_costs.parquet) the FOCUS connector reads.

Each phase runs in its own process at the warehouse's default DuckDB memory limit, so its peak
memory (max RSS) is its own and an out-of-memory failure is a figure, not the end of the script:
1. generate the data in DuckDB with SQL (and export it);
2. compute_metrics with scorecard.yaml's metric settings (three grains, every dimension,
   Europe/Berlin), then time on-demand evidence look-ups;
3. the anchor: the record-level KPIs written directly, one query each, over the same core tables
   with the same grains and dimensions (benchmarks/kpi_reference.sql), checked equal to ours;
4. score_metrics as the nightly job's scorecard asset calls it (status, signals, roll-ups,
   initiatives, action log);
5. publish the read-only snapshot for BI tools (warehouse.publish);
6. the incident, change and cost KPIs again the naive way in pandas, checked against SQL.

--json prints one JSON line on stdout ({"kpi": {...}, "scorecard": {...}, ...}) and the human
report on stderr.
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
PHASES = ("generate", "compute", "reference", "score", "publish", "pandas")
# The nightly job's scoring and KPI steps depend on these; the anchors only read what they left.
NEEDS = {"compute": "generate", "reference": "compute", "score": "compute", "publish": "score"}
EXPORTED_TABLES = (
    "incidents",
    "changes",
    "requests",
    "sla_records",
    "outages",
    "survey_responses",
    "measures",
)
# Human output: stdout, or stderr when stdout carries the JSON line.
REPORT = sys.stdout


def _settings():
    from settings import load_settings

    return load_settings(ROOT / "scorecard.yaml")


def phase_generate(
    path: Path, services: int, groups: int, scale: float, seed: int, export: Path | None
) -> dict:
    started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        con.execute(f"SET VARIABLE services = {int(services)}")
        con.execute(f"SET VARIABLE groups = {int(groups)}")
        con.execute(f"SET VARIABLE scale = {float(scale)}")
        con.execute(f"SET VARIABLE seed = {int(seed)}")
        con.execute((Path(__file__).parent / "kpi_generate.sql").read_text())
        counts = {
            table: con.execute(f"SELECT count(*) FROM core.{table}").fetchall()[0][0]
            for table in ("incidents", "changes", "requests", "sla_records", "costs", "outages")
        }
        distinct = con.execute(
            "SELECT count(DISTINCT service), count(DISTINCT assignment_group), "
            "min(opened_at), max(opened_at) FROM core.incidents"
        ).fetchall()[0]
        seconds = time.perf_counter() - started
        exported = _export(con, export) if export else {}
    return {
        "seconds": seconds,
        "rows": counts,
        "incident_services": distinct[0],
        "incident_groups": distinct[1],
        "first_opened": distinct[2],
        "last_opened": distinct[3],
        "exported": exported,
    }


def _export(con, folder: Path) -> dict:
    """Write the generated history as files: Parquet per core table, the costs as a FOCUS file.

    The FOCUS file carries the allocation as tags (cost_centre, service, owner), which is how the
    FOCUS connector reads it back into core.costs' allocation columns.
    """
    from connectors.focus import MANDATORY_COLUMNS

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    files = {}
    for table in EXPORTED_TABLES:
        target = folder / f"{table}.parquet"
        con.execute(f"COPY core.{table} TO '{target}' (FORMAT parquet)")
        files[table] = str(target)
    target = folder / "focus_costs.parquet"
    focus_columns = ", ".join(MANDATORY_COLUMNS)
    con.execute(
        f"COPY (SELECT {focus_columns}, CAST(coalesce(CASE WHEN cost_centre IS NOT NULL "
        "THEN json_object('cost_centre', cost_centre, 'service', service) END, Tags) AS VARCHAR) "
        f"AS Tags FROM core.costs ORDER BY ChargePeriodStart) TO '{target}' (FORMAT parquet)"
    )
    files["focus_costs"] = str(target)
    return {"files": files, "seconds": time.perf_counter() - started}


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


def phase_reference(path: Path, threads: int) -> dict:
    """The hand-written queries' time, and how many of their values equal kpi.metric_values'."""
    with Warehouse.at(path).connect() as con:
        con.execute(f"SET threads = {threads}")
        con.execute("SET VARIABLE timezone = ?", [TIMEZONE])
        con.execute("SET VARIABLE as_of = CAST(? AS TIMESTAMPTZ)", [AS_OF])
        con.execute(
            "SET VARIABLE as_of_local = getvariable('as_of') AT TIME ZONE getvariable('timezone')"
        )
        con.execute("SET VARIABLE as_of_day = CAST(getvariable('as_of_local') AS DATE)")
        started = time.perf_counter()
        con.execute((Path(__file__).parent / "kpi_reference.sql").read_text())
        seconds = time.perf_counter() - started
        metrics, rows = con.execute(
            "SELECT count(DISTINCT metric_id), count(*) FROM reference_values"
        ).fetchall()[0]
        # Ours leaves a value NULL (with a reason) below the minimum n; compare where it has one.
        compared, equal, missing, max_diff = con.execute(
            """
            SELECT
                count(*),
                count(*) FILTER (WHERE abs(r.value - m.value) <= 1e-6 * greatest(1, abs(m.value))),
                count(*) FILTER (WHERE r.value IS NULL),
                max(abs(r.value - m.value))
            FROM kpi.metric_values AS m
            LEFT JOIN reference_values AS r USING (metric_id, grain, period_start, dimension,
                dimension_value)
            WHERE m.value IS NOT NULL
                AND m.metric_id IN (SELECT DISTINCT metric_id FROM reference_values)
            """
        ).fetchall()[0]
    return {
        "seconds": seconds,
        "metrics": metrics,
        "rows": rows,
        "compared": compared,
        "equal": equal,
        "missing_in_reference": missing,
        "max_abs_diff": max_diff,
    }


def phase_score(path: Path) -> dict:
    """score_metrics called as the nightly job's scorecard asset calls it."""
    from settings.commentary import commentary_table, load_commentary
    from settings.governance import governance_findings
    from transforms.catalogue import load_catalogue
    from transforms.scoring import initiative_rows, score_metrics

    settings = _settings()
    perspectives = {metric.id: metric.perspective for metric in load_catalogue()}
    comments = load_commentary(settings.commentary, settings) if settings.commentary else []
    started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        summary = score_metrics(
            con,
            settings.metric_overrides(),
            perspectives,
            as_of=AS_OF,
            timezone=TIMEZONE,
            scorecards=settings.scorecard_metrics(),
            commentary=commentary_table(comments),
            initiatives=initiative_rows(settings.initiatives),
            governance=governance_findings(settings),
            due_days=settings.actions.due_days,
        )
        seconds = time.perf_counter() - started
        statuses = dict(
            con.execute(
                "SELECT coalesce(status, 'null'), count(*) FROM scorecard.metric_status GROUP BY 1"
            ).fetchall()
        )
    return {"seconds": seconds, "summary": repr(summary), "statuses": statuses}


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
    import pandas as pd

    load_started = time.perf_counter()
    with Warehouse.at(path).connect() as con:
        incidents = con.execute("SELECT * FROM core.incidents").df()
        changes = con.execute("SELECT * FROM core.changes").df()
        sla_records = con.execute("SELECT * FROM core.sla_records").df()
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

    # SLA attainment: stopped SLA clocks; incidents of sources without clocks by their made_sla.
    clocks = sla_records[
        sla_records["end_time"].notna()
        & sla_records["stage"].str.lower().isin(["completed", "achieved", "breached"])
        & (sla_records["end_time"] <= AS_OF)
    ].copy()
    clocks["met"] = ~clocks["breached"].fillna(clocks["stage"].str.lower() == "breached")
    clocks = clocks.rename(columns={"end_time": "completed_at"})
    clocks["priority"] = clocks["priority"].astype("string")
    without_clocks = ~incidents["source"].isin(set(sla_records["source"]))
    completed = incidents[without_clocks & done_state & incidents["made_sla"].notna()].copy()
    completed["completed_at"] = completed["resolved_at"].fillna(completed["closed_at"])
    completed = completed[completed["completed_at"] <= AS_OF]
    completed["met"] = completed["made_sla"].astype(bool)
    columns = ["completed_at", "service", "priority", "source", "met"]
    outcomes = pd.concat([clocks[columns], completed[columns]], ignore_index=True)
    outcomes["service"] = outcomes["service"].fillna("(unknown)")
    outcomes["local_day"] = _local_day(outcomes["completed_at"])
    outcomes["met"] = outcomes["met"].astype(float) * 100.0
    out["sla_attainment"] = _aggregate(
        outcomes, ["service", "priority", "source"], lambda g: g["met"].mean()
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
        "generate": lambda: phase_generate(
            path, args.services, args.groups, args.scale, args.seed, args.export
        ),
        "compute": lambda: phase_compute(path, args.threads),
        "reference": lambda: phase_reference(path, args.threads),
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
    command += [
        "--threads",
        str(args.threads),
        "--scale",
        str(args.scale),
        "--seed",
        str(args.seed),
    ]
    command += ["--services", str(args.services), "--groups", str(args.groups)]
    if args.export:
        command += ["--export", str(args.export)]
    env = os.environ | {"SCORECARD_AS_OF": AS_OF.isoformat()}
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=stdout, stderr=stderr, text=True, env=env, cwd=ROOT
        )
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


def _say(text: str) -> None:
    print(text, file=REPORT, flush=True)


def _headline(name: str, figures: dict) -> str:
    line = (
        f"{name}: {figures['status']}, {figures['seconds']:.1f} s "
        f"(process {figures['wall_seconds']:.1f} s), peak RSS {figures['peak_rss_mb']:.0f} MB"
    )
    if figures["status"] != "completed":
        line += f"\n  {figures.get('error', '')}"
    return line


def _report(name: str, figures: dict) -> None:
    _say(_headline(name, figures))
    if figures["status"] != "completed":
        return
    if name == "generate":
        _say(
            f"  rows {figures['rows']}; incidents over {figures['incident_services']} services "
            f"and {figures['incident_groups']} groups, opened {figures['first_opened']} .. "
            f"{figures['last_opened']}"
        )
        if figures["exported"]:
            exported = figures["exported"]
            _say(
                f"  exported {len(exported['files'])} files in {exported['seconds']:.1f} s to "
                f"{Path(exported['files']['incidents']).parent}"
            )
    elif name == "compute":
        _say(
            f"  DuckDB memory_limit {figures['memory_limit']}, {figures['metrics']} metrics; "
            f"kpi.metric_values {figures['value_rows']} rows ({figures['value_rows_all']} for "
            f"dimension 'all', {figures['value_rows_with_value']} with a value); "
            f"{figures['fact_rows']} fact rows; file +{figures['file_growth_mb']:.0f} MB"
        )
        for metric, lookup in figures["evidence_lookups"].items():
            if "missing" in lookup:
                _say(f"  evidence on demand, {metric}: not available ({lookup['missing']})")
                continue
            _say(
                f"  evidence on demand, {metric} 2024-03 month: {lookup['records']} records "
                f"in {lookup['seconds']:.2f} s"
            )
    elif name == "reference":
        _say(
            f"  {figures['metrics']} KPIs, {figures['rows']} values; of our "
            f"{figures['compared']} non-NULL values of these KPIs {figures['equal']} equal the "
            f"reference, {figures['missing_in_reference']} missing from it, max |diff| "
            f"{figures['max_abs_diff']}"
        )
    elif name == "score":
        _say(f"  {figures['summary']}; statuses {figures['statuses']}")
    elif name == "publish":
        _say(f"  {figures['tables']} tables, {figures['size_mb']:.0f} MB")
    elif name == "pandas":
        _say(
            f"  {len(figures['kpis'])} KPIs ({', '.join(figures['kpis'])}), "
            f"+{figures['load_seconds']:.1f} s to load the tables"
        )
        if not figures["check_against_sql"]:
            _say("  not checked against SQL: kpi.metric_values is empty")
        for metric, check in figures["check_against_sql"].items():
            _say(
                f"  {metric}: {check['months']} months, "
                f"max |pandas - SQL| {check['max_abs_diff']:.2e}"
            )


def _seconds(figures: dict | None) -> float | None:
    if figures and figures.get("status") == "completed":
        return round(figures["seconds"], 2)
    return None


def summary(results: dict[str, dict], args: argparse.Namespace) -> dict:
    """The figures benchmarks/run keeps (kpi, scorecard), plus the anchors' and publish's."""
    compute, score = results.get("compute", {}), results.get("score", {})
    reference, pandas = results.get("reference"), results.get("pandas")
    return {
        "kpi": {
            "seconds": _seconds(compute),
            "peak_rss_mb": round(compute.get("peak_rss_mb", 0)),
            "duckdb_reference_seconds": _seconds(reference),
            "pandas_seconds": _seconds(pandas),
            "status": compute.get("status"),
            "metrics": compute.get("metrics"),
            "reference_metrics": (reference or {}).get("metrics"),
            "reference_equal": (reference or {}).get("equal"),
            "reference_compared": (reference or {}).get("compared"),
            "pandas_metrics": len((pandas or {}).get("kpis", [])) or None,
        },
        "scorecard": {
            "seconds": _seconds(score),
            "peak_rss_mb": round(score.get("peak_rss_mb", 0)),
            "status": score.get("status"),
        },
        "publish": {
            "seconds": _seconds(results.get("publish")),
            "peak_rss_mb": round(results.get("publish", {}).get("peak_rss_mb", 0)),
        },
        "generate_seconds": _seconds(results.get("generate")),
        "scale": args.scale,
        "rows": results.get("generate", {}).get("rows"),
    }


def main() -> None:
    global REPORT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full size")
    parser.add_argument("--seed", type=int, default=13, help="the generator's seed")
    parser.add_argument("--services", type=int, default=5000, help="services (CIs); default 5000")
    parser.add_argument("--groups", type=int, default=500, help="assignment groups; default 500")
    parser.add_argument("--workdir", type=Path, help="folder for the temporary warehouse")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--export", type=Path, help="also write the generated history here")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas anchor")
    parser.add_argument("--skip-publish", action="store_true", help="leave out publishing")
    parser.add_argument("--json", action="store_true", help="one JSON line on stdout")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        raise SystemExit(_phase_in_this_process(args.phase, args))
    if args.json:
        REPORT = sys.stderr

    _say(
        f"shape at scale {args.scale:g} of: 1,000,000 incidents, 200,000 changes, 300,000 "
        f"requests, 1,000,000 SLA records, 10,000,000 cost rows over 3 years, "
        f"{args.services} services and {args.groups} groups (seed {args.seed}); DuckDB memory "
        f"limit {DEFAULT_MEMORY_LIMIT} (the warehouse default); {args.threads} threads"
    )
    skipped = {"pandas"} if args.skip_pandas else set()
    skipped |= {"publish"} if args.skip_publish else set()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for name in PHASES:
            if name in skipped:
                continue
            needed = NEEDS.get(name)
            if needed and results[needed]["status"] != "completed":
                _say(f"{name}: skipped ({needed} did not complete)")
                results[name] = {"status": f"skipped ({needed} did not complete)"}
                continue
            results[name] = run_phase(name, args, Path(tmp))
            _report(name, results[name])
    figures = summary(results, args)
    kpi, scorecard = figures["kpi"], figures["scorecard"]
    if kpi["seconds"] is not None and scorecard["seconds"] is not None:
        _say(
            f"KPI + scorecard: {kpi['seconds'] + scorecard['seconds']:.1f} s, peak RSS "
            f"{max(kpi['peak_rss_mb'], scorecard['peak_rss_mb'])} MB"
        )
    if kpi["seconds"] and kpi["duckdb_reference_seconds"]:
        _say(
            f"KPI step / hand-written DuckDB reference ({kpi['reference_metrics']} of "
            f"{kpi['metrics']} KPIs): {kpi['seconds'] / kpi['duckdb_reference_seconds']:.2f}x"
        )
    if kpi["seconds"] and kpi["pandas_seconds"]:
        _say(
            f"pandas ({kpi['pandas_metrics']} KPIs) / KPI step ({kpi['metrics']} KPIs): "
            f"{kpi['pandas_seconds'] / kpi['seconds']:.2f}x"
        )
    if args.json:
        print(json.dumps(figures, default=str), flush=True)


if __name__ == "__main__":
    main()
