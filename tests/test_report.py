"""The executive one-pager and service pages, rendered from a hand-built warehouse."""

import html
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from reports import queries, write_reports
from reports.cells import coverage, html_table, md_table
from reports.services import HEADERS
from tests.report_fixture import build_crowded_warehouse, build_warehouse
from transforms.kpis import compute_metrics
from transforms.scoring import score_metrics
from warehouse.publish import publish

NAMES = {"change_failure_rate": "Change failure rate", "csat": "Customer satisfaction"}


def render(tmp_path: Path, pilot: bool = False, statements: tuple[str, ...] = ()):
    """The reports of the fixture warehouse, after `statements` ran on it."""
    source = build_warehouse(tmp_path / "wh", pilot)
    with duckdb.connect(str(source)) as con:
        for statement in statements:
            con.execute(statement)
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
    # The initiative ended 2026-10-31, before the as-of, and is not finished: at risk. The schema
    # change: its status is one initiatives: allows ('active', was 'in_progress'), and the table
    # now says why, from initiative_progress too: change_failure_rate went 8 -> 16, lower is better.
    assert (
        "| Automated change testing | Sam Lee | 2026-10-31 | active | "
        "past end date; not improved: change_failure_rate |" in md
    )
    # I-2 ends in 2027 and csat improved 80 -> 90 and moved: on track, not listed.
    assert "Self-service portal" not in md
    assert "| servicenow | incidents | unknown state code | 2 |" in md
    # Freshness: the last load, and the three incidents held, not the cursor's count of records
    # received (2 in the fixture), which grows with every record read again.
    assert "| servicenow | 2026-12-01 02:00 UTC | 3 |" in md


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


def test_a_pilot_shows_its_own_commentary_decision_and_quality_rows(tmp_path):
    render(tmp_path, pilot=True)
    folder = tmp_path / "reports"
    default = (folder / "it-balanced-scorecard-2026-11.md").read_text()
    pilot = (folder / "pilot-2026-11.md").read_text()
    assert default.startswith("# IT Balanced Scorecard: November 2026")
    assert pilot.startswith("# pilot: November 2026")
    # Default: the open action answers the red, with no commentary written yet.
    assert "| change_failure_rate | RED | Jane Doe | 2026-12-15 |  |" in default
    # Pilot: the decision closed its action, so none is open: the metric's owner, no due date,
    # the owner's commentary and the decision.
    assert (
        "| change_failure_rate | RED | Change Manager | – | Two releases failed on the same "
        "defect · Decision: Freeze Friday releases |" in pilot
    )
    # The loads' problems show on both pages; the pilot's governance finding on its own only.
    assert "| servicenow | incidents | unknown state code | 2 |" in default
    assert "| servicenow | incidents | unknown state code | 2 |" in pilot
    assert "| scorecard | governance | metric with no owner | 1 |" in pilot
    assert "metric with no owner" not in default


def test_an_initiative_whose_metrics_did_not_move_is_at_risk(tmp_path):
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        # As if csat had stayed flat over I-2's review window.
        con.execute(
            "UPDATE scorecard.initiative_progress SET moved_in_review_window = false "
            "WHERE initiative_id = 'I-2'"
        )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    assert (
        "| Self-service portal | Ana Ruiz | 2027-06-30 | active | no movement over 3 periods |"
        in files.markdown
    )


def test_service_pages_count_incidents_of_the_period_and_link_from_the_index(tmp_path):
    files = render(tmp_path)
    index = files.services_index.read_text()
    # Email: INC1 (P1) and INC2 opened in November, INC2 still new; Payroll's INC3 is October's.
    email = re.search(r"<tr><td><a href=\"email-969ccbd3.html\">Email</a></td>(.*?)</tr>", index)[1]
    assert re.findall(r">([^<]*)</td>", email)[:3] == ["2", "1", "1"]
    page = files.services_index.parent / "email-969ccbd3.html"
    assert "<h1>Email: November 2026</h1>" in page.read_text()


def test_a_service_page_lists_the_open_actions_raised_on_that_service_only(tmp_path):
    files = render(tmp_path, pilot=True)
    folder = files.services_index.parent
    email = (folder / "email-969ccbd3.html").read_text()
    assert "Roll back the mail relay patch" in email and "Email Service Owner" in email
    # The scorecard-wide actions (dimension 'all') belong to no service.
    assert "Jane Doe" not in email
    assert "Roll back" not in (folder / "payroll-53fe8dfb.html").read_text()
    row = re.search(
        r"<tr><td><a href=\"email-969ccbd3.html\">Email</a></td>(.*?)</tr>",
        files.services_index.read_text(),
    )
    assert re.findall(r">([^<]*)</td>", row[1])[-1] == "1"
    # Without service actions (the default scorecard's today), every service shows none.
    plain = render(tmp_path / "plain").services_index.read_text()
    assert all(
        cells[-1] == "0"
        for cells in (
            re.findall(r">([^<]*)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", plain)[1:]
        )
    )


