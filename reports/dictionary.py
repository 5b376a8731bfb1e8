"""The metric dictionary for readers: what each KPI means, from the one catalogue."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from transforms.catalogue import load_catalogue

TEMPLATES = Path(__file__).parent / "templates"


def dictionary_html() -> str:
    entries = []
    for metric in sorted(load_catalogue(), key=lambda m: (m.perspective, m.name)):
        rules = "".join(f"<li>{html.escape(rule)}</li>" for rule in metric.rules)
        better = "higher is better" if metric.direction == "higher" else "lower is better"
        entries.append(
            f'<section id="{html.escape(metric.id)}"><h2>{html.escape(metric.name)}</h2>'
            f"<p><code>{html.escape(metric.id)}</code> · "
            f"{html.escape(metric.perspective.replace('_', ' '))}"
            f" · {html.escape(metric.unit)} · {better}</p>"
            f"<p><b>Numerator:</b> {html.escape(metric.numerator)}<br>"
            f"<b>Denominator:</b> {html.escape(metric.denominator)}</p>"
            f"<ul>{rules}</ul></section>"
        )
    body = "<h1>Metric dictionary</h1>" + "\n".join(entries)
    return Template((TEMPLATES / "page.html").read_text(encoding="utf-8")).substitute(
        title="Metric dictionary",
        css=(TEMPLATES / "services.css").read_text(encoding="utf-8"),
        body=body,
    )
