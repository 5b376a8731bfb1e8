"""Demo measures: the shipped templates, plus generated rows for demo months they do not cover.

The templates in templates/measures/ hold example rows for TEMPLATE_FIRST_MONTH ..
TEMPLATE_LAST_MONTH, made by the same generator as below, so the demo's KPIs have inputs. When the
demo runs at a date whose history reaches outside that range, the missing months are written into
the workdir; a month is never in both, so nothing is counted twice.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from connectors.emulators.catalogue import SERVICES, history_start

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "measures"
TEMPLATE_FIRST_MONTH = date(2025, 1, 1)
TEMPLATE_LAST_MONTH = date(2026, 12, 1)
MEASURE_COLUMNS = (
    "metric_id",
    "period_start",
    "period_end",
    "value",
    "unit",
    "dimension",
    "dimension_value",
)
SURVEY_COLUMNS = (
    "response_id",
    "survey",
    "responded_at",
    "score",
    "scale_max",
    "service",
    "ticket_number",
)
INITIATIVES = ("INI-SELF-SERVICE", "INI-AUTOMATION")


def _unit(seed: str) -> float:
    """A deterministic number in [0, 1) for a seed."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") / 2**32


def months(first: date, last: date) -> Iterator[date]:
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def measure_rows(month: date) -> list[dict[str, str]]:
    """One month's inputs (quarterly staff cohorts in the quarter's first month)."""
    index = (month.year - 2025) * 12 + month.month
    season = {1: 0.9, 11: 1.15, 12: 1.25}.get(month.month, 1.0)

    def row(metric: str, value: float, unit: str, **extra: str) -> dict[str, str]:
        return {
            "metric_id": metric,
            "period_start": month.isoformat(),
            "period_end": extra.get("period_end", ""),
            "value": f"{value:.2f}".rstrip("0").rstrip("."),
            "unit": unit,
            "dimension": extra.get("dimension", ""),
            "dimension_value": extra.get("dimension_value", ""),
        }

    noise = _unit(f"m{month}")
    revenue = round(4_200_000 * season * (1 + 0.004 * index) * (0.96 + 0.08 * noise), -3)
    rows = [
        row("revenue", revenue, "USD"),
        row("it_spend", round(revenue * (0.024 + 0.006 * _unit(f"s{month}")), -2), "USD"),
        row("service_desk_cost", round(8_500 + 1_500 * _unit(f"d{month}"), -2), "USD"),
        row("headcount_fte", 40 + round(4 * _unit(f"h{month}"), 1), "FTE"),
        row("training_hours", round(60 + 60 * _unit(f"t{month}")), "hours"),
        row("certifications", round(4 * _unit(f"c{month}")), "count"),
        row("automation_coverage", min(80.0, 32 + 1.1 * index), "%"),
        row("critical_vulns_remediated", 3 + round(5 * _unit(f"v{month}")), "count"),
        row("critical_vuln_remediation_days", round(40 + 60 * _unit(f"r{month}")), "days"),
    ]
    for initiative in INITIATIVES:
        started = index >= 3
        benefit = 0.0 if not started else 2_000 + 450 * (index - 3)
        rows.append(
            row(
                "project_cost",
                12_000 if index <= 8 else 3_000,
                "USD",
                dimension="initiative",
                dimension_value=initiative,
            )
        )
        rows.append(
            row(
                "project_benefit",
                benefit,
                "USD",
                dimension="initiative",
                dimension_value=initiative,
            )
        )
    if month.month in (1, 4, 7, 10):
        quarter_end = _month_end(month.replace(month=month.month + 2))
        staff = 40 + round(3 * _unit(f"q{month}"))
        leavers = round(3 * _unit(f"l{month}"))
        rows.append(row("staff_start", staff, "people", period_end=quarter_end.isoformat()))
        rows.append(
            row("staff_retained", staff - leavers, "people", period_end=quarter_end.isoformat())
        )
    return rows