def test_an_action_on_the_worst_service_is_listed_on_the_page_of_the_service_worst_last(tmp_path):
    statements = (
        (
            "INSERT INTO kpi.metric_definitions (metric_id, facts_id, name, statistic, scale, "
            "min_n, dimensions, worst_of) VALUES ('service_availability_worst', "
            "'service_availability', 'Availability of the worst service', 'lowest_ratio', 100, "
            "5, [], 'service')"
        ),
        # Payroll was the worst in October, Email in November (the latest complete month);
        # December is running, so its worst (Payroll so far) decides nothing.
        (
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, n, period_complete, lowest_of) VALUES "
            "('service_availability_worst', 'month', DATE '2026-10-01', 'all', 'all', 99.0, 31, "
            "true, 'Payroll'), "
            "('service_availability_worst', 'month', DATE '2026-11-01', 'all', 'all', 98.0, 30, "
            "true, 'Email'), "
            "('service_availability_worst', 'month', DATE '2026-12-01', 'all', 'all', 97.0, 1, "
            "false, 'Payroll')"
        ),
        (
            "INSERT INTO scorecard.actions (action_id, scorecard_id, metric_id, grain, dimension, "
            "dimension_value, owner, trigger, opened_period, due_date, status, note, opened_at, "
            "updated_at) VALUES ('default:service_availability_worst:all:red:2026-10-01', "
            "'default', 'service_availability_worst', 'month', 'all', 'all', 'Ops Lead', 'red', "
            "DATE '2026-10-01', DATE '2026-11-14', 'open', 'Add a second relay', "
            "TIMESTAMPTZ '2026-11-01 02:00:00+00', TIMESTAMPTZ '2026-12-01 02:00:00+00')"
        ),
    )
    files = render(tmp_path, statements=statements)
    folder = files.services_index.parent
    email = (folder / "email-969ccbd3.html").read_text()
    assert "service_availability_worst" in email and "Add a second relay" in email
    # The change failure rate's red (no worst service) is on no service's page.
    assert "change_failure_rate</td>" not in email
    assert "Add a second relay" not in (folder / "payroll-53fe8dfb.html").read_text()
    index = files.services_index.read_text()
    counts = {
        name: re.findall(r">([^<]*)</td>", row)[-1]
        for name, row in re.findall(r"<tr><td><a href=\"[^\"]+\">([^<]+)</a></td>(.*?)</tr>", index)
    }
    assert counts == {"Email": "1", "Payroll": "0"}


def test_a_service_whose_only_row_is_an_open_action_is_listed_with_it(tmp_path):
    files = render(
        tmp_path,
        statements=(
            "INSERT INTO scorecard.actions (action_id, scorecard_id, metric_id, grain, dimension, "
            "dimension_value, owner, trigger, opened_period, due_date, status, note, opened_at, "
            "updated_at) VALUES ('default:sla_attainment:service:Storage:red:2026-10-01', "
            "'default', 'sla_attainment', 'month', 'service', 'Storage', 'Storage Owner', 'red', "
            "DATE '2026-10-01', DATE '2026-11-14', 'open', 'Replace the array', "
            "TIMESTAMPTZ '2026-11-01 02:00:00+00', TIMESTAMPTZ '2026-12-01 02:00:00+00')",
        ),
    )
    row = re.search(
        r"<tr><td><a href=\"([^\"]+)\">Storage</a></td>(.*?)</tr>", files.services_index.read_text()
    )
    assert re.findall(r">([^<]*)</td>", row[2])[-1] == "1"
    page = (files.services_index.parent / row[1]).read_text()
    assert "Replace the array" in page


LONG_NAME = "Customer Billing Platform " + "- regional instance " * 15 + "(EMEA)"


def test_services_whose_names_slug_alike_get_pages_of_their_own_with_bounded_names(tmp_path):
    source = build_warehouse(tmp_path / "wh")
    names = ["Payroll (EU)", "Payroll EU", "SAP", "sap", "会計システム", "Почта", LONG_NAME]
    with duckdb.connect(str(source)) as con:
        for name in names:
            con.execute(
                "INSERT INTO core.incidents (incident_id, source, number, opened_at, priority, "
                "state, service) VALUES (?, 'servicenow', ?, "
                "TIMESTAMPTZ '2026-11-10 10:00:00+00', 3, 'new', ?)",
                [f"servicenow:{name}", name, name],
            )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    folder = files.services_index.parent
    index = files.services_index.read_text()
    # A readable slug of at most 60 characters and the first 8 hex digits of the name's SHA-256.
    expected = {
        "Payroll (EU)": "payroll-eu-6fbbeb7a.html",
        "Payroll EU": "payroll-eu-dc0b38b9.html",
        "SAP": "sap-5a06b98b.html",
        "sap": "sap-7a9c94a8.html",
        "会計システム": "unnamed-c0bfe2ad.html",
        "Почта": "unnamed-abd894bf.html",
        LONG_NAME: "customer-billing-platform-regional-instance-regional-instanc-ce48fc93.html",
    }
    for name, page in expected.items():
        assert f'<a href="{page}">{html.escape(name)}</a>' in index
        assert f"<h1>{html.escape(name)}: November 2026</h1>" in (folder / page).read_text()
    assert len(list(folder.glob("*.html"))) == len(expected) + 3  # Email, Payroll, the index


def test_a_line_break_of_any_kind_in_a_markdown_cell_becomes_one_space():
    cells = ["CRLF\r\nend", "CR\rend", "LF\nend", "LS\u2028end", "PS\u2029end", "a\r\n\r\nb|c"]
    assert md_table(["text"], [[cell] for cell in cells]).splitlines() == [
        "| text |",
        "|---|",
        "| CRLF end |",
        "| CR end |",
        "| LF end |",
        "| LS end |",
        "| PS end |",
        "| a b\\|c |",
    ]


def test_a_backslash_before_a_pipe_does_not_split_a_markdown_cell():
    # A table row reads a backslash pair as one character: each backslash before a pipe is
    # doubled and the pipe escaped; backslashes elsewhere stay as they are.
    cells = ["a\\|b", "a\\\\|b", "C:\\share\\x"]
    assert md_table(["text"], [[cell] for cell in cells]).splitlines()[2:] == [
        "| a\\\\\\|b |",
        "| a\\\\\\\\\\|b |",
        "| C:\\share\\x |",
    ]


