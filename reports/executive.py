"""The executive one-pager: one A4 section per scorecard, as HTML and as its Markdown twin."""

from __future__ import annotations

import html
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from string import Template
from typing import Any

import duckdb

from reports.cells import (
    MOST_DIGITS,
    Cell,
    Markup,
    coverage,
    day,
    goal_text,
    html_table,
    md_table,
    md_text,
    number,
    off_the_goals,
    status_cell,
    text_html,
    with_unit,
)
from reports.queries import rows

TEMPLATES = Path(__file__).parent / "templates"
# Enough to fill one A4 page; anything beyond is counted, not dropped silently.
LIMITS = {
    "attention": 8,
    "changes": 8,
    "restated": 5,
    "movers": 5,
    "initiatives": 5,
    "metrics": 30,
}
# Shown only when the last KPI run changed a value of a period already complete (late data).
RESTATED_HEADING = "Restated since the last run"
# What both twins say before any period is complete (a first run in the middle of a month).
NO_PERIOD = "No complete period has been scored yet."
# A scorecard's first complete period has none before it to compare statuses with.
NO_PREVIOUS_PERIOD = "the previous period (none scored)"
# What fits in a column of the A4 page above a footer of FOOTER_MM, in mm, from rows measured in
# Chromium: a heading with its table's header row, the "+N more" line, a line of 7.5 pt text and
# a row's padding. Rows that would not fit are left off and counted ("+N more") like the rows
# beyond LIMITS; the page clips whatever the estimate misses rather than draw over the footer.
COLUMN_MM = 226.0
# The footer's freshness and quality tables side by side, measured likewise (6.5 pt text): its
# rule and padding, a heading, a header row, a row of one line and each further line. A footer
# higher than FOOTER_MM (one row a side, which COLUMN_MM was measured with) takes its excess
# from the columns: a deployment of seven sources with six quality warnings has 48 mm less.
FOOTER_MM = 12.5
FOOTER_EDGE_MM = 1.3
FOOTER_HEADING_MM = 3.9
FOOTER_HEADER_MM = 3.6
FOOTER_ROW_MM = 3.75
FOOTER_LINE_MM = 2.9
# A quality problem is cut at two lines; longer than this it takes both.
PROBLEM_LINE_CHARS = 30
PROBLEM_LINES = 2
SECTION_MM = 11.5
MORE_MM = 4.5
LINE_MM = 3.3
ROW_MM = 1.0
# A row with a sparkline is at least as high as the sparkline.
MIN_ROW_MM = {"metrics": 6.5}
# About how many characters a line of each table's narrowest text column holds (metric ids
# break anywhere, so a long one takes several lines); commentary is cut at three lines.
CELL_CHARS = {
    "perspectives": 20,
    "attention": 7,
    "changes": 16,
    "restated": 16,
    "movers": 12,
    "initiatives": 10,
}
# The metrics table has the column widths report.css fixes (table-layout: fixed), so each of its
# columns has its own count: a name gets the 25 mm the figures and the sparkline leave, about 13
# characters of words a line; a figure breaks anywhere (a band target after its dash).
METRIC_CHARS = (13, 6, 6, 6, 5, 12, 1)
MAX_ROW_LINES = 5
COMMENTARY_LINES = 3


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    numeric: tuple[int, ...] = ()
    more: int = 0

    def html(self) -> str:
        if not self.more:
            return html_table(self.headers, self.rows, self.numeric)
        shown = html_table(self.headers, self.rows, self.numeric) if self.rows else ""
        return f'{shown}<p class="more">+{self.more} more</p>'

    def markdown(self) -> str:
        if not self.more:
            return md_table(self.headers, self.rows)
        shown = md_table(self.headers, self.rows) + "\n\n" if self.rows else ""
        return f"{shown}+{self.more} more"


def _lines(text: str, chars: int, most: int) -> int:
    return max(1, min(most, math.ceil(len(text) / chars)))


