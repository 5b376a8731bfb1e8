"""Benchmark: the KPI and scorecard half of the nightly job at an enterprise instance's shape.

    .venv/bin/python benchmarks/kpi_compute.py [--scale 1] [--seed 13] [--services 5000]
        [--groups 500] [--workdir DIR] [--threads N] [--skip-pandas] [--skip-publish]
        [--repeat N] [--export DIR] [--json]

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
3. the anchor: our KPIs written directly, one query each, over the same core tables with the
   same grains and dimensions (benchmarks/kpi_reference.sql), checked equal to ours;
4. score_metrics as the nightly job's scorecard asset calls it (status, signals, roll-ups,
   initiatives, action log);
5. publish the read-only snapshot for BI tools (warehouse.publish);
6. the same KPIs again the naive way in pandas (benchmarks/kpi_pandas.py), every value
   checked against kpi.metric_values; its time is loading the core tables into pandas plus
   computing (our step reads the tables inside its own time);
7. compute_metrics again with only those KPIs enabled (all but project_roi, which has no inputs
   in this data), the exact like-for-like figure beside both anchors.

--repeat N times the KPI step and its anchors (phases 2, 3, 6 and 7) N times, in turns, and
reports each one's median with every run: on a small machine one run can swing by a quarter, so
a ratio of two single runs says little.

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
PHASES = ("generate", "compute", "reference", "score", "publish", "pandas", "same_kpis")
# The nightly job's scoring and KPI steps depend on these; the anchors only read what they left.
# same_kpis replaces kpi.metric_values, so it runs last.
NEEDS = {
    "compute": "generate",
    "reference": "compute",
    "score": "compute",
    "publish": "score",
    "same_kpis": "compute",
}
EXPORTED_TABLES = (
    "incidents",
    "changes",
    "requests",
    "sla_records",
    "outages",
    "survey_responses",
    "measures",
)
# The phases --repeat times again, in this order each round (same_kpis replaces the values the
# other anchors compare with by a subset of them, so it goes last).
REPEATED = ("compute", "reference", "pandas", "same_kpis")
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
        con.execute((Path(__file__).parent / "kpi_generate.sql").read_text(encoding="utf-8"))
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


def _compute_metrics(con, only: tuple[str, ...] | None = None):
    """compute_metrics with scorecard.yaml's metric settings; `only` leaves every other metric
    of the catalogue disabled."""
    from transforms.catalogue import load_catalogue
    from transforms.kpis import compute_metrics

    settings = _settings()
    overrides = settings.metric_overrides()
    if only is not None:
        for metric in load_catalogue():
            if metric.id not in only:
                overrides[metric.id] = {**overrides.get(metric.id, {}), "enabled": False}
    return compute_metrics(
        con,
        timezone=TIMEZONE,
        week_start=settings.calendar.week_start,
        overrides=overrides,
        min_n=settings.kpi.min_n,
        as_of=AS_OF,
    )


def phase_compute(path: Path, threads: int) -> dict:
    warehouse = Warehouse.at(path)
    size_before = warehouse.working_path.stat().st_size
    with warehouse.connect() as con:
        con.execute(f"SET threads = {threads}")
        memory_limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        summary = _compute_metrics(con)
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


def phase_same_kpis(path: Path, threads: int) -> dict:
    """compute_metrics again with only the KPIs pandas computes enabled: the like-for-like figure
    beside pandas_seconds, whose anchor computes 29 of our 30 metrics."""
    from benchmarks.kpi_pandas import KPIS

    with Warehouse.at(path).connect() as con:
        con.execute(f"SET threads = {threads}")
        summary = _compute_metrics(con, only=KPIS)
    return {"seconds": summary.seconds, "metrics": len(summary.metrics), "rows": summary.rows}


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
        con.execute((Path(__file__).parent / "kpi_reference.sql").read_text(encoding="utf-8"))
        seconds = time.perf_counter() - started
        metrics, rows, kpis = con.execute(
            "SELECT count(DISTINCT metric_id), count(*), "
            "list(DISTINCT metric_id ORDER BY metric_id) FROM reference_values"
        ).fetchall()[0]
        # Ours leaves a value NULL (with a reason: too few records, inputs that do not cover the
        # period); compare where it has one.
        compared, equal, missing, missing_nonzero, max_diff = con.execute(
            """
            SELECT
                count(*),
                count(*) FILTER (WHERE abs(r.value - m.value) <= 1e-6 * greatest(1, abs(m.value))),
                count(*) FILTER (WHERE r.value IS NULL),
                count(*) FILTER (WHERE r.value IS NULL AND m.value <> 0),
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
        "kpis": kpis,
        "rows": rows,
        "compared": compared,
        "equal": equal,
        "missing_in_reference": missing,
        # The reference leaves out a group without records counted (changes all cancelled),
        # which ours shows as 0; any other value it lacks is a difference.
        "missing_in_reference_nonzero": missing_nonzero,
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