def test_markup_and_control_characters_in_a_cell_stay_text():
    # A name or comment from a source or a spreadsheet: no tag may start in the Markdown twin
    # (renderers pass raw HTML through), and control characters (U+0001, ESC, DEL), which no
    # page can show, are left out of both.
    # An owner typed as "R&amp;D" reads so, not as "R&D"; a lone "&" stays as typed.
    cells = [
        "<script>alert(1)</script>",
        "a\x01b\x1b[31mc\x7f",
        "tab\tkept & <b",
        "R&amp;D &#60;b&#x3e;",
    ]
    assert md_table(["text"], [[cell] for cell in cells]).splitlines()[2:] == [
        "| &lt;script>alert(1)&lt;/script> |",
        "| ab[31mc |",
        "| tab\tkept & &lt;b |",
        "| R&amp;amp;D &amp;#60;b&amp;#x3e; |",
    ]
    assert "<td>ab[31mc</td>" in html_table(["text"], [[cells[1]]])


def test_control_characters_in_commentary_are_left_out_of_the_page_as_in_any_cell(tmp_path):
    """The red metric's owner pasted a terminal's coloured output (ESC) and a NUL into the
    commentary: the HTML page leaves them out, as the Markdown twin and every other cell do."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(
            "UPDATE scorecard.metric_status SET commentary = ? "
            "WHERE metric_id = 'change_failure_rate' AND period_start = DATE '2026-11-01'",
            ["\x1b[31mRelease freeze\x1b[0m <b>now</b>\x00"],
        )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    page = files.latest_html.read_text(encoding="utf-8")
    assert '<span class="commentary">[31mRelease freeze[0m &lt;b&gt;now&lt;/b&gt;</span>' in page
    assert "\x1b" not in page and "\x00" not in page
    assert "| [31mRelease freeze[0m &lt;b>now&lt;/b> |" in files.markdown


def test_coverage_is_shown_rounded_down_so_it_never_reads_as_the_70_percent_a_score_needs():
    assert [coverage(v) for v in (69.6, 70.0, 83.3, 100.0, None)] == [
        "69%",
        "70%",
        "83%",
        "100%",
        "–",
    ]


def test_a_new_run_replaces_pages_whole_and_drops_stale_and_half_written_ones(tmp_path):
    source = build_warehouse(tmp_path / "wh")
    folder = tmp_path / "reports" / "services"
    folder.mkdir(parents=True)
    # A service that left the busiest, and a page a killed run left half-written; the top folder
    # holds a dated copy of an earlier month half-written too, which no run writes again.
    (folder / "retired-00000000.html").write_text("old")
    (folder / "email-969ccbd3.html.partial").write_text("<html><body><h1>Em")
    (folder.parent / "it-balanced-scorecard-2026-10.html.partial").write_text("<html><bo")
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    assert files.services_index.parent == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "email-969ccbd3.html",
        "index.html",
        "payroll-53fe8dfb.html",
    ]
    assert "<h1>Email: November 2026</h1>" in (folder / "email-969ccbd3.html").read_text()
    assert not list(folder.parent.glob("*.partial"))


def test_pages_are_written_in_utf_8_whatever_the_locale(tmp_path):
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, priority, "
            "state, service) VALUES ('servicenow:k', 'servicenow', 'INC9', "
            "TIMESTAMPTZ '2026-11-10 10:00:00+00', 3, 'new', '会計システム')"
        )
    # An ASCII locale, with Python's UTF-8 defaults turned off: the locale's encoding is ASCII.
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    script = (
        "import sys; from pathlib import Path; from reports import write_reports; "
        "write_reports(Path(sys.argv[1]), Path(sys.argv[2]), 'IT Balanced Scorecard', "
        "'2026-12-01', {})"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(source), str(tmp_path / "reports")],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "reports" / "services" / "unnamed-c0bfe2ad.html").read_text("utf-8")
    assert "<h1>会計システム: November 2026</h1>" in page


def test_rows_that_do_not_fit_the_left_column_are_counted_and_every_table_shows_one(tmp_path):
    source = build_crowded_warehouse(tmp_path / "wh")
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    md = files.markdown
    attention = md.split("## Reds and escalations")[1].split("## ")[0]
    initiatives = md.split("## Initiatives at risk")[1].split("## ")[0]
    # Of 226 mm: five headings 5 x 11.5; perspectives 2 x 4.3; status changes and movers 4.3 +
    # 7.6 each (change_failure_rate wraps once); the initiative's first row 17.5 (its reason
    # wraps to 5 lines) and two "+N more" lines 2 x 4.5: 116.4 mm. Each red takes 17.5 mm (its
    # 35-character id wraps to 5 lines): 6 fit in the 109.6 mm left, of the 8 the page lists.
    assert attention.count("| RED |") == 6
    assert attention.rstrip().endswith("+15 more")  # 21 reds: 20 + change_failure_rate
    assert initiatives.count("| Owner |") == 0 and initiatives.count("| Sam Lee |") == 1
    assert initiatives.rstrip().endswith("+8 more")  # 9 at risk: 8 + I-1


def test_values_restated_by_late_data_are_listed_with_their_old_and_new_value(tmp_path):
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        # As the last KPI run left them: October's change failure rate moved 12 -> 13.5 (a change
        # closed late), November's csat 90 -> 88.25; a weekly value (the scorecard reads months)
        # and a metric no scorecard shows are not this page's news.
        con.execute(
            "INSERT INTO kpi.metric_restatements (metric_id, grain, period_start, unit, "
            "previous_value, value, previous_computed_at, computed_at) VALUES "
            "('change_failure_rate', 'month', DATE '2026-10-01', '%', 12, 13.5, "
            "TIMESTAMPTZ '2026-11-30 02:00+00', TIMESTAMPTZ '2026-12-01 02:00+00'), "
            "('csat', 'month', DATE '2026-11-01', '%', 90, 88.25, "
            "TIMESTAMPTZ '2026-11-30 02:00+00', TIMESTAMPTZ '2026-12-01 02:00+00'), "
            "('change_failure_rate', 'week', DATE '2026-10-05', '%', 10, 20, "
            "TIMESTAMPTZ '2026-11-30 02:00+00', TIMESTAMPTZ '2026-12-01 02:00+00'), "
            "('cloud_spend', 'month', DATE '2026-10-01', 'currency', 90, 93, "
            "TIMESTAMPTZ '2026-11-30 02:00+00', TIMESTAMPTZ '2026-12-01 02:00+00')"
        )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    md = files.latest_markdown.read_text()
    page = files.latest_html.read_text()
    # Newest period first, in the summary's number format with the metric's unit.
    assert (
        "## Restated since the last run\n\n| metric | period | was → now |\n|---|---|---|\n"
        "| Customer satisfaction | November 2026 | 90.00% → 88.25% |\n"
        "| Change failure rate | October 2026 | 12.00% → 13.50% |\n\n## Top movers" in md
    )
    assert "week of 2026-10-05" not in md and "cloud_spend" not in md
    assert "<h2>Restated since the last run</h2>" in page
    assert '<td class="num">12.00% → 13.50%</td>' in page
    # With nothing restated, the page says nothing about it.
    quiet = render(tmp_path / "quiet")
    assert "Restated" not in quiet.latest_markdown.read_text()
    assert "Restated" not in quiet.latest_html.read_text()


def test_a_band_metric_shows_its_band_as_its_goal_on_the_page_and_in_bi(warehouse, tmp_path):
    goals = {"it_spend_pct_revenue": {"band": [2, 5], "objective": "Spend wisely"}}
    with warehouse.connect() as con:
        con.executemany(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) VALUES (?, 'month', ?, 'all', 'all', "
            "?, '%', true)",
            [
                ("it_spend_pct_revenue", date(2026, 10, 1), 3.0),
                ("it_spend_pct_revenue", date(2026, 11, 1), 6.0),
            ],
        )
        score_metrics(con, goals, as_of=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    publish(warehouse)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        current = con.execute(
            "SELECT period_start, actual, threshold, target, band_low, band_high, direction "
            "FROM bi.scorecard_current"
        ).fetchall()
    assert current == [(date(2026, 11, 1), 6.0, None, None, 2.0, 5.0, "band")]
    files = write_reports(
        warehouse.published_path, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", {}
    )
    # November's 6.0 is a third of the band's width above it: position 1, 66.7, green; the goal
    # column shows the band, as no threshold or target exists.
    assert "| it_spend_pct_revenue | 6.00 | – | 2.00–5.00 | 66.7 | GREEN |  |" in files.markdown
    # Scale from the lowest of actuals and band (2) to the highest (6): y = 2 + 20 * (6 - v) / 4,
    # so October's 3.0 at 17.0 and November's 6.0 at 2.0; the band from y(5) = 7.0 to y(2) = 22.0.
    page = files.latest_html.read_text()
    assert '<polyline points="102,17.0 112,2.0"' in page
    assert '<rect x="0" y="7.0" width="114" height="15.0"' in page


def test_an_actual_is_never_rounded_onto_a_goal_it_has_not_reached(tmp_path):
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        # 99.896 % available (44.9 minutes down in 30 days) is short of the 99.9 target: amber.
        # To two decimals it would read 99.90, the target itself; three keep it below. A reopen
        # rate of 4.998 is better than its 5 target, not at it; 99.92 is clear of every goal at
        # two decimals already.
        con.execute(
            "INSERT INTO scorecard.metric_status (scorecard_id, metric_id, grain, period_start, "
            "perspective, actual, threshold, target, direction, score, status, escalate) VALUES "
            "('default', 'service_availability', 'month', DATE '2026-11-01', 'customer', "
            "99.896, 99.5, 99.9, 'higher', 66.6, 'amber', false), "
            "('default', 'reopen_rate', 'month', DATE '2026-11-01', 'customer', "
            "4.998, 8, 5, 'lower', 66.7, 'green', false), "
            "('default', 'sla_attainment', 'month', DATE '2026-11-01', 'customer', "
            "99.92, 90, 95, 'higher', 100, 'blue', false)"
        )
    md = write_reports(source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", {})
    assert "| service_availability | 99.896 | 99.50 | 99.90 | 66.6 | AMBER |" in md.markdown
    assert "| reopen_rate | 4.998 | 8.00 | 5.00 | 66.7 | GREEN |" in md.markdown
    assert "| sla_attainment | 99.92 | 90.00 | 95.00 | 100.0 | BLUE |" in md.markdown


def test_a_goal_shows_the_decimals_it_has(tmp_path):
    """Five nines: the target reads 99.999 and the threshold 99.995, not 100.00 and 100.00,
    which the amber 99.997 beside them would seem to contradict."""
    five_nines = (
        "UPDATE scorecard.metric_status SET threshold = 99.995, target = 99.999, "
        "actual = 99.997, score = 50.0, status = 'amber' WHERE metric_id = 'change_failure_rate'"
    )
    md = render(tmp_path, statements=(five_nines,)).markdown
    assert "| Change failure rate | 99.997 | 99.995 | 99.999 | 50.0 | AMBER |" in md


QUARTERLY = """
INSERT INTO scorecard.metric_status
    (scorecard_id, metric_id, grain, period_start, perspective, objective, owner, actual,
     threshold, target, direction, score, status, trend, escalate, missing_commentary)