def _row_mm(row: list[Cell], table: str) -> float:
    """About how high a row is once its longest cell wraps in its table's narrow cells."""
    lines = 1
    for column, cell in enumerate(row):
        text = cell.text if isinstance(cell, Markup) else cell
        chars = METRIC_CHARS[column] if table == "metrics" else CELL_CHARS[table]
        # A marked-up cell is a status, a sparkline, a metric's name or commentary; the last two
        # are cut at three lines.
        most = COMMENTARY_LINES if isinstance(cell, Markup) else MAX_ROW_LINES
        lines = max(lines, _lines(text, chars, most))
    return max(ROW_MM + LINE_MM * lines, MIN_ROW_MM.get(table, 0.0))


def _metric_name(name: str) -> Markup:
    """The name cut, with an ellipsis, at the lines _row_mm counts for it, so the rows the page
    lists fit it however long their names; the full name is in its title and the Markdown."""
    lines = _lines(name, METRIC_CHARS[0], COMMENTARY_LINES)
    shown = text_html(name)
    return Markup(name, f'<span class="name lines-{lines}" title="{shown}">{shown}</span>')


def footer_mm(freshness: Table, quality: Table) -> float:
    """About how high the footer is: its higher side, each quality row one or two lines."""

    def side_mm(table: Table, lines: list[int]) -> float:
        if not table.rows:
            return FOOTER_HEADING_MM + FOOTER_ROW_MM + (MORE_MM if table.more else 0)
        rows_mm = sum(FOOTER_ROW_MM + FOOTER_LINE_MM * (n - 1) for n in lines)
        return FOOTER_HEADING_MM + FOOTER_HEADER_MM + rows_mm + (MORE_MM if table.more else 0)

    problem_lines = [
        _lines(row[2].text if isinstance(row[2], Markup) else row[2], PROBLEM_LINE_CHARS, 2)
        for row in quality.rows
    ]
    return FOOTER_EDGE_MM + max(
        side_mm(freshness, [1] * len(freshness.rows)), side_mm(quality, problem_lines)
    )


def fit_column(tables: dict[str, Table], room: float = COLUMN_MM) -> None:
    """Leave off the rows that would not fit in the page's column (`room` mm) and count them:
    every table shows its first row if it can, then the tables take the room left in page
    order."""
    heights = {name: [_row_mm(row, name) for row in table.rows] for name, table in tables.items()}
    shown = dict.fromkeys(tables, 0)

    def used() -> float:
        return sum(
            SECTION_MM
            + sum(heights[name][: shown[name]])
            + (MORE_MM if shown[name] < len(table.rows) or table.more else 0)
            for name, table in tables.items()
        )

    for first_rows_only in (True, False):
        for name in tables:
            while shown[name] < len(heights[name]) and not (first_rows_only and shown[name]):
                shown[name] += 1
                if used() > room:
                    shown[name] -= 1
                    break
    for name, table in tables.items():
        table.more += len(table.rows) - shown[name]
        table.rows = table.rows[: shown[name]]


@dataclass
class ScorecardPage:
    """What one scorecard's page says, before it is written as HTML or Markdown."""

    scorecard_id: str
    name: str
    grain: str
    period_start: date
    fields: dict[str, str]
    tables: dict[str, Table]


def period_label(grain: str, start: date | None) -> str:
    if start is None:
        return "no complete period"
    if grain == "month":
        return start.strftime("%B %Y")
    if grain == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"week of {start.isoformat()}"


def sparkline(points: str | None, band_top: float | None, band_bottom: float | None) -> Markup:
    """The last twelve periods as an inline SVG polyline over the threshold-target band."""
    if not points:
        return Markup("–", "–")
    band = ""
    if band_top is not None and band_bottom is not None:
        band = (
            f'<rect x="0" y="{band_top:.1f}" width="114" height="{band_bottom - band_top:.1f}" '
            'fill="#d9d9d9"/>'
        )
    last_x, last_y = points.split(" ")[-1].split(",")
    svg = (
        '<svg class="spark" viewBox="0 0 114 24" preserveAspectRatio="none" role="img" '
        f'aria-label="last 12 periods">{band}'
        f'<polyline points="{points}" fill="none" stroke="#111" stroke-width="1.2"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="1.8" fill="#111"/></svg>'
    )
    return Markup("", svg)


