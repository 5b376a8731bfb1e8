"""Table cells that render both to HTML and to Markdown, so the two twins cannot disagree."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

# Status by shape and label as well as colour, so a greyscale print still reads.
MARKS = {
    "red": ('<rect x="1" y="1" width="8" height="8" fill="#c62828"/>', "RED"),
    "amber": ('<polygon points="5,0.5 9.5,9.5 0.5,9.5" fill="#ef8f00"/>', "AMBER"),
    "green": ('<circle cx="5" cy="5" r="4.2" fill="#2e7d32"/>', "GREEN"),
    "blue": ('<polygon points="5,0.3 9.7,5 5,9.7 0.3,5" fill="#1565c0"/>', "BLUE"),
    "grey": (
        '<circle cx="5" cy="5" r="3.8" fill="none" stroke="#777" stroke-width="1.2"/>',
        "GREY",
    ),
    "stale": (
        '<circle cx="5" cy="5" r="3.8" fill="none" stroke="#777" stroke-width="1.2" '
        'stroke-dasharray="1.5 1.2"/>',
        "STALE",
    ),
    "insufficient data": (
        '<line x1="1" y1="5" x2="9" y2="5" stroke="#777" stroke-width="1.5"/>',
        "INSUFFICIENT DATA",
    ),
}


# A line break of any kind ends a Markdown table row; in a cell it reads as a space.
LINE_BREAKS = re.compile("[\r\n\u2028\u2029]+")
# A pipe with the backslashes before it: a table row reads a backslash pair as one character,
# so each backslash is doubled and the pipe escaped, or `a\|b` would split the cell.
PIPE = re.compile(r"(\\*)\|")
# An ampersand that starts a character reference (`&amp;`, `&#60;`), which Markdown renderers
# decode; any other ampersand ("R&D") reads as itself and is left so.
ENTITY_START = re.compile(r"&(?=#?\w+;)")
# Control characters (C0 but tab, line breaks and carriage return; DEL) no page can show.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_html(text: str) -> str:
    """Text as HTML, without the control characters no page can show."""
    return html.escape(CONTROL.sub("", text))


def md_text(text: str) -> str:
    """Text as Markdown, on one line, for a table cell or a heading: a name or a comment must
    neither split a table row, nor start an HTML tag, which Markdown renderers pass through, nor
    be read as a character reference."""
    plain = ENTITY_START.sub("&amp;", CONTROL.sub("", text)).replace("<", "&lt;")
    return LINE_BREAKS.sub(" ", PIPE.sub(lambda m: m[1] * 2 + "\\|", plain))


@dataclass(frozen=True)
class Markup:
    """A cell whose HTML is not its text (a status mark, a sparkline)."""

    text: str
    html: str


Cell = str | Markup


def status_cell(status: str | None) -> Markup:
    shape, label = MARKS.get(status or "", MARKS["grey"])
    svg = f'<svg class="mark" viewBox="0 0 10 10" aria-hidden="true">{shape}</svg>'
    return Markup(label, f'<span class="status">{svg} {label}</span>')


def number(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


# Units a figure reads well without (the amount is the currency; a count or score is a number).
BARE_UNITS = {"currency", "count", "score 0-100"}


# A figure shows more digits than its column's usual ones only to keep off a goal, six at most.
MOST_DIGITS = 6


def off_the_goals(value: float | None, goals: Sequence[float], digits: int = 2) -> str:
    """The value with the fewest digits, from `digits` up to MOST_DIGITS, that leave it on its
    side of every goal: 99.896 against a 99.9 target reads 99.896, as 99.90 would read as the
    target reached."""
    if value is None:
        return number(value)
    for shown_digits in range(digits, MOST_DIGITS + 1):
        shown = round(value, shown_digits)
        if all((shown > goal, shown < goal) == (value > goal, value < goal) for goal in goals):
            break
    return number(value, shown_digits)


def goal_text(goal: float | None) -> str:
    """A goal with the decimals it has, two to MOST_DIGITS: a five-nines target reads 99.999,
    not 100.00, which an actual below it would seem to contradict."""
    if goal is None:
        return number(goal)
    digits = next((d for d in range(2, MOST_DIGITS) if round(goal, d) == goal), MOST_DIGITS)
    return number(goal, digits)


def with_unit(value: float | int | None, unit: str | None, digits: int = 2) -> str:
    """A value as the summary prints it (number), with its unit: 12.50%, 3.00 hours, 185.00."""
    shown = number(value, digits)
    if value is None or not unit or unit in BARE_UNITS:
        return shown
    return f"{shown}%" if unit == "%" else f"{shown} {unit}"


def coverage(value: float | None) -> str:
    """A coverage share in whole percent, rounded down: 69.6% is below the 70% a score needs,
    so it must not read as 70%."""
    return "–" if value is None else f"{math.floor(value)}%"


def day(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def html_table(
    headers: Sequence[str], rows: Sequence[Sequence[Cell]], numeric: Sequence[int] = ()
) -> str:
    if not rows:
        return '<p class="none">None.</p>'

    def cell(tag: str, index: int, value: Cell) -> str:
        css = ' class="num"' if index in numeric else ""
        body = value.html if isinstance(value, Markup) else text_html(value)
        return f"<{tag}{css}>{body}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "\n".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    if not rows:
        return "None."

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += [
        "| " + " | ".join(md_text(v.text if isinstance(v, Markup) else v) for v in row) + " |"
        for row in rows
    ]
    return "\n".join(lines)