VALUES
    ('default', 'employee_engagement', 'quarter', DATE '2026-04-01', 'learning_growth',
     'Keep our people', 'Head of People', 70, 65, 75, 'higher', 50, 'amber', NULL, false, false),
    ('default', 'employee_engagement', 'quarter', DATE '2026-07-01', 'learning_growth',
     'Keep our people', 'Head of People', 60, 65, 75, 'higher', 20, 'red', 'deteriorating', true,
     true);
"""


def test_a_quarterly_metric_of_a_monthly_scorecard_is_on_the_page_in_its_last_quarter(tmp_path):
    """The shipped scorecard scores employee_engagement and retention_rate per quarter beside its
    monthly metrics. As of December 1st the last complete quarter is Q3 (July-September): the
    page, which reports November for the monthly metrics, shows the quarterly metric in Q3."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(QUARTERLY)
    md = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    ).markdown
    assert md.startswith("# IT Balanced Scorecard: November 2026")
    # Q3's 60 is below the 65 threshold: red, and amber in Q2 before it (score 50 -> 20).
    assert "| employee_engagement (Q3 2026) | RED | Head of People | – |  |" in md
    assert "| employee_engagement (Q2 2026 → Q3 2026) | AMBER | RED |" in md
    assert "| employee_engagement (Q3 2026) | 50.0 | 20.0 | -30.0 |" in md
    assert "| employee_engagement (Q3 2026) | 60.00 | 65.00 | 75.00 | 20.0 | RED |" in md