# An actual shows with two decimals, or with as many more as keep it off the goals beside it.
ACTUAL_DIGITS = range(2, MOST_DIGITS + 1)


def _actual(row: dict) -> str:
    """The actual on its side of every goal shown beside it (off_the_goals)."""
    goals = [row[k] for k in ("threshold", "target", "band_low", "band_high") if row[k] is not None]
    return off_the_goals(row["actual"], goals, ACTUAL_DIGITS[0])


def _restated(row: dict) -> str:
    """Old and new value with the fewest digits (two to six) that tell them apart: a restatement
    from 88.636471 to 88.635561 reads 88.6365 -> 88.6356, never 88.64 -> 88.64."""
    before, after = row["previous_value"], row["value"]
    digits = ACTUAL_DIGITS[0]
    if before is not None and after is not None:
        for digits in ACTUAL_DIGITS:
            if round(before, digits) != round(after, digits):
                break
    unit = row["unit"]
    return f"{with_unit(before, unit, digits)} → {with_unit(after, unit, digits)}"


def _target(row: dict) -> str:
    """The target as the metrics table shows it: a band metric's goal is its band."""
    if row["band_low"] is not None:
        return f"{goal_text(row['band_low'])}–{goal_text(row['band_high'])}"
    return goal_text(row["target"])


def _capped(table: Table, records: list[Any], limit: int) -> Table:
    table.more = max(0, len(records) - limit)
    return table


def read_pages(
    con: duckdb.DuckDBPyConnection,
    names: dict[str, str],
    as_of: str,
    scorecard_names: dict[str, str] | None = None,
) -> list[ScorecardPage]:
    """Every scorecard's page from a handful of set-based queries over the prepared views.

    scorecard_names: the title of each scorecard_id; an id not in it is its own title.
    """
    by_scorecard: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for query in (
        "perspectives",
        "attention",
        "status_changes",
        "restatements",
        "movers",
        "metrics",
    ):
        for row in rows(con, query):
            by_scorecard[row["scorecard_id"]][query].append(row)
    for row in rows(con, "initiatives_at_risk", as_of=as_of):
        by_scorecard[row["scorecard_id"]]["initiatives"].append(row)
    freshness = Table(
        ["source", "last load", "records held"],
        [
            [r["source"], day(r["last_load"]), number(r["records_held"])]
            for r in rows(con, "freshness")
        ],
        numeric=(2,),
    )
    quality_rows = rows(con, "quality")
    pages = []
    for card in rows(con, "scorecards"):
        scorecard_id = card["scorecard_id"]
        # The loads' problems (no scorecard_id) concern every scorecard; the rest, their own.
        own = [r for r in quality_rows if r["scorecard_id"] in (None, scorecard_id)]
        quality = _capped(
            Table(
                ["source", "table", "problem", "records"],
                [
                    [r["source"], r["table_name"], _problem(r["problem"]), number(r["records"])]
                    for r in own[:6]
                ],
                numeric=(3,),
            ),
            own,
            6,
        )
        title = (scorecard_names or {}).get(scorecard_id, scorecard_id)
        pages.append(
            _page(card, title, by_scorecard[scorecard_id], names, as_of, freshness, quality)
        )
    return pages


def _problem(text: str) -> Markup:
    """A quality problem cut at the lines footer_mm counts for it; its title holds it whole."""
    shown = text_html(text)
    return Markup(text, f'<span class="problem" title="{shown}">{shown}</span>')


def _in_period(name: str, row: dict, card: dict) -> str:
    """A metric's or perspective's name, with the period it is shown in when its grain is not the
    page's (a quarterly metric, or a perspective of quarterly metrics only, on a monthly page)."""
    if row["grain"] == card["grain"]:
        return name
    return f"{name} ({period_label(row['grain'], row['period_start'])})"