def phase_pandas(path: Path) -> dict:
    """Our KPIs the naive way in pandas (benchmarks/kpi_pandas.py), checked against ours.

    `seconds` is load + compute: the pandas way has to pull the core tables out of the warehouse
    before it can group them, while our step reads them inside its own time. The comparison with
    kpi.metric_values is not timed.
    """
    from benchmarks import kpi_pandas

    with Warehouse.at(path).connect() as con:
        load_started = time.perf_counter()
        tables = kpi_pandas.load_tables(con)
        load_seconds = time.perf_counter() - load_started
        compute_started = time.perf_counter()
        values = kpi_pandas.compute(tables, AS_OF, TIMEZONE)
        compute_seconds = time.perf_counter() - compute_started
        del tables
        metrics = sorted(values["metric_id"].unique())
        ours = kpi_pandas.sql_values(con, metrics)
    return {
        "seconds": load_seconds + compute_seconds,
        "load_seconds": load_seconds,
        "compute_seconds": compute_seconds,
        "kpis": metrics,
        "rows": len(values),
        "check_against_sql": kpi_pandas.compare(values, ours),
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
        "same_kpis": lambda: phase_same_kpis(path, args.threads),
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
        checks = figures["check_against_sql"]
        compared = sum(check["compared"] for check in checks.values())
        equal = sum(check["equal"] for check in checks.values())
        _say(
            f"  {len(figures['kpis'])} KPIs, {figures['rows']} values: "
            f"{figures['load_seconds']:.1f} s to load the tables into pandas + "
            f"{figures['compute_seconds']:.1f} s to compute; of the {compared} keys where "
            f"kpi.metric_values has a value, {equal} equal pandas'"
        )
        if not checks:
            _say("  not checked against SQL: kpi.metric_values is empty")
        for metric, check in checks.items():
            _say(
                f"  {metric}: {check['equal']} of {check['compared']} values equal, "
                f"max |pandas - SQL| {_diff(check['max_abs_diff'])}; n equal in "
                f"{check['n_equal']}; {check['sql_null']} NULL in SQL (too few records, or inputs short of the period), "
                f"{check['sql_only']} only in SQL, {check['pandas_only']} only in pandas"
            )


def _diff(value: float | None) -> str:
    return "none compared" if value is None else f"{value:.2e}"


def _pandas_totals(pandas: dict | None) -> dict:
    """pandas' time split (load + compute = pandas_seconds) and its check summed over metrics."""
    if not pandas or pandas.get("status") != "completed":
        return dict.fromkeys(
            ("pandas_load_seconds", "pandas_compute_seconds", "pandas_metrics")
            + ("pandas_compared", "pandas_equal")
        )
    checks = pandas["check_against_sql"].values()
    return {
        "pandas_load_seconds": round(pandas["load_seconds"], 2),
        "pandas_compute_seconds": round(pandas["compute_seconds"], 2),
        "pandas_metrics": len(pandas["kpis"]),
        "pandas_compared": sum(check["compared"] for check in checks),
        "pandas_equal": sum(check["equal"] for check in checks),
    }


def _seconds(figures: dict | None) -> float | None:
    if figures and figures.get("status") == "completed":
        return round(figures["seconds"], 2)
    return None


def repeat_phases(
    results: dict[str, dict], args: argparse.Namespace, workdir: Path, rounds: int
) -> None:
    """Run the REPEATED phases that completed `rounds - 1` more times, in turns. Each phase then
    reports its median run (the lower middle one for an even count), so a split such as pandas'
    load and compute times stays that run's, with the seconds of every run (`runs`) and the
    highest peak RSS."""
    timed = [name for name in REPEATED if results.get(name, {}).get("status") == "completed"]
    completed = {name: [results[name]] for name in timed}
    for round_number in range(2, rounds + 1):
        for name in timed:
            again = run_phase(name, args, workdir)
            _say(f"{name}, round {round_number}: {_headline(name, again)}")
            if again["status"] == "completed":
                completed[name].append(again)
    for name in timed:
        runs = completed[name]
        median = sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2]
        results[name] = {
            **median,
            "runs": [run["seconds"] for run in runs],
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        }
        if len(runs) > 1:
            seconds = ", ".join(f"{second:.1f}" for second in results[name]["runs"])
            _say(f"{name}: median {median['seconds']:.1f} s of {len(runs)} runs ({seconds})")


