"""The executive one-pager and service pages, rendered from a hand-built warehouse."""

import re
from pathlib import Path

from reports import write_reports
from tests.report_fixture import build_warehouse

NAMES = {"change_failure_rate": "Change failure rate", "csat": "Customer satisfaction"}


def render(tmp_path: Path, pilot: bool = False):
    source = build_warehouse(tmp_path / "wh", pilot)
    return write_reports(source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES)


def test_the_page_shows_scores_the_red_metric_with_its_owner_and_the_changes(tmp_path):
    files = render(tmp_path)
    page = files.latest_html.read_text()
    # Overall = mean of the perspectives (20.0 + 90.0) / 2 = 55.0, amber; coverage 100%.
    assert "<strong>55.0</strong> overall · coverage 100%" in page
    assert "November 2026" in page and "since October 2026" in page
    md = files.latest_markdown.read_text()
    assert "| internal process | 20.0 | 100% | RED |" in md
    # change_failure_rate is red in November; its open action A-1 names the owner and due date.
    assert "| change_failure_rate | RED | Jane Doe | 2026-12-15 |  |" in md
    # Status changes October -> November: change_failure_rate amber -> red, csat amber -> green.
    assert "| change_failure_rate | AMBER | RED |" in md
    assert "| csat | AMBER | GREEN |" in md
    # Movers: csat 50 -> 90 (+40.0) before change_failure_rate 55 -> 20 (-35.0).
    assert md.index("| csat | 50.0 | 90.0 | +40.0 |") < md.index("| change_failure_rate | 55.0")
    # The initiative ended 2026-10-31, before the as-of, and is not finished: at risk.
    assert "| Automated change testing | Sam Lee | 2026-10-31 | in_progress |" in md
    assert "| servicenow | incidents | unknown state code | 2 |" in md


def test_the_sparkline_plots_the_last_periods_over_the_threshold_target_band(tmp_path):
    page = render(tmp_path).latest_html.read_text()
    # change_failure_rate actuals 8, 12, 16 with threshold 15, target 10: low 8, high 16.
    # x = 2 + (12 - periods back) * 10 -> 92, 102, 112; y = 2 + 20 * (16 - v) / 8 -> 22, 12, 2.
    assert '<polyline points="92,22.0 102,12.0 112,2.0"' in page
    # Band from y(15) = 2 + 20 * 1 / 8 = 4.5 to y(10) = 2 + 20 * 6 / 8 = 17.0.
    assert '<rect x="0" y="4.5" width="114" height="12.5"' in page
    # csat actuals 80, 90 with threshold 75, target 85: low 75, high 90; y(80) = 2 + 20*10/15.
    assert '<polyline points="102,15.3 112,2.0"' in page


def test_the_page_is_self_contained(tmp_path):
    page = render(tmp_path).latest_html.read_text()
    assert "<script" not in page.lower()
    assert not re.search(r"https?://", page)
    assert "@page { size: A4" in page


def test_dated_copies_and_a_stable_latest_name(tmp_path):
    files = render(tmp_path)
    folder = tmp_path / "reports"
    assert [p.name for p in files.dated] == ["it-balanced-scorecard-2026-11.html"]
    assert (folder / "it-balanced-scorecard-2026-11.md").is_file()
    assert files.latest_html == folder / "latest.html"
    assert "<h1>Metric dictionary</h1>" in (folder / "dictionary.html").read_text()


def test_each_scorecard_gets_its_own_page_when_tables_carry_scorecard_id(tmp_path):
    files = render(tmp_path, pilot=True)
    page = files.latest_html.read_text()
    assert page.count('<section class="scorecard"') == 2
    assert sorted(p.name for p in files.dated) == [
        "it-balanced-scorecard-2026-11.html",
        "pilot-2026-11.html",
    ]


def test_service_pages_count_incidents_of_the_period_and_link_from_the_index(tmp_path):
    files = render(tmp_path)
    index = files.services_index.read_text()
    # Email: INC1 (P1) and INC2 opened in November, INC2 still new; Payroll's INC3 is October's.
    email = re.search(r"<tr><td><a href=\"email.html\">Email</a></td>(.*?)</tr>", index)[1]
    assert re.findall(r">([^<]*)</td>", email)[:3] == ["2", "1", "1"]
    assert (files.services_index.parent / "email.html").is_file()
    assert (
        "<h1>Email: November 2026</h1>" in (files.services_index.parent / "email.html").read_text()
    )