def survey_rows(month: date) -> list[dict[str, str]]:
    """CSAT answers every month (5-point) and an engagement pulse each quarter (10-point)."""
    rows = []
    for n in range(12):
        service = SERVICES[n % len(SERVICES)]
        u = _unit(f"csat{month}{n}")
        score = 5 if u > 0.45 else 4 if u > 0.2 else 3 if u > 0.1 else 2 if u > 0.04 else 1
        rows.append(
            {
                "response_id": f"CSAT-{month:%Y%m}-{n + 1:02d}",
                "survey": "csat",
                "responded_at": f"{month.replace(day=1 + (n * 2) % 27)} {9 + n % 8:02d}:30:00",
                "score": str(score),
                "scale_max": "5",
                "service": service.name,
                "ticket_number": "",
            }
        )
    if month.month in (3, 6, 9, 12):
        for n in range(10):
            rows.append(
                {
                    "response_id": f"ENG-{month:%Y%m}-{n + 1:02d}",
                    "survey": "engagement",
                    "responded_at": f"{month.replace(day=20)} 12:00:00",
                    "score": str(5 + round(5 * _unit(f"eng{month}{n}"))),
                    "scale_max": "10",
                    "service": "",
                    "ticket_number": "",
                }
            )
    return rows


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_templates(folder: Path = TEMPLATES) -> None:
    """Rebuild the shipped templates (CSV and XLSX) from the generator, for the template months."""
    import openpyxl

    span = list(months(TEMPLATE_FIRST_MONTH, TEMPLATE_LAST_MONTH))
    measures = [r for m in span for r in measure_rows(m)]
    answers = [r for m in span for r in survey_rows(m)]
    write_csv(folder / "measures.csv", MEASURE_COLUMNS, measures)
    write_csv(folder / "survey_responses.csv", SURVEY_COLUMNS, answers)
    workbook = openpyxl.Workbook()
    readme = workbook.active
    readme.title = "README"
    for line in (
        "ITSM Scorecard measures template (see templates/measures/README.md).",
        "Sheet measures: one row per input metric and period.",
        "Sheet survey_responses: one row per CSAT or engagement answer.",
        "Dates may be Excel dates or text YYYY-MM-DD; values must be plain numbers.",
    ):
        readme.append([line])
    for title, columns, rows in (
        ("measures", MEASURE_COLUMNS, measures),
        ("survey_responses", SURVEY_COLUMNS, answers),
    ):
        sheet = workbook.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_spreadsheet_value(column, row[column]) for column in columns])
    workbook.save(folder / "measures_template.xlsx")


def _spreadsheet_value(column: str, text: str) -> object:
    """What a person would type: real dates and numbers, empty cells for empty text."""
    if not text:
        return None
    if column in ("period_start", "period_end", "responded_at"):
        return datetime.fromisoformat(text) if " " in text else date.fromisoformat(text)
    if column in ("value", "score", "scale_max"):
        return float(text) if "." in text else int(text)
    return text


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Point MEASURES_PATHS at the CSV templates, adding dated rows for uncovered demo months."""
    patterns = [str(TEMPLATES / "*.csv")]
    uncovered = [
        m
        for m in months(history_start(as_of).date(), as_of.date())
        if not TEMPLATE_FIRST_MONTH <= m <= TEMPLATE_LAST_MONTH
    ]
    if uncovered:
        folder = Path(workdir) / "measures"
        write_csv(
            folder / "demo_measures.csv",
            MEASURE_COLUMNS,
            [r for m in uncovered for r in measure_rows(m)],
        )
        write_csv(
            folder / "demo_survey_responses.csv",
            SURVEY_COLUMNS,
            [r for m in uncovered for r in survey_rows(m)],
        )
        patterns.append(str(folder / "*.csv"))
    return {"MEASURES_PATHS": ",".join(patterns)}, lambda: None