SERVICE_CHANGES = """
INSERT INTO core.changes (change_id, source, number, type, state, outcome, opened_at, actual_end,
                          closed_at, service, backed_out, is_production, updated_at) VALUES
    ('servicenow:c1', 'servicenow', 'CHG1', 'normal', 'closed', 'successful',
     TIMESTAMPTZ '2026-11-01 09:00+00', TIMESTAMPTZ '2026-11-05 10:00+00',
     TIMESTAMPTZ '2026-11-06 10:00+00', 'Email', false, true, TIMESTAMPTZ '2026-11-06 10:00+00'),
    ('servicenow:c2', 'servicenow', 'CHG2', 'normal', 'closed', 'unsuccessful',
     TIMESTAMPTZ '2026-11-01 09:00+00', TIMESTAMPTZ '2026-11-10 10:00+00',
     TIMESTAMPTZ '2026-11-10 12:00+00', 'Email', false, true, TIMESTAMPTZ '2026-11-10 12:00+00'),
    ('servicenow:c3', 'servicenow', 'CHG3', 'normal', 'closed', 'successful',
     TIMESTAMPTZ '2026-11-01 09:00+00', TIMESTAMPTZ '2026-11-12 10:00+00',
     TIMESTAMPTZ '2026-11-12 12:00+00', 'Email', true, true, TIMESTAMPTZ '2026-11-12 12:00+00'),
    ('servicenow:c4', 'servicenow', 'CHG4', 'normal', 'closed', 'successful',
     TIMESTAMPTZ '2026-10-20 09:00+00', TIMESTAMPTZ '2026-11-02 10:00+00',
     TIMESTAMPTZ '2026-11-02 12:00+00', 'Email', false, true, TIMESTAMPTZ '2026-11-02 12:00+00'),
    ('servicenow:c5', 'servicenow', 'CHG5', 'normal', 'closed', 'successful',
     TIMESTAMPTZ '2026-11-01 09:00+00', TIMESTAMPTZ '2026-11-14 10:00+00',
     TIMESTAMPTZ '2026-11-14 12:00+00', 'Email', false, false, TIMESTAMPTZ '2026-11-14 12:00+00'),
    ('servicenow:c6', 'servicenow', 'CHG6', 'normal', 'closed', 'successful',
     TIMESTAMPTZ '2026-10-20 09:00+00', TIMESTAMPTZ '2026-10-31 10:00+00',
     TIMESTAMPTZ '2026-11-02 12:00+00', 'Email', false, true, TIMESTAMPTZ '2026-11-02 12:00+00'),
    ('servicenow:c7', 'servicenow', 'CHG7', 'normal', 'closed', 'successful',
     TIMESTAMPTZ '2026-11-01 09:00+00', TIMESTAMPTZ '2026-11-20 10:00+00',
     TIMESTAMPTZ '2026-11-20 12:00+00', 'Email', false, true, TIMESTAMPTZ '2026-11-20 12:00+00'),
    ('servicenow:c8', 'servicenow', 'CHG8', 'normal', 'canceled', NULL,
     TIMESTAMPTZ '2026-11-01 09:00+00', NULL,
     TIMESTAMPTZ '2026-11-15 12:00+00', 'Email', false, true, TIMESTAMPTZ '2026-11-15 12:00+00');
-- INC1 (Email, November) was caused by CHG4: a failed change by the KPI's definition.
UPDATE core.incidents SET caused_by_change_id = 'servicenow:c4' WHERE number = 'INC1';
"""