def _changed_between(row: dict, card: dict) -> str:
    """A status change's metric; one of another grain than the page's names both its periods,
    as the heading names the page's previous period only."""
    if row["grain"] == card["grain"]:
        return row["metric_id"]
    before = period_label(row["grain"], row["previous_start"])
    return f"{row['metric_id']} ({before} → {period_label(row['grain'], row['period_start'])})"


def _judged_metric(row: dict, card: dict) -> str:
    """The metric's name, with the period it was judged in when its current one awaits a read."""
    if row["judged_start"] == row["current_start"]:
        return _in_period(row["metric_id"], row | {"period_start": row["current_start"]}, card)
    judged = period_label(row["grain"], row["judged_start"])
    current = period_label(row["grain"], row["current_start"])
    return f"{row['metric_id']} ({judged}; {current} pending)"


def _attention_status(row: dict) -> Markup:
    """The status of a red or an escalation, the same in both twins. Another status is listed
    because a trigger escalated it (amber twice running, a deteriorating signal, stale too long,
    a forecast miss), so it says so beside its status; every red is escalated, so a red reads
    as red. One listed for its open action alone (a red whose period since has no value) names
    the action's trigger."""
    cell = status_cell(row["status"])
    if row["status"] == "red":
        return cell
    if row["escalate"]:
        return Markup(f"{cell.text} ESCALATED", f"{cell.html} escalated")
    trigger = f"{row['open_trigger'].replace('_', ' ')} action open"
    return Markup(f"{cell.text}, {trigger}", f"{cell.html} {text_html(trigger)}")


def _with_cap(status: Markup, capped: bool) -> Markup:
    """A status a critical metric holds below what the score gives: said, since a perspective
    scoring 85.7 that reads red looks like an error otherwise."""
    if not capped:
        return status
    return Markup(f"{status.text}, capped", f"{status.html}, capped")


