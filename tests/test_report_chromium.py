"""The executive summary in real headless Chromium: structure, one A4 page per scorecard, a picture."""

import html
import json
import re
import shutil
import subprocess

import duckdb

from reports import write_reports
from reports.services import service_page
from tests.conftest import REPO, require
from tests.report_fixture import build_crowded_warehouse, build_warehouse

SCREENSHOTS = REPO / "data" / "reports" / "screenshots"


def chromium(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    require(binary is not None, "chromium not installed (apt-get install -y chromium)")
    return subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_summary_prints_one_a4_page_per_scorecard_in_chromium(tmp_path):
    source = build_warehouse(tmp_path / "wh", pilot=True)
    files = write_reports(source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", {})
    url = files.latest_html.resolve().as_uri()

    dom = chromium("--dump-dom", url).stdout
    assert dom.count('<section class="scorecard"') == 2
    assert dom.count("<polyline") == 4  # two metrics on each of the two scorecards

    pdf = tmp_path / "summary.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", url)
    content = pdf.read_bytes().decode("latin-1")
    pages = re.findall(r"/Type\s*/Page(?!s)", content)
    assert len(pages) == 2
    # A4 is 595 x 842 pt; Chromium writes it as 594.96 x 841.92.
    for width, height in re.findall(r"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", content):
        assert (round(float(width)), round(float(height))) == (595, 842)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "executive-summary.png"
    chromium(f"--screenshot={shot}", "--window-size=900,2400", url)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# Appended to a copy of the page (the page itself has no script): writes the boxes of each
# scorecard's parts, in CSS pixels, into the DOM that --dump-dom prints.
MEASURE = """<script>
addEventListener("load", () => {
  const box = (element) => element.getBoundingClientRect();
  const pages = [...document.querySelectorAll("section.scorecard")].map((section) => ({
    section: box(section).height,
    columns_bottom: box(section.querySelector(".columns")).bottom,
    footer_top: box(section.querySelector("footer")).top,
    columns: [...section.querySelectorAll(".columns > div")].map((column) => ({
      bottom: box(column).bottom,
      content_bottom: Math.max(...[...column.children].map((child) => box(child).bottom)),
      last: column.lastElementChild.textContent,
    })),
  }));
  const out = document.createElement("pre");
  out.id = "boxes";
  out.textContent = JSON.stringify(pages);
  document.body.append(out);
});
</script>"""


def test_every_column_fits_above_the_footer_and_counts_what_it_leaves_off(tmp_path):
    source = build_crowded_warehouse(tmp_path / "wh")
    files = write_reports(source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", {})
    measured = tmp_path / "measured.html"
    measured.write_text(files.latest_html.read_text().replace("</body>", MEASURE + "</body>"))
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", measured.as_uri()).stdout
    (page,) = json.loads(html.unescape(re.search(r'<pre id="boxes">(.*?)</pre>', dom, re.S)[1]))
    # On screen the page is the printed A4 area, 190 x 276 mm, inside 5 mm of white:
    # 286 mm = 286 / 25.4 * 96 px.
    assert round(page["section"]) == round(286 / 25.4 * 96)
    # The columns end where the footer begins; each column's content ends inside it, so nothing
    # is drawn over the footer or clipped unseen; the left column ends with the count of the
    # initiatives it left off.
    assert page["columns_bottom"] <= page["footer_top"]
    left, right = page["columns"]
    assert left["content_bottom"] <= left["bottom"]
    assert right["content_bottom"] <= right["bottom"]
    assert left["last"] == "+8 more"

    shot = SCREENSHOTS / "executive-summary-crowded.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chromium(f"--screenshot={shot}", "--window-size=900,1150", files.latest_html.as_uri())


def test_a_higher_footer_takes_its_room_from_the_columns_which_still_count_what_they_leave_off(
    tmp_path,
):
    """Seven sources and six long quality warnings make the footer some 35 mm higher: the
    columns list fewer rows and count the rest, rather than clip rows and their count unseen."""
    source = build_crowded_warehouse(tmp_path / "wh")
    problem = (
        "costs of AWS come from focus and aws_ce on 30 day(s) (2026-11-01 to 2026-11-30): the "
        "cost KPIs count each source, so its spend counts more than once on those days"
    )
    with duckdb.connect(str(source)) as con:
        for name in ("jira", "freshservice", "pagerduty", "focus", "aws_ce", "azure_cost", "xl"):
            con.execute(
                "INSERT INTO meta.cursors VALUES (?, 'records', 'x', 1, "
                "TIMESTAMPTZ '2026-12-01 02:00:00+00', 'run-1') ON CONFLICT DO NOTHING",
                [name],
            )
        for n in range(6):
            con.execute(
                "INSERT INTO scorecard.data_quality (source, table_name, record_key, field, "
                "problem, value) VALUES ('focus', 'costs', ?, 'f', ?, 'v')",
                [f"K{n}", f"{problem} ({n})"],
            )
    files = write_reports(source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", {})
    measured = tmp_path / "measured.html"
    measured.write_text(files.latest_html.read_text().replace("</body>", MEASURE + "</body>"))
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", measured.as_uri()).stdout
    (page,) = json.loads(html.unescape(re.search(r'<pre id="boxes">(.*?)</pre>', dom, re.S)[1]))
    assert page["columns_bottom"] <= page["footer_top"]
    left, right = page["columns"]
    assert left["content_bottom"] <= left["bottom"]
    assert right["content_bottom"] <= right["bottom"]
    # The metrics the page lists are those of the Markdown, then their count: 16 and 6 more
    # of the 22, where the fixture's own footer leaves room for 19.
    metrics = files.markdown.split("## Metrics")[1].split("\n## ")[0]
    assert (metrics.count("\n| ") - 1, metrics.strip().splitlines()[-1]) == (16, "+6 more")
    assert right["last"] == "+6 more"


# Appended to a copy of a page: writes how wide the page is drawn, and the window's width.
MEASURE_WIDTH = """<script>
addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "width";
  out.textContent = JSON.stringify([document.documentElement.scrollWidth, innerWidth]);
  document.body.append(out);
});
</script>"""


def test_a_service_with_a_long_unbroken_name_keeps_its_pages_to_the_window_width(tmp_path):
    """A configuration item named by a 1,500-character URL: its name wraps, so the figures of
    every service stay on the screen and on the printed page."""
    source = build_warehouse(tmp_path / "wh")
    name = "https://intranet.example.com/" + "x" * 1500
    with duckdb.connect(str(source)) as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, priority, "
            "state, service) VALUES ('servicenow:long', 'servicenow', 'INC9', "
            "TIMESTAMPTZ '2026-11-10 10:00:00+00', 3, 'new', ?)",
            [name],
        )
    files = write_reports(source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", {})
    widths = []
    for page in (files.services_index, files.services_index.parent / service_page(name)):
        measured = tmp_path / f"measured-{page.name}"
        measured.write_text(page.read_text().replace("</body>", MEASURE_WIDTH + "</body>"))
        dom = chromium(
            "--window-size=900,1000", "--virtual-time-budget=5000", "--dump-dom", measured.as_uri()
        ).stdout
        widths.append(json.loads(re.search(r'<pre id="width">(.*?)</pre>', dom)[1]))
    # Drawn no wider than the 900 px window (a vertical scroll bar takes some of it).
    assert all(drawn <= window == 900 for drawn, window in widths)


# Appended to a copy of the page: writes the page box, the metrics column and the bottom of each
# metrics row and of the "+N more" line under it.
MEASURE_ROWS = """<script>
addEventListener("load", () => {
  const right = document.querySelector(".right");
  const more = right.querySelector(".more");
  const out = document.createElement("pre");
  out.id = "rows";
  out.textContent = JSON.stringify({
    page: document.querySelector("section.scorecard").getBoundingClientRect().bottom,
    column: right.getBoundingClientRect().bottom,
    rows: [...right.querySelectorAll("tbody tr")].map((row) => row.getBoundingClientRect().bottom),
    more: more && [more.textContent, more.getBoundingClientRect().bottom],
  });
  document.body.append(out);
});
</script>"""


def test_metrics_with_long_names_list_only_rows_that_fit_on_the_a4_page(tmp_path):
    """24 metrics named with 58 characters or more: the names wrap in the narrow name column,
    yet every row the page lists, and the count of those it leaves off, is drawn inside the
    page and the column, as many rows as the Markdown lists."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(
            "INSERT INTO scorecard.metric_status (scorecard_id, metric_id, grain, period_start, "
            "perspective, objective, owner, actual, threshold, target, direction, score, status, "
            "escalate, missing_commentary) SELECT 'default', 'long_' || i, 'month', "
            "DATE '2026-11-01', 'customer', 'Delight users', 'Owner', 50, 40, 60, 'higher', 50, "
            "'amber', false, false FROM range(24) t(i)"
        )
    names = {
        f"long_{i}": f"Share of major incidents resolved within the agreed window {i}"
        for i in range(24)
    }
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", names
    )
    measured = tmp_path / "measured.html"
    measured.write_text(files.latest_html.read_text().replace("</body>", MEASURE_ROWS + "</body>"))
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", measured.as_uri()).stdout
    page = json.loads(html.unescape(re.search(r'<pre id="rows">(.*?)</pre>', dom, re.S)[1]))

    metrics = files.markdown.split("## Metrics")[1].split("\n## ")[0]
    listed = metrics.count("\n| ") - 1  # the rows under the header row
    more = metrics.strip().splitlines()[-1]
    assert more.startswith("+") and more.endswith(" more")
    assert len(page["rows"]) == listed and page["more"][0] == more
    assert listed + int(more.split()[0]) == 26  # the 24 long names and the fixture's two
    for bottom in [*page["rows"], page["more"][1]]:
        assert bottom <= page["column"] <= page["page"]
