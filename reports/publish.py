"""Writes the reports to SCORECARD_REPORTS: latest.html/.md, dated copies, services, dictionary."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from reports.dictionary import dictionary_html
from reports.executive import ScorecardPage, period_label, read_pages, to_html, to_markdown
from reports.files import PARTIAL_SUFFIX, write_whole
from reports.queries import prepare, rows
from reports.services import DEFAULT_SERVICE_PAGES, slug, write_service_pages
from settings.config import DEFAULT_SCORECARD

DEFAULT_REPORTS = "data/reports"


@dataclass(frozen=True)
class ReportFiles:
    latest_html: Path
    latest_markdown: Path
    dated: list[Path]
    services_index: Path | None
    dictionary: Path
    markdown: str
    scorecards: int


def reports_folder(warehouse_file: Path | None = None) -> Path:
    """SCORECARD_REPORTS, else reports/ beside the published warehouse (data/reports by default),
    so a warehouse in a temporary folder keeps its reports there too."""
    configured = os.environ.get("SCORECARD_REPORTS")
    if configured:
        return Path(configured).expanduser()
    return warehouse_file.parent / "reports" if warehouse_file else Path(DEFAULT_REPORTS)


def period_name(grain: str, start: date) -> str:
    """The period in a file name: 2026-11, 2026-Q3, or the week's first day."""
    if grain == "month":
        return start.strftime("%Y-%m")
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.isoformat()


def dated_name(page: ScorecardPage, slugs: Counter[str]) -> str:
    """The start of a scorecard's dated copies: its name's slug, and when another scorecard's
    name slugs alike ("IT Ops" and "IT-Ops", any two non-Latin names) a hash of its scorecard_id
    too, so neither copy replaces the other."""
    name = slug(page.name)
    if slugs[name] < 2:
        return name
    return f"{name}-{hashlib.sha256(page.scorecard_id.encode('utf-8')).hexdigest()[:8]}"


def write_reports(
    warehouse_file: Path,
    folder: Path,
    scorecard_name: str,
    as_of: str,
    metric_names: dict[str, str],
    service_pages: int = DEFAULT_SERVICE_PAGES,
    scorecard_names: dict[str, str] | None = None,
    timezone: str = "UTC",
) -> ReportFiles:
    """Render every report from the published warehouse file, opened read-only.

    Each scorecard is titled by scorecard_names (scorecard_id -> name); the default scorecard
    (DEFAULT_SCORECARD) by scorecard_name unless scorecard_names says otherwise; any other by its
    scorecard_id. Periods begin at midnight in `timezone` (the calendar's), as the KPIs' do.
    """
    folder.mkdir(parents=True, exist_ok=True)
    titles = {DEFAULT_SCORECARD: scorecard_name, **(scorecard_names or {})}
    con = duckdb.connect(str(warehouse_file), read_only=True)
    # Times read back and printed as UTC are UTC, whatever the host's TZ.
    con.execute("SET TimeZone = 'UTC'")
    try:
        prepare(con)
        pages = read_pages(con, metric_names, as_of, titles)
        services_index = None
        # One period for every service, whichever scorecard's id sorts first (service_period.sql).
        for period in rows(con, "service_period"):
            services_index = write_service_pages(
                con,
                folder / "services",
                period["grain"],
                period["period_start"],
                period_label(period["grain"], period["period_start"]),
                service_pages,
                titles,
                timezone,
            )
    finally:
        con.close()
    title = f"{scorecard_name}: executive summary"
    markdown = to_markdown(pages)
    dated = []
    slugs = Counter(slug(page.name) for page in pages)
    for page in pages:
        stem = f"{dated_name(page, slugs)}-{period_name(page.grain, page.period_start)}"
        dated.append(write_whole(folder / f"{stem}.html", to_html([page], title)))
        write_whole(folder / f"{stem}.md", to_markdown([page]))
    files = ReportFiles(
        latest_html=write_whole(folder / "latest.html", to_html(pages, title)),
        latest_markdown=write_whole(folder / "latest.md", markdown),
        dated=dated,
        services_index=services_index,
        dictionary=write_whole(folder / "dictionary.html", dictionary_html()),
        markdown=markdown,
        scorecards=len(pages),
    )
    # A page a killed run left half-written (a dated copy of a period no run writes again).
    for partial in folder.glob(f"*{PARTIAL_SUFFIX}"):
        partial.unlink()
    return files


__all__ = ["ReportFiles", "ScorecardPage", "write_reports"]