def test_a_service_counts_the_changes_and_failures_its_change_failure_rate_is_made_of(tmp_path):
    """Email's November: CHG1-4 and CHG7 are completed production changes (actual end in
    November); CHG2 failed (unsuccessful), CHG3 was backed out, CHG4 caused INC1: 3 of 5 failed,
    60.0%. CHG5 is not a production change, CHG6 ended in October (closed in November) and CHG8
    was cancelled: none of them is in the rate. The page shows 5 changes and 3 failed beside the
    60.0%, not the 8 closed in November of which 1 was 'unsuccessful'."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(SERVICE_CHANGES)
        compute_metrics(con, as_of=datetime(2026, 12, 1, 2, tzinfo=UTC))
        assert con.execute(
            "SELECT value, numerator, denominator FROM kpi.metric_values WHERE "
            "metric_id = 'change_failure_rate' AND grain = 'month' AND dimension = 'service' "
            "AND dimension_value = 'Email' AND period_start = DATE '2026-11-01'"
        ).fetchone() == (60.0, 3.0, 5.0)
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    email = re.search(
        r"<tr><td><a href=\"email-969ccbd3.html\">Email</a></td>(.*?)</tr>",
        files.services_index.read_text(),
    )[1]
    cells = dict(zip(HEADERS[1:], re.findall(r">([^<]*)</td>", email), strict=True))
    assert (cells["changes"], cells["failed changes"], cells["change failure %"]) == (
        "5",
        "3",
        "60.0",
    )


def report_with_perspectives(tmp_path, rows: str, capped: dict[str, str] | None = None):
    """The reports of a built warehouse whose November perspective scores are `rows`:
    (perspective, score, coverage, status) value lists of scorecard 'default', each capped at
    the status `capped` gives it by a critical metric."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute("DELETE FROM scorecard.perspective_scores")
        con.execute(
            "INSERT INTO scorecard.perspective_scores "
            "(scorecard_id, grain, period_start, perspective, score, coverage, status) "
            f"SELECT 'default', 'month', DATE '2026-11-01', * FROM (VALUES {rows})"
        )
        for perspective, status in (capped or {}).items():
            con.execute(
                "UPDATE scorecard.perspective_scores SET capped_at = ? WHERE perspective = ?",
                [status, perspective],
            )
    return write_reports(source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES)


def test_the_overall_coverage_never_reads_70_percent_beside_insufficient_data(tmp_path):
    """Five perspectives covered 0%, 83.3% (five of six metrics) three times and 100%: their mean
    is 349.9 / 5 = 69.98%, below the 70% a score needs, so the overall is 'insufficient data'.
    Its coverage reads 69%, rounded down as every coverage is, not 70% (69.98 rounded to one
    decimal first)."""
    md = report_with_perspectives(
        tmp_path,
        "('customer', NULL, 0.0, 'insufficient data'),"
        "('financial', 50.0, 83.3, 'amber'),"
        "('internal_process', 50.0, 83.3, 'amber'),"
        "('learning_growth', 50.0, 83.3, 'amber'),"
        "('security', 50.0, 100.0, 'amber')",
    ).markdown
    assert "Overall **–** (insufficient data), coverage 69%." in md


@pytest.mark.parametrize(
    ("rows", "capped", "overall"),
    [
        # Customer's critical availability is red, capping the perspective at red though it
        # scores 85.7; with financial at 100 the mean is 92.85: the overall is red, not green.
        (
            "('customer', 85.7, 100.0, 'red'), ('financial', 100.0, 100.0, 'blue')",
            {"customer": "red"},
            "Overall **92.8** (red, capped by a critical metric), coverage 100%.",
        ),
        # The same cap on a perspective that is red by its score as well: still red (the mean
        # of 20 and 100 alone would be amber).
        (
            "('customer', 20.0, 100.0, 'red'), ('financial', 100.0, 100.0, 'blue')",
            {"customer": "red"},
            "Overall **60.0** (red, capped by a critical metric), coverage 100%.",
        ),
        # A critical band metric holds its perspective at green although it scores 100: so is
        # the overall, not blue.
        (
            "('financial', 100.0, 100.0, 'green')",
            {"financial": "green"},
            "Overall **100.0** (green, capped by a critical metric), coverage 100%.",
        ),
        # A perspective red by its score alone caps nothing: the mean decides.
        (
            "('customer', 20.0, 100.0, 'red'), ('financial', 100.0, 100.0, 'blue')",
            {},
            "Overall **60.0** (amber), coverage 100%.",
        ),
    ],
    ids=["capped-red", "capped-red-and-red-by-score", "capped-green", "red-by-score"],
)
def test_a_critical_metrics_cap_on_a_perspective_caps_the_overall(tmp_path, rows, capped, overall):
    assert overall in report_with_perspectives(tmp_path, rows, capped).markdown


def test_a_perspective_held_below_its_score_by_a_critical_metric_says_capped(tmp_path):
    """Customer scores 85.7 (green by its score) but its critical metric is red; financial is red
    by its score (20.0) beside a red critical metric, which changes nothing. Only the first
    reads "capped", on both pages, and the overall says why it is red."""
    files = report_with_perspectives(
        tmp_path,
        "('customer', 85.7, 100.0, 'red'), ('financial', 20.0, 100.0, 'red')",
        {"customer": "red", "financial": "red"},
    )
    assert "| customer | 85.7 | 100% | RED, capped |" in files.markdown
    assert "| financial | 20.0 | 100% | RED |" in files.markdown
    page = files.latest_html.read_text(encoding="utf-8")
    overall = re.search(r'<div class="overall">(.*?)</div>', page).group(1)
    assert re.sub("<[^>]+>", "", overall).strip() == (
        "RED 52.9 overall, capped by a critical metric · coverage 100%"
    )


def test_a_level_below_70_percent_coverage_says_insufficient_data_not_no_data(tmp_path):
    """The customer perspective has data for half its weight, the financial one for 30%: each,
    and the overall (40%), says "insufficient data" as the roll-ups do, on both pages. "No data"
    is what grey means, and would tell leaders nothing was measured."""
    files = report_with_perspectives(
        tmp_path,
        "('customer', NULL, 50.0, 'insufficient data'),"
        "('financial', NULL, 30.0, 'insufficient data')",
    )
    assert "| customer | – | 50% | INSUFFICIENT DATA |" in files.markdown
    page = files.latest_html.read_text(encoding="utf-8")
    assert "NO DATA" not in page
    overall = re.search(r'<div class="overall">(.*?)</div>', page).group(1)
    assert re.sub("<[^>]+>", "", overall).strip() == "INSUFFICIENT DATA – overall · coverage 40%"