def _runs(figures: dict | None) -> list[float] | None:
    if figures and figures.get("status") == "completed" and "runs" in figures:
        return [round(run, 2) for run in figures["runs"]]
    return None


def summary(results: dict[str, dict], args: argparse.Namespace) -> dict:
    """The figures benchmarks/run keeps (kpi, scorecard), plus the anchors' and publish's.

    `pandas_seconds` is the pandas anchor's whole time, pandas_load_seconds (the core tables out
    of the warehouse into DataFrames) + pandas_compute_seconds, as our `seconds` include reading
    the same tables.
    """
    compute, score = results.get("compute", {}), results.get("score", {})
    reference, pandas = results.get("reference"), results.get("pandas")
    same_kpis = results.get("same_kpis")
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
            **_pandas_totals(pandas),
            "same_kpis_seconds": _seconds(same_kpis),
            "same_kpis_metrics": (same_kpis or {}).get("metrics"),
            # With --repeat, the seconds above are medians of these runs.
            "runs": {
                "seconds": _runs(compute),
                "duckdb_reference_seconds": _runs(reference),
                "pandas_seconds": _runs(pandas),
                "same_kpis_seconds": _runs(same_kpis),
            },
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
    parser.add_argument(
        "--repeat", type=int, default=1, help="time the KPI step and its anchors N times"
    )
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
    skipped = {"pandas", "same_kpis"} if args.skip_pandas else set()
    skipped |= {"publish"} if args.skip_publish else set()
    results: dict[str, dict] = {}
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
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
        repeat_phases(results, args, Path(tmp), max(args.repeat, 1))
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
            f"pandas ({kpi['pandas_metrics']} KPIs; load {kpi['pandas_load_seconds']:.1f} s + "
            f"compute {kpi['pandas_compute_seconds']:.1f} s) / KPI step ({kpi['metrics']} KPIs): "
            f"{kpi['pandas_seconds'] / kpi['seconds']:.2f}x"
        )
    if kpi["same_kpis_seconds"] and kpi["pandas_seconds"]:
        _say(
            f"pandas / our step on the same {kpi['same_kpis_metrics']} KPIs "
            f"({kpi['same_kpis_seconds']:.1f} s): "
            f"{kpi['pandas_seconds'] / kpi['same_kpis_seconds']:.2f}x"
        )
    reference_kpis = set((results.get("reference") or {}).get("kpis", []))
    pandas_kpis = set((results.get("pandas") or {}).get("kpis", []))
    if reference_kpis and pandas_kpis and reference_kpis != pandas_kpis:
        _say(
            f"pandas and the reference differ in KPIs: only in the reference "
            f"{sorted(reference_kpis - pandas_kpis)}, only in pandas "
            f"{sorted(pandas_kpis - reference_kpis)}"
        )
    if args.json:
        print(json.dumps(figures, default=str), flush=True)


if __name__ == "__main__":
    main()
