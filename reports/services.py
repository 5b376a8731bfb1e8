"""Service-owner pages: an index of every service and a page for each of the busiest ones.

Two queries feed every page, so thousands of services cost two scans, not thousands.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from string import Template

import duckdb

from reports.cells import day, html_table, number, off_the_goals, text_html
from reports.files import PARTIAL_SUFFIX, write_whole
from reports.queries import rows

TEMPLATES = Path(__file__).parent / "templates"
# The index lists every service; pages beyond this many (the quietest) would be empty reading.
DEFAULT_SERVICE_PAGES = 200


# The index's row of the records without a service (the KPIs' '(unknown)' service).
NO_SERVICE = "records without a service"

# A slug keeps file names readable; cut to this length they stay far below file-system limits.
SLUG_CHARS = 60


def slug(name: str) -> str:
    """Lower-case ASCII words joined by dashes, at most SLUG_CHARS long ("unnamed" when none)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return words[:SLUG_CHARS].rstrip("-") or "unnamed"


def service_page(service: str) -> str:
    """The file name of a service's page: its slug and a hash of the exact name, so names that
    slug alike ("SAP" and "sap", "Payroll (EU)" and "Payroll EU", any two non-Latin names) get
    pages of their own."""
    digest = hashlib.sha256(service.encode("utf-8")).hexdigest()[:8]
    return f"{slug(service)}-{digest}.html"


def _kpi(value: float | None, digits: int) -> str:
    """A service's KPI with `digits` decimals, or more where those would round it onto the
    nearest number with fewer decimals (89.96 onto 90.0, 99.996 onto 100.00). This page does not
    know a service's goals, but they are usually such rounder numbers (an SLA of 90%,
    availability of 99.9%), and the nearest one is the only one rounding can reach: so a KPI
    never reads as such a goal while it is short of it or past it."""
    if value is None:
        return number(value)
    return off_the_goals(value, [round(value, digits - 1)], digits)


# The figure columns after the service's name: header, the KPI a column shows (None for a count
# of records) and the figure as the page reads it. A KPI's column is left out when the KPI is
# disabled, rather than shown as a column of blanks that reads like missing data.
COLUMNS: tuple[tuple[str, str | None, Callable[[dict], str]], ...] = (
    ("incidents", None, lambda r: number(r["incidents_opened"])),
    ("P1-P2", None, lambda r: number(r["major_incidents"])),
    ("open incidents", None, lambda r: number(r["incidents_open"])),
    ("changes", None, lambda r: number(r["changes_completed"])),
    ("failed changes", None, lambda r: number(r["changes_failed"])),
    ("requests", None, lambda r: number(r["requests_opened"])),
    ("SLA %", "sla_attainment", lambda r: _kpi(r["sla_attainment"], 1)),
    ("availability %", "service_availability", lambda r: _kpi(r["availability"], 2)),
    ("resolution h (median)", "incident_resolution_time", lambda r: _kpi(r["resolution_hours"], 1)),
    ("change failure %", "change_failure_rate", lambda r: _kpi(r["change_failure_rate"], 1)),
    ("open actions", None, lambda r: number(r["actions_open"])),
)
HEADERS = ["service", *(header for header, _, _ in COLUMNS)]


def _shown_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, Callable[[dict], str]]]:
    """The columns of counts, and of the KPIs the last KPI run computed: a disabled KPI has no
    row in kpi.metric_values, an enabled one has rows even for periods without data."""
    computed = {
        row[0] for row in con.execute("SELECT DISTINCT metric_id FROM kpi.metric_values").fetchall()
    }
    return [(header, figure) for header, kpi, figure in COLUMNS if kpi is None or kpi in computed]


def _figure_cells(r: dict, columns: list[tuple[str, Callable[[dict], str]]]) -> str:
    return "".join(f'<td class="num">{html.escape(figure(r))}</td>' for _, figure in columns)


def _page(title: str, body: str) -> str:
    return Template((TEMPLATES / "page.html").read_text(encoding="utf-8")).substitute(
        title=text_html(title),
        css=(TEMPLATES / "services.css").read_text(encoding="utf-8"),
        body=body,
    )


def write_service_pages(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    grain: str,
    period_start: date,
    period: str,
    limit: int = DEFAULT_SERVICE_PAGES,
    scorecard_names: dict[str, str] | None = None,
    timezone: str = "UTC",
) -> Path:
    """Write services/index.html and one page per busiest service; return the index path."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = rows(
        con, "services", grain=grain, period_start=period_start.isoformat(), timezone=timezone
    )
    # Records without a service are one row after the services: no service, so no page.
    services = [r for r in listed if r["has_service"]]
    without = [r for r in listed if not r["has_service"]]
    actions: dict[str, list[dict]] = defaultdict(list)
    for action in rows(con, "service_action_list"):
        actions[action["service"]].append(action)
    with_page = {r["service"] for r in services[:limit]}
    columns = _shown_columns(con)

    index_rows = []
    for r in services:
        name = text_html(r["service"])
        link = (
            f'<a href="{service_page(r["service"])}">{name}</a>'
            if r["service"] in with_page
            else name
        )
        index_rows.append(f"<tr><td>{link}</td>{_figure_cells(r, columns)}</tr>")
    for r in without:
        index_rows.append(f"<tr><td><em>{NO_SERVICE}</em></td>{_figure_cells(r, columns)}</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["service", *(h for h, _ in columns)])
    note = (
        f"<p>{len(services):,} services, busiest first; pages for the {len(with_page):,} busiest."
        " Incidents and requests are counted by the time they were opened, by day in"
        f" {html.escape(timezone)}; changes and failed changes are those the change failure rate"
        " counts (completed production changes, by actual end). A KPI is blank (–) while its"
        " period is not complete, e.g."
        " while a source has not been read since the period ended."
        + (f" The last row counts the {NO_SERVICE}." if without else "")
        + "</p>"
    )
    index = write_whole(
        folder / "index.html",
        _page(
            f"Services: {period}",
            f"<h1>Services: {html.escape(period)}</h1>{note}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(index_rows)}</tbody></table>",
        ),
    )
    for r in services[:limit]:
        owned = actions.get(r["service"], [])
        action_table = html_table(
            ["scorecard", "metric", "trigger", "owner", "opened", "due", "note"],
            [
                [
                    (scorecard_names or {}).get(a["scorecard_id"], a["scorecard_id"]),
                    a["metric_id"],
                    a["trigger"],
                    a["owner"] or "–",
                    day(a["opened_period"]),
                    day(a["due_date"]),
                    a["note"] or "",
                ]
                for a in owned
            ],
        )
        figures = html_table(
            ["measure", "value"], [[header, figure(r)] for header, figure in columns], (1,)
        )
        body = (
            f'<p><a href="index.html">All services</a></p>'
            f"<h1>{text_html(r['service'])}: {html.escape(period)}</h1>"
            f"<h2>Incidents, changes, SLA and availability</h2>{figures}"
            f"<h2>Open actions on this service</h2>{action_table}"
        )
        write_whole(folder / service_page(r["service"]), _page(r["service"], body))
    # Pages of services no longer among the busiest go once the new ones are in place, with any
    # half-written page a killed run left.
    wanted = {service_page(s) for s in with_page} | {"index.html"}
    for stale in [*folder.glob("*.html"), *folder.glob(f"*{PARTIAL_SUFFIX}")]:
        if stale.name not in wanted:
            stale.unlink()
    return index