def test_an_overall_coverage_of_exactly_70_percent_is_scored(tmp_path):
    """Five perspectives covered 100%, 1 of 11 metrics (9.1%), 5 of 6 (83.3%), 10 of 11 (90.9%)
    and 2 of 3 (66.7%): 350.0 / 5 = 70.0% exactly (so are the unrounded shares: 1/11 + 10/11 and
    5/6 + 2/3 make whole numbers), which is the 70% a score needs. The overall is the mean of
    the three scored perspectives, (80 + 60 + 70) / 3 = 70.0, green (66.7 or more), covered
    70%; summed as floats in this order the mean reads 69.99999999999999."""
    md = report_with_perspectives(
        tmp_path,
        "('customer', 80.0, 100.0, 'green'),"
        "('financial', NULL, 9.1, 'insufficient data'),"
        "('internal_process', 60.0, 83.3, 'amber'),"
        "('learning_growth', 70.0, 90.9, 'green'),"
        "('security', NULL, 66.7, 'insufficient data')",
    ).markdown
    assert "Overall **70.0** (green), coverage 70%." in md


def test_a_restated_value_shows_enough_digits_to_differ_from_the_one_it_replaced(tmp_path):
    """The demo's September cost allocation coverage went 88.636471% -> 88.635561% when a cost
    line was restated: at two decimals both read 88.64%, as if nothing changed. Each pair shows
    with the fewest digits (two to six) that tell the values apart: 88.6365% -> 88.6356%."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(
            "INSERT INTO kpi.metric_restatements (metric_id, grain, period_start, unit, "
            "previous_value, value, previous_computed_at, computed_at) VALUES "
            "('csat', 'month', DATE '2026-09-01', '%', 88.636471, 88.635561, "
            "TIMESTAMPTZ '2026-11-30 02:00+00', TIMESTAMPTZ '2026-12-01 02:00+00'), "
            "('change_failure_rate', 'month', DATE '2026-10-01', '%', 12, 13.5, "
            "TIMESTAMPTZ '2026-11-30 02:00+00', TIMESTAMPTZ '2026-12-01 02:00+00')"
        )
    md = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    ).markdown
    assert "| Customer satisfaction | September 2026 | 88.6365% → 88.6356% |" in md
    assert "| Change failure rate | October 2026 | 12.00% → 13.50% |" in md


def test_a_service_typed_in_another_letter_case_is_one_service_on_the_service_pages(tmp_path):
    """INC9 names Email "EMAIL": the KPIs count it under Email (its spelling since INC1 of
    3 Nov), and so does the index: Email opened INC1, INC2 and INC9 in November (3, one P1,
    INC2 and INC9 still new), beside Email's change failure rate; no "EMAIL" row of its own."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(SERVICE_CHANGES)
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, priority, state, "
            "service) VALUES ('servicenow:9', 'servicenow', 'INC9', "
            "TIMESTAMPTZ '2026-11-25 10:00:00+00', 3, 'new', 'EMAIL')"
        )
        compute_metrics(con, as_of=datetime(2026, 12, 1, 2, tzinfo=UTC))
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    index = files.services_index.read_text()
    names = re.findall(r"<tr><td>(?:<a href=\"[^\"]*\">)?([^<]*)(?:</a>)?</td>", index)
    assert sorted(names) == ["Email", "Payroll"]
    email = re.search(r"<tr><td><a href=\"email-969ccbd3.html\">Email</a></td>(.*?)</tr>", index)[1]
    cells = dict(zip(HEADERS[1:], re.findall(r">([^<]*)</td>", email), strict=True))
    assert (cells["incidents"], cells["change failure %"]) == ("3", "60.0")


def test_markup_and_a_pipe_in_the_scorecard_name_stay_text_in_the_markdown_heading(tmp_path):
    # As in a table cell: no tag may start (`<Ops>` would vanish once rendered), the pipe is
    # escaped and a line break would end the heading, so it reads as a space.
    source = build_warehouse(tmp_path / "wh")
    files = write_reports(
        source, tmp_path / "reports", 'R&D <Ops>\n"IT" | Scorecard', "2026-12-01", NAMES
    )
    assert files.markdown.splitlines()[0] == '# R&D &lt;Ops> "IT" \\| Scorecard: November 2026'


def test_an_escalated_amber_says_its_status_and_the_escalation_in_both_twins(tmp_path):
    # csat amber two months running escalates; change_failure_rate is red, and every red is
    # escalated, so it reads as red only.
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(
            "UPDATE scorecard.metric_status SET status = 'amber', score = 60, escalate = true "
            "WHERE metric_id = 'csat' AND period_start = DATE '2026-11-01'"
        )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    attention = files.markdown.split("## Reds and escalations")[1].split("## ")[0]
    assert "| csat | AMBER ESCALATED | Head of Service Desk | – |  |" in attention
    assert "| change_failure_rate | RED | Jane Doe | 2026-12-15 |  |" in attention
    page = files.latest_html.read_text()
    assert (
        '<tr><td>csat</td><td><span class="status"><svg class="mark" viewBox="0 0 10 10" '
        'aria-hidden="true"><polygon points="5,0.5 9.5,9.5 0.5,9.5" fill="#ef8f00"/></svg> '
        "AMBER</span> escalated</td>" in page
    )