def _page(card, title, data, names, as_of, freshness, quality) -> ScorecardPage:
    cap = LIMITS
    room = COLUMN_MM - max(0.0, footer_mm(freshness, quality) - FOOTER_MM)
    perspectives = Table(
        ["perspective", "score", "coverage", "status"],
        [
            [
                _in_period(r["perspective"].replace("_", " "), r, card),
                number(r["score"]),
                coverage(r["coverage"]),
                _with_cap(status_cell(r["status"]), r["capped"]),
            ]
            for r in data["perspectives"]
        ],
        numeric=(1, 2),
    )
    attention = _capped(
        Table(
            ["metric", "status", "owner", "due", "commentary"],
            [
                [
                    _judged_metric(r, card),
                    _attention_status(r),
                    r["owner"] or "–",
                    day(r["due_date"]),
                    Markup(
                        r["commentary"] or "",
                        f'<span class="commentary">{text_html(r["commentary"] or "")}</span>',
                    ),
                ]
                for r in data["attention"][: cap["attention"]]
            ],
        ),
        data["attention"],
        cap["attention"],
    )
    changes = _capped(
        Table(
            ["metric", "was", "now"],
            [
                [
                    _changed_between(r, card),
                    status_cell(r["previous_status"]),
                    status_cell(r["status"]),
                ]
                for r in data["status_changes"][: cap["changes"]]
            ],
        ),
        data["status_changes"],
        cap["changes"],
    )
    restated = _capped(
        Table(
            ["metric", "period", "was → now"],
            [
                [
                    names.get(r["metric_id"], r["metric_id"]),
                    period_label(r["grain"], r["period_start"]),
                    _restated(r),
                ]
                for r in data["restatements"][: cap["restated"]]
            ],
            numeric=(2,),
        ),
        data["restatements"],
        cap["restated"],
    )
    movers = Table(
        ["metric", "score before", "score now", "change"],
        [
            [
                _in_period(r["metric_id"], r, card),
                number(r["previous_score"]),
                number(r["score"]),
                f"{r['change']:+.1f}",
            ]
            for r in data["movers"]
        ],
        numeric=(1, 2, 3),
    )
    initiatives = _capped(
        Table(
            ["initiative", "owner", "ends", "status", "why"],
            [
                [
                    r["name"] or r["initiative_id"],
                    r["owner"] or "–",
                    day(r["end_date"]),
                    r["status"] or "–",
                    r["reason"],
                ]
                for r in data["initiatives"][: cap["initiatives"]]
            ],
        ),
        data["initiatives"],
        cap["initiatives"],
    )
    metrics = _capped(
        Table(
            ["metric", "actual", "threshold", "target", "score", "status", "last 12 periods"],
            [
                [
                    _metric_name(_in_period(names.get(r["metric_id"], r["metric_id"]), r, card)),
                    _actual(r),
                    goal_text(r["threshold"]),
                    _target(r),
                    number(r["score"]),
                    status_cell(r["status"]),
                    sparkline(r["points"], r["band_top"], r["band_bottom"]),
                ]
                for r in data["metrics"][: cap["metrics"]]
            ],
            numeric=(1, 2, 3, 4),
        ),
        data["metrics"],
        cap["metrics"],
    )
    fit_column(
        {
            "perspectives": perspectives,
            "attention": attention,
            "changes": changes,
            # the section is left out when nothing was restated, so it takes no room then
            **({"restated": restated} if restated.rows else {}),
            "movers": movers,
            "initiatives": initiatives,
        },
        room,
    )
    fit_column({"metrics": metrics}, room)
    previous = (
        period_label(card["grain"], card["previous_start"])
        if card["previous_start"] is not None
        else NO_PREVIOUS_PERIOD
    )
    fields = {
        "name": title,
        "period_label": period_label(card["grain"], card["period_start"]),
        "previous_label": previous,
        "as_of": as_of,
        "overall_score": number(card["overall_score"]),
        "overall_status": card["overall_status"],
        "overall_coverage": coverage(card["overall_coverage"]),
        "overall_cap": ", capped by a critical metric" if card["overall_capped"] else "",
    }
    return ScorecardPage(
        scorecard_id=card["scorecard_id"],
        name=title,
        grain=card["grain"],
        period_start=card["period_start"],
        fields=fields,
        tables={
            "perspectives": perspectives,
            "attention": attention,
            "changes": changes,
            "restated": restated,
            "movers": movers,
            "initiatives": initiatives,
            "metrics": metrics,
            "freshness": freshness,
            "quality": quality,
        },
    )


def _restated_html(table: Table) -> str:
    if not table.rows and not table.more:
        return ""
    return f"<h2>{html.escape(RESTATED_HEADING)}</h2>\n{table.html()}\n"


def _restated_markdown(table: Table) -> str:
    if not table.rows and not table.more:
        return ""
    return f"\n## {RESTATED_HEADING}\n\n{table.markdown()}\n"


def to_html(pages: list[ScorecardPage], title: str) -> str:
    """The pages as one HTML document; without any, one that says so, as the Markdown does."""
    section = Template((TEMPLATES / "scorecard.html").read_text(encoding="utf-8"))
    body = f'<p class="none">{html.escape(NO_PERIOD)}</p>' if not pages else ""
    body += "\n".join(
        section.substitute(
            {k: html.escape(v) for k, v in page.fields.items()},
            anchor=html.escape(page.scorecard_id),
            overall_mark=status_cell(page.fields["overall_status"]).html,
            **{name: table.html() for name, table in page.tables.items()}
            | {"restated": _restated_html(page.tables["restated"])},
        )
        for page in pages
    )
    return Template((TEMPLATES / "page.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(title),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        body=body,
    )


def to_markdown(pages: list[ScorecardPage]) -> str:
    if not pages:
        return NO_PERIOD
    section = Template((TEMPLATES / "scorecard.md").read_text(encoding="utf-8"))
    return "\n\n".join(
        section.substitute(
            {k: md_text(v) for k, v in page.fields.items()},
            **{name: table.markdown() for name, table in page.tables.items()}
            | {"restated": _restated_markdown(page.tables["restated"])},
        )
        for page in pages
    )
