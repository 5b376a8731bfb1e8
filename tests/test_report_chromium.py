"""The executive summary in real headless Chromium: structure, one A4 page per scorecard, a picture."""

import re
import shutil
import subprocess

from reports import write_reports
from tests.conftest import REPO, require
from tests.report_fixture import build_warehouse

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