def test_a_perspective_whose_metrics_are_all_quarterly_is_shown_and_counted_in_its_quarter(
    tmp_path,
):
    """Customer is scored monthly (November: 90.0, green); learning and growth only from the
    quarterly employee_engagement, so it has no November score. The page lists it in its last
    quarter, Q3 (20.0, red; not Q2's 50.0), as it shows its metric, and the overall counts it:
    (90.0 + 20.0) / 2 = 55.0, amber, where leaving it out read 90.0, green."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(QUARTERLY)
        con.execute(
            "DELETE FROM scorecard.metric_status WHERE perspective = 'internal_process';"
            "DELETE FROM scorecard.perspective_scores WHERE perspective = 'internal_process';"
            "INSERT INTO scorecard.perspective_scores "
            "(scorecard_id, perspective, grain, period_start, score, coverage, status) VALUES "
            "('default', 'learning_growth', 'quarter', DATE '2026-04-01', 50.0, 100.0, 'amber'),"
            "('default', 'learning_growth', 'quarter', DATE '2026-07-01', 20.0, 100.0, 'red')"
        )
        queries.prepare(con)
        assert [tuple(r.values()) for r in queries.rows(con, "perspectives")] == [
            ("default", "customer", "month", date(2026, 11, 1), 90.0, 100.0, "green", False),
            ("default", "learning_growth", "quarter", date(2026, 7, 1), 20.0, 100.0, "red", False),
        ]
    md = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    ).markdown
    assert "As of 2026-12-01. Overall **55.0** (amber), coverage 100%." in md
    assert "| learning growth (Q3 2026) | 20.0 | 100% | RED |" in md


def test_a_perspective_of_mixed_grains_shows_each_and_its_quarterly_cap_caps_the_overall(
    tmp_path,
):
    """Learning and growth has a monthly metric (November: 80.0, green) and the critical,
    quarterly employee_engagement, red in Q3, which caps its quarterly roll-up at red. The page
    shows both rows, the overall's mean counts the monthly one once ((90.0 + 80.0) / 2 = 85.0),
    and the red cap carries to the overall: red, where the quarterly row went unseen before."""
    mixed = (
        "DELETE FROM scorecard.metric_status WHERE perspective = 'internal_process';"
        "DELETE FROM scorecard.perspective_scores WHERE perspective = 'internal_process';"
        "INSERT INTO scorecard.perspective_scores "
        "(scorecard_id, perspective, grain, period_start, score, coverage, status, capped_at) "
        "VALUES ('default', 'learning_growth', 'month', DATE '2026-11-01', 80.0, 100.0, 'green', "
        "NULL), ('default', 'learning_growth', 'quarter', DATE '2026-07-01', 20.0, 100.0, 'red', "
        "'red')"
    )
    md = render(tmp_path, statements=(QUARTERLY, mixed)).markdown
    assert (
        "As of 2026-12-01. Overall **85.0** (red, capped by a critical metric), coverage 100%."
        in md
    )
    assert "| learning growth | 80.0 | 100% | GREEN |" in md
    assert "| learning growth (Q3 2026) | 20.0 | 100% | RED |" in md


def test_a_blue_perspective_without_a_cap_does_not_read_capped(tmp_path):
    """Financial scores 100 (blue) and no critical metric caps it: its status reads BLUE alone,
    and so does the overall."""
    files = report_with_perspectives(tmp_path, "('financial', 100.0, 100.0, 'blue')")
    assert "| financial | 100.0 | 100% | BLUE |" in files.markdown
    assert "Overall **100.0** (blue), coverage 100%." in files.markdown


def test_before_any_complete_period_both_twins_say_so(tmp_path):
    """A first run in the middle of the first month has no complete period: latest.md says so,
    and so does latest.html, rather than being a blank page."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute("DELETE FROM scorecard.metric_status")
        con.execute("DELETE FROM scorecard.perspective_scores")
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    assert files.scorecards == 0
    assert files.latest_markdown.read_text() == "No complete period has been scored yet."
    assert '<p class="none">No complete period has been scored yet.</p>' in (
        files.latest_html.read_text()
    )


def test_the_first_complete_period_has_no_previous_period_to_compare_statuses_with(tmp_path):
    """Only November is scored: the status changes compare with no earlier period, and the
    heading says so instead of reading 'since no complete period'."""
    files = render(
        tmp_path,
        statements=("DELETE FROM scorecard.metric_status WHERE period_start < DATE '2026-11-01'",),
    )
    assert "## Status changes since the previous period (none scored)\n\nNone." in files.markdown
    page = files.latest_html.read_text()
    assert "<h2>Status changes since the previous period (none scored)</h2>" in page
    assert "no complete period" not in files.markdown + page


def test_status_changes_list_the_metrics_turning_red_before_the_improvements(tmp_path):
    """October -> November: automation_coverage amber -> green and sla_attainment green -> red
    join change_failure_rate amber -> red and csat amber -> green. The reds come first (by
    metric), then the greens, whatever the metrics' names: a long list cut to fit the page
    leaves out good news, not sla_attainment turning red."""
    rows = ", ".join(
        f"('default', '{metric}', 'month', DATE '{start}', 'internal_process', 'Run well', "
        f"'Ops', {actual}, 10, 20, 'higher', {score}, '{status}', NULL, false, false)"
        for metric, start, actual, score, status in (
            ("automation_coverage", "2026-10-01", 15, 50, "amber"),
            ("automation_coverage", "2026-11-01", 25, 90, "green"),
            ("sla_attainment", "2026-10-01", 25, 90, "green"),
            ("sla_attainment", "2026-11-01", 5, 10, "red"),
        )
    )
    files = render(
        tmp_path,
        statements=(
            "INSERT INTO scorecard.metric_status (scorecard_id, metric_id, grain, period_start, "
            "perspective, objective, owner, actual, threshold, target, direction, score, status, "
            f"trend, escalate, missing_commentary) VALUES {rows}",
        ),
    )
    md = files.latest_markdown.read_text()
    changes = md[md.index("## Status changes") :]
    order = [
        changes.index(f"| {row} |")
        for row in (
            "change_failure_rate | AMBER | RED",
            "sla_attainment | GREEN | RED",
            "automation_coverage | AMBER | GREEN",
            "csat | AMBER | GREEN",
        )
    ]
    assert order == sorted(order)
