"""Spreadsheet measures: templates load, bad rows are named (file, row, column), reloads are exact."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from connectors.emulators.measures_demo import (
    MEASURE_COLUMNS,
    SURVEY_COLUMNS,
    TEMPLATE_FIRST_MONTH,
    TEMPLATE_LAST_MONTH,
    TEMPLATES,
    measure_rows,
    months,
    survey_rows,
)
from connectors.http import SourceError
from connectors.measures import FALLBACK_INPUTS, MeasureFiles, from_env, known_inputs
from transforms.kpis import compute_metrics
from transforms.staging import stage
from warehouse.ingest import ingest

INPUTS = {"revenue": "all", "service_desk_cost": "all", "project_cost": "initiative"}
TABLES = ("measures", "survey_responses")
HEADER = "metric_id,period_start,period_end,value,unit,dimension,dimension_value,notes\n"


def load(con, source: MeasureFiles, run_id: str | None = None) -> dict[str, int]:
    """Land the files and stage them, as the job does: the valid rows now in each core table,
    or nothing when no file changed (then nothing was read)."""
    landed = ingest(con, source, run_id)
    staged = {table: stage(con, "measures", table).rows for table in TABLES}
    return staged if landed.streams["rows"].pages else dict.fromkeys(TABLES, 0)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def quality(con) -> list[tuple]:
    return con.execute(
        "SELECT table_name, record_key, field, problem, value FROM scorecard.data_quality "
        "WHERE source = 'measures' ORDER BY record_key, field"
    ).fetchall()


def test_csv_templates_load_every_row(warehouse):
    with (TEMPLATES / "measures.csv").open(newline="") as handle:
        measures = list(csv.DictReader(handle))
    with (TEMPLATES / "survey_responses.csv").open(newline="") as handle:
        answers = list(csv.DictReader(handle))
    revenue_2025 = sum(
        float(r["value"])
        for r in measures
        if r["metric_id"] == "revenue" and r["period_start"].startswith("2025")
    )
    with warehouse.connect() as con:
        counts = load(con, from_env({"MEASURES_PATHS": str(TEMPLATES / "*.csv")}), "run-1")
        loaded_revenue = con.execute(
            "SELECT sum(value) FROM core.measures WHERE metric_id = 'revenue' "
            "AND year(period_start) = 2025"
        ).fetchall()[0][0]
        surveys = dict(
            con.execute("SELECT survey, count(*) FROM core.survey_responses GROUP BY 1").fetchall()
        )
        problems = quality(con)
    assert counts == {"measures": len(measures), "survey_responses": len(answers)}
    assert loaded_revenue == pytest.approx(revenue_2025)
    assert surveys == dict(Counter(r["survey"] for r in answers))
    assert problems == []


def test_xlsx_template_holds_the_same_rows_as_the_csv_templates(warehouse, tmp_path):
    with warehouse.connect() as con:
        load(con, MeasureFiles([str(TEMPLATES / "*.csv")]), None)
        from_csv = con.execute(
            "SELECT metric_id, period_start, period_end, value, dimension, dimension_value "
            "FROM core.measures ORDER BY ALL"
        ).fetchall()
        csv_answers = con.execute(
            "SELECT response_id, responded_at, score, scale_max FROM core.survey_responses "
            "ORDER BY ALL"
        ).fetchall()
        load(con, MeasureFiles([str(TEMPLATES / "measures_template.xlsx")]), None)
        from_xlsx = con.execute(
            "SELECT metric_id, period_start, period_end, value, dimension, dimension_value "
            "FROM core.measures ORDER BY ALL"
        ).fetchall()
        xlsx_answers = con.execute(
            "SELECT response_id, responded_at, score, scale_max FROM core.survey_responses "
            "ORDER BY ALL"
        ).fetchall()
        assert quality(con) == []
    assert from_xlsx == from_csv and xlsx_answers == csv_answers


def test_templates_match_their_generator():
    span = list(months(TEMPLATE_FIRST_MONTH, TEMPLATE_LAST_MONTH))
    with (TEMPLATES / "measures.csv").open(newline="") as handle:
        assert list(csv.DictReader(handle)) == [r for m in span for r in measure_rows(m)]
    with (TEMPLATES / "survey_responses.csv").open(newline="") as handle:
        assert list(csv.DictReader(handle)) == [r for m in span for r in survey_rows(m)]


def test_invalid_rows_are_reported_with_file_row_and_column(warehouse, tmp_path):
    path = write(
        tmp_path / "finance.csv",
        HEADER
        + "revenue,2025-01-01,,1000000,USD,,,ok\n"  # row 2
        + "revnue,2025-02-01,,900000,USD,,,typo in id\n"  # row 3
        + "revenue,2025-13-01,,900000,USD,,,bad month\n"  # row 4
        + "revenue,2025-03,,1.2m,USD,,,not a number\n"  # row 5
        + "project_cost,2025-01-01,,5000,USD,initiative,,no initiative\n"  # row 6
        + "project_cost,2025-01-01,,5000,USD,initiative,INI-1,ok\n"  # row 7
        + "service_desk_cost,2025-01-01,2024-12-31,100,USD,,,ends before start\n",  # row 8
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(path)], INPUTS), None)
        rows = con.execute(
            "SELECT metric_id, period_start, value, dimension_value, source_row "
            "FROM core.measures ORDER BY source_row"
        ).fetchall()
        problems = quality(con)
    assert counts == {"measures": 2, "survey_responses": 0}
    assert rows == [
        ("revenue", date(2025, 1, 1), 1000000.0, "all", 2),
        ("project_cost", date(2025, 1, 1), 5000.0, "INI-1", 7),
    ]
    file = str(path.resolve())
    assert [(key, field, value) for _, key, field, _, value in problems] == [
        (f"{file} row 3", "metric_id", "revnue"),
        (f"{file} row 4", "period_start", "2025-13-01"),
        (f"{file} row 5", "value", "1.2m"),
        (f"{file} row 6", "dimension", "initiative"),
        (f"{file} row 8", "period_end", "2024-12-31"),
    ]
    assert "unknown metric id" in problems[0][3] and "revenue" in problems[0][3]
    assert problems[2][3] == "not a number"


def test_survey_validation_and_duplicates(warehouse, tmp_path):
    first = write(
        tmp_path / "a.csv",
        "survey,responded_at,score,scale_max,response_id\n"
        "csat,2025-01-05 10:00:00,5,5,R1\n"
        "csat,yesterday,4,5,R2\n"
        "csat,2025-01-06,7,5,R3\n"
        "engagement,2025-01-07,8,10,\n"
        "csat,-infinity,3,5,R5\n",  # a database's open end: no time it was answered
    )
    second = write(
        tmp_path / "b.csv", "survey,responded_at,score,response_id\ncsat,2025-01-09,2,R1\n"
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(first), str(second)], INPUTS), None)
        answers = con.execute(
            "SELECT response_id, survey, score, scale_max, source_row FROM core.survey_responses "
            "ORDER BY response_id"
        ).fetchall()
        problems = quality(con)
    assert counts == {"measures": 0, "survey_responses": 2}
    a = str(first.resolve())
    assert answers == [
        (f"measures:{a}:5", "engagement", 8.0, 10.0, 5),  # no response_id: file and row
        ("measures:R1", "csat", 2.0, 5.0, 2),  # the later file wins, and says so
    ]
    assert [(key, field, problem.split(":")[0]) for _, key, field, problem, _ in problems] == [
        (f"{a} row 2", "response_id", "duplicate response"),
        (f"{a} row 3", "responded_at", "bad timestamp"),
        (f"{a} row 4", "score", "score outside 0..scale_max"),
        (f"{a} row 6", "responded_at", "bad timestamp"),
    ]


def test_a_scale_of_infinity_or_nan_is_no_scale(warehouse, tmp_path):
    # Both read as numbers; a 5 of an infinite scale would count as a dissatisfied answer.
    answers = write(
        tmp_path / "a.csv",
        "survey,responded_at,score,scale_max,response_id\n"
        "csat,2025-01-05,5,Infinity,R1\n"
        "csat,2025-01-05,5,NaN,R2\n"
        "csat,2025-01-05,5,1e400,R3\n"
        "csat,2025-01-05,5,5,R4\n",
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(answers)], INPUTS), None)
        kept = con.execute("SELECT response_id, scale_max FROM core.survey_responses").fetchall()
        problems = quality(con)
    assert counts == {"measures": 0, "survey_responses": 1}
    assert kept == [("measures:R4", 5.0)]
    a = str(answers.resolve())
    assert [(key, field, problem, value) for _, key, field, problem, value in problems] == [
        (f"{a} row {row}", "scale_max", "scale_max must be a positive number", value)
        for row, value in ((2, "Infinity"), (3, "NaN"), (4, "1e400"))
    ]


def test_unchanged_files_are_skipped_and_a_changed_file_reloads_all(warehouse, tmp_path):
    finance = write(tmp_path / "finance.csv", HEADER + "revenue,2025-01-01,,100,USD,,,\n")
    desk = write(tmp_path / "desk.csv", HEADER + "service_desk_cost,2025-01-01,,7,USD,,,\n")
    source = MeasureFiles([str(tmp_path / "*.csv")], INPUTS)
    with warehouse.connect() as con:
        assert load(con, source, "run-1") == {"measures": 2, "survey_responses": 0}
        assert load(con, source, "run-2") == {"measures": 0, "survey_responses": 0}
        write(finance, HEADER + "revenue,2025-01-01,,150,USD,,,\nrevenue,2025-02,,160,USD,,,\n")
        assert load(con, source, "run-3") == {"measures": 3, "survey_responses": 0}
        rows = con.execute(
            "SELECT metric_id, period_start, value FROM core.measures ORDER BY ALL"
        ).fetchall()
        files = con.execute(
            "SELECT regexp_extract(path, '[^/]+$'), rows_loaded, run_id FROM meta.loaded_files "
            "WHERE source = 'measures' ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("revenue", date(2025, 1, 1), 150.0),
        ("revenue", date(2025, 2, 1), 160.0),
        ("service_desk_cost", date(2025, 1, 1), 7.0),
    ]
    assert files == [("desk.csv", 1, "run-3"), ("finance.csv", 2, "run-3")]
    assert desk.exists()


def test_unreadable_layouts_skip_the_whole_file(warehouse, tmp_path):
    tmp_path = tmp_path / "inputs"
    tmp_path.mkdir()
    odd = write(tmp_path / "odd.csv", "name,amount\nrevenue,1\n")
    partial = write(tmp_path / "partial.csv", "metric_id,period_start\nrevenue,2025-01-01\n")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "measures"
    sheet.append(list(MEASURE_COLUMNS))
    sheet.append(["revenue", date(2025, 4, 1), None, 42, "USD", None, None])
    sheet.append(["revenue", "April", None, 43, "USD", None, None])
    workbook.create_sheet("README").append(["free text is ignored"])
    workbook.save(tmp_path / "book.xlsx")
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(tmp_path / "*")], INPUTS), None)
        problems = quality(con)
    assert counts == {"measures": 1, "survey_responses": 0}
    book = str((tmp_path / "book.xlsx").resolve())
    assert [(key, field) for _, key, field, _, _ in problems] == [
        (f"{book}#measures row 3", "period_start"),
        (f"{str(odd.resolve())} row 1", None),
        (f"{str(partial.resolve())} row 1", "value"),
    ]
    assert "missing required column(s) value" in problems[2][3]


def test_known_inputs_follow_the_kpi_definitions(tmp_path):
    listed = write(
        tmp_path / "inputs.yaml",
        "inputs:\n  - id: revenue\n  - id: project_cost\n    dimension: initiative\n",
    )
    assert known_inputs(listed) == {"revenue": "all", "project_cost": "initiative"}
    assert known_inputs(tmp_path / "missing.yaml") == FALLBACK_INPUTS
    shipped = known_inputs()
    assert {"revenue", "service_desk_cost", "project_benefit"} <= set(shipped)
    with pytest.raises(SourceError, match="MEASURES_PATHS"):
        from_env({})
    assert SURVEY_COLUMNS[0] == "response_id"


def test_a_new_input_id_reloads_unchanged_files(warehouse, tmp_path, monkeypatch):
    inputs = write(tmp_path / "inputs.yaml", "inputs:\n  - id: revenue\n")
    monkeypatch.setattr("connectors.measures.INPUTS_FILE", inputs)
    data = tmp_path / "data"
    data.mkdir()
    write(data / "f.csv", HEADER + "revenue,2025-01,,1,USD,,,\nheadcount_fte,2025-01,,40,FTE,,,\n")
    source = from_env({"MEASURES_PATHS": str(data)})
    with warehouse.connect() as con:
        assert load(con, source, None) == {"measures": 1, "survey_responses": 0}
        assert load(con, source, None) == {"measures": 0, "survey_responses": 0}
        write(inputs, "inputs:\n  - id: revenue\n  - id: headcount_fte\n")
        assert load(con, source, None) == {"measures": 2, "survey_responses": 0}
        assert quality(con) == []


def test_a_key_moving_between_files_is_neither_lost_nor_doubled(warehouse, tmp_path):
    first = write(tmp_path / "a.csv", HEADER + "revenue,2025-01,,100,USD,,,\n")
    second = write(tmp_path / "b.csv", HEADER + "service_desk_cost,2025-01,,7,USD,,,\n")
    source = MeasureFiles([str(tmp_path / "*.csv")], INPUTS)

    def rows(con) -> list[tuple]:
        return con.execute(
            "SELECT metric_id, value, regexp_extract(source_file, '[^/]+$') FROM core.measures "
            "ORDER BY ALL"
        ).fetchall()

    with warehouse.connect() as con:
        load(con, source)
        # January's revenue moves from a.csv to b.csv, corrected on the way.
        write(first, HEADER)
        write(second, HEADER + "service_desk_cost,2025-01,,7,USD,,,\nrevenue,2025-01,,110,USD,,,\n")
        assert load(con, source) == {"measures": 2, "survey_responses": 0}
        assert rows(con) == [("revenue", 110.0, "b.csv"), ("service_desk_cost", 7.0, "b.csv")]
        # A file that leaves the set takes its rows with it.
        second.unlink()
        assert load(con, source) == {"measures": 0, "survey_responses": 0}
        raw_left = con.execute("SELECT count(*) FROM raw.measures_measures").fetchall()[0][0]
        assert (rows(con), raw_left) == ([], 0)


def test_files_that_cannot_be_read_are_skipped_and_the_others_load(warehouse, tmp_path):
    tmp_path = tmp_path / "inputs"
    tmp_path.mkdir()
    (tmp_path / "scan.csv").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    write(tmp_path / "ok.csv", HEADER + "revenue,2025-01,,100,USD,,,\n")
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(tmp_path / "*")], INPUTS))
        problems = quality(con)
    assert counts == {"measures": 1, "survey_responses": 0}
    assert [(key, field) for _, key, field, _, _ in problems] == [
        (str((tmp_path / "broken.xlsx").resolve()), None),
        (str((tmp_path / "scan.csv").resolve()), None),
    ]
    assert all(problem.startswith("cannot read file") for _, _, _, problem, _ in problems)


def test_a_period_start_not_on_the_first_needs_a_period_end(warehouse, tmp_path):
    path = write(
        tmp_path / "finance.csv",
        HEADER
        + "revenue,2025-01-31,,1000,USD,,,month labelled by its last day\n"  # row 2
        + "revenue,2025-02-01,,2000,USD,,,\n"  # row 3
        + "revenue,2025-03-15,2025-04-14,3000,USD,,,an explicit period\n",  # row 4
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(path)], INPUTS), None)
        rows = con.execute(
            "SELECT period_start, period_end, value FROM core.measures ORDER BY ALL"
        ).fetchall()
        problems = quality(con)
    assert counts == {"measures": 2, "survey_responses": 0}
    assert rows == [
        (date(2025, 2, 1), None, 2000.0),
        (date(2025, 3, 15), date(2025, 4, 14), 3000.0),
    ]
    assert problems == [
        (
            "measures",
            f"{path.resolve()} row 2",
            "period_start",
            "period_start must be the first of a month, or give period_end",
            "2025-01-31",
        ),
        # Loaded, but its days run into a second quarter, so no period holds it whole.
        (
            "measures",
            f"{path.resolve()} row 4",
            "period_end",
            "spans 2025-03-15 to 2025-04-14, more than one calendar quarter: no week, month or "
            "quarter holds it whole, so no KPI counts it; enter it per quarter or month",
            "2025-04-14",
        ),
    ]


def test_answers_without_an_id_in_same_named_files_of_two_folders_all_count(warehouse, tmp_path):
    january, february = tmp_path / "2026-01", tmp_path / "2026-02"
    january.mkdir()
    february.mkdir()
    header = "survey,responded_at,score\n"
    first = write(january / "responses.csv", header + "csat,2026-01-05,4\ncsat,2026-01-06,5\n")
    second = write(february / "responses.csv", header + "csat,2026-02-05,1\n")
    source = MeasureFiles([str(tmp_path / "*" / "*.csv")], INPUTS)

    def answers(con) -> list[tuple]:
        return con.execute(
            "SELECT response_id, score FROM core.survey_responses ORDER BY ALL"
        ).fetchall()

    jan, feb = first.resolve(), second.resolve()
    with warehouse.connect() as con:
        assert load(con, source) == {"measures": 0, "survey_responses": 3}
        assert answers(con) == [
            (f"measures:{jan}:2", 4.0),
            (f"measures:{jan}:3", 5.0),
            (f"measures:{feb}:2", 1.0),
        ]
        # February's file grows: every file lands again, the answers keep their ids.
        write(second, header + "csat,2026-02-05,1\ncsat,2026-02-06,2\n")
        assert load(con, source) == {"measures": 0, "survey_responses": 4}
        assert answers(con) == [
            (f"measures:{jan}:2", 4.0),
            (f"measures:{jan}:3", 5.0),
            (f"measures:{feb}:2", 1.0),
            (f"measures:{feb}:3", 2.0),
        ]
        assert quality(con) == []


def test_a_csv_saved_in_windows_1252_loads_and_the_log_says_so(warehouse, tmp_path, caplog):
    path = tmp_path / "answers.csv"
    # Excel's "CSV (Comma delimited)" on Western-European Windows: é is the single byte 0xE9.
    path.write_bytes(
        "survey,responded_at,score,service\ncsat,2026-01-05,4,Café IT\n".encode("cp1252")
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(path)], INPUTS))
        services = con.execute("SELECT service FROM core.survey_responses").fetchall()
        problems = quality(con)
    assert counts == {"measures": 0, "survey_responses": 1}
    assert (services, problems) == ([("Café IT",)], [])
    assert (
        f"measures: {path.resolve()} is not UTF-8, read as Windows-1252; save it as CSV UTF-8"
        in caplog.messages
    )


def test_a_repeated_column_name_in_a_sheet(warehouse, tmp_path):
    workbook = openpyxl.Workbook()
    finance = workbook.active
    finance.title = "finance"
    finance.append(["metric_id", "period_start", "value", "notes", "notes"])
    finance.append(["revenue", "2026-01-01", 10, "a", "b"])
    twice = workbook.create_sheet("twice")
    twice.append(["metric_id", "period_start", "value", "value"])
    twice.append(["revenue", "2026-02-01", 20, 21])
    survey = workbook.create_sheet("survey")
    survey.append(["survey", "responded_at", "score"])
    survey.append(["csat", "2026-01-05", 4])
    workbook.save(tmp_path / "book.xlsx")
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(tmp_path / "book.xlsx")], INPUTS))
        problems = quality(con)
    # A repeated extra column is ignored; a repeated layout column leaves its sheet out alone.
    assert counts == {"measures": 1, "survey_responses": 1}
    book = str((tmp_path / "book.xlsx").resolve())
    assert problems == [
        (
            "measures",
            f"{book}#twice row 1",
            "value",
            "column value appears twice in the header",
            None,
        )
    ]


def test_a_percent_is_the_number_shown_in_a_workbook_and_a_csv(warehouse, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "measures"
    sheet.append(["metric_id", "period_start", "value", "unit"])
    sheet.append(["revenue", "2026-01-01", 0.463, "%"])  # shown 46.3%
    sheet.append(["revenue", "2026-02-01", 1, "%"])  # shown 100%
    sheet.append(["revenue", "2026-03-01", 0.5, "%"])  # shown 0.5% (a literal %, not scaled)
    sheet["C2"].number_format = "0.0%"
    sheet["C3"].number_format = "0%"
    sheet["C4"].number_format = '0.0"%"'
    workbook.save(tmp_path / "book.xlsx")
    more = write(tmp_path / "more.csv", "metric_id,period_start,value\nrevenue,2026-04-01,46.3 %\n")
    with warehouse.connect() as con:
        load(con, MeasureFiles([str(tmp_path / "book.xlsx"), str(more)], INPUTS))
        values = con.execute("SELECT period_start, value FROM core.measures ORDER BY 1").fetchall()
        assert quality(con) == []
    assert values == [
        (date(2026, 1, 1), 46.3),
        (date(2026, 2, 1), 100.0),
        (date(2026, 3, 1), 0.5),
        (date(2026, 4, 1), 46.3),
    ]


def test_an_unquoted_separator_in_a_cell_sets_aside_its_row_only(warehouse, tmp_path):
    commas = write(
        tmp_path / "commas.csv",
        "metric_id,period_start,value,notes\n"
        "revenue,2025-01-01,100,ok\n"  # row 2
        "revenue,2025-02-01,1,234,thousands separator\n"  # row 3: which cell is the value?
        'revenue,2025-03-01,300,"quoted, as it should be"\n',  # row 4
    )
    # The header says the separator, though the notes hold more commas than semicolons.
    write(
        tmp_path / "semicolons.csv",
        "metric_id;period_start;value;notes\nservice_desk_cost;2025-01-01;7;a, b, c, d\n",
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(tmp_path / "*.csv")], INPUTS))
        rows = con.execute(
            "SELECT metric_id, period_start, value FROM core.measures ORDER BY ALL"
        ).fetchall()
        problems = quality(con)
    assert counts == {"measures": 3, "survey_responses": 0}
    assert rows == [
        ("revenue", date(2025, 1, 1), 100.0),
        ("revenue", date(2025, 3, 1), 300.0),
        ("service_desk_cost", date(2025, 1, 1), 7.0),
    ]
    assert problems == [
        (
            "measures",
            f"{commas.resolve()} row 3",
            None,
            "5 cells where the header has 4: a cell holding ',' must be in double quotes",
            None,
        )
    ]


def test_csv_rows_are_numbered_as_excel_shows_them(warehouse, tmp_path):
    lines = write(
        tmp_path / "lines.csv",
        "metric_id,period_start,value,notes\n"
        'revenue,2026-01-01,1,"line one\nline two"\n'  # row 2: one row on two lines
        "\n"  # row 3
        "revenue,2026-02-01,x,\n"  # row 4
        ",,,\n"  # row 5: every cell empty, skipped silently
        "revenue,2026-03-01,y,\n",  # row 6
    )
    titled = write(
        tmp_path / "titled.csv",
        "Finance inputs FY2026\nmetric_id,period_start,value\nrevenue,2026-04-01,z\n",
    )
    # Excel reads the separator from a first sep= line and does not show that line.
    hinted = write(
        tmp_path / "hinted.csv", "sep=;\nmetric_id;period_start;value\nrevenue;2026-05-01;w\n"
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(tmp_path / "*.csv")], INPUTS))
        problems = quality(con)
    assert counts == {"measures": 1, "survey_responses": 0}
    assert [(key, field, value) for _, key, field, _, value in problems] == [
        (f"{hinted.resolve()} row 2", "value", "w"),
        (f"{lines.resolve()} row 4", "value", "x"),
        (f"{lines.resolve()} row 6", "value", "y"),
        (f"{titled.resolve()} row 3", "value", "z"),
    ]


def test_names_typed_with_stray_spaces_are_one_name(warehouse, tmp_path):
    # The same initiative typed "INIT-1" and " INIT-1 ", and a service "Email  Desk " in a
    # survey: one initiative and the service as the ITSM sources name it; a value of spaces
    # alone names nothing.
    measures = write(
        tmp_path / "m.csv",
        HEADER + "project_cost,2026-01-01,,100,,initiative,INIT-1,\n"
        "project_cost,2026-02-01,,50,,initiative, INIT-1 ,\n"
        "project_cost,2026-03-01,,70,,initiative,   ,\n",
    )
    surveys = write(
        tmp_path / "s.csv",
        "survey,responded_at,score,scale_max,response_id,service\n"
        "csat,2026-01-05,5,5,R1,Email  Desk \n"
        "csat,2026-01-06,4,5,R2,\t\n",
    )
    with warehouse.connect() as con:
        load(con, MeasureFiles([str(measures), str(surveys)], INPUTS))
        rows = con.execute(
            "SELECT period_start, dimension_value FROM core.measures ORDER BY 1"
        ).fetchall()
        services = con.execute(
            "SELECT response_id, service FROM core.survey_responses ORDER BY 1"
        ).fetchall()
        problems = [(field, problem) for _, _, field, problem, _ in quality(con)]
    assert rows == [(date(2026, 1, 1), "INIT-1"), (date(2026, 2, 1), "INIT-1")]
    assert services == [("measures:R1", "Email Desk"), ("measures:R2", None)]
    assert problems == [("dimension", "dimension_value is required when dimension is initiative")]


def test_a_semicolon_file_reads_numbers_as_the_european_excel_that_wrote_it(warehouse, tmp_path):
    """Excel in a German or French locale writes ';' between cells, '.' between thousands and
    ',' before decimals: 1.250 is 1250 (it loaded as 1.25, silently), 42,5 is 42.5 (refused as
    no number). A comma file keeps the English notation."""
    write(
        tmp_path / "finanzen.csv",
        "\ufeffmetric_id;period_start;value;unit\n"
        "revenue;2025-01-01;1.250;EUR\n"
        "service_desk_cost;2025-01-01;42,5;EUR\n"
        "revenue;2025-02-01;1.234.567,89;EUR\n"
        "service_desk_cost;2025-02-01;12.5;EUR\n",
    )
    write(tmp_path / "english.csv", "metric_id,period_start,value\nrevenue,2025-03-01,1.250\n")
    with warehouse.connect() as con:
        load(con, MeasureFiles([str(tmp_path / "*.csv")], INPUTS))
        rows = con.execute(
            "SELECT metric_id, period_start, value FROM core.measures ORDER BY ALL"
        ).fetchall()
        problems = quality(con)
    assert rows == [
        ("revenue", date(2025, 1, 1), 1250.0),
        ("revenue", date(2025, 2, 1), 1234567.89),
        ("revenue", date(2025, 3, 1), 1.25),
        ("service_desk_cost", date(2025, 1, 1), 42.5),
        ("service_desk_cost", date(2025, 2, 1), 12.5),  # no thousands group: a decimal point
    ]
    assert problems == []


def test_a_quote_never_closed_skips_its_file_naming_the_row(warehouse, tmp_path):
    """Every line below a quote opened and never closed would read as one cell, and its rows
    would go unseen: the file is skipped with the row named, as an unreadable file is."""
    path = write(
        tmp_path / "finance.csv",
        "metric_id,period_start,value,notes\n"
        'revenue,2025-01-01,100,"approx\n'
        "revenue,2025-02-01,200,ok\n"
        "revenue,2025-03-01,300,ok\n",
    )
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(path)], INPUTS))
        problems = quality(con)
    assert counts == {"measures": 0, "survey_responses": 0}
    assert [(key, problem) for _, key, _, problem, _ in problems] == [
        (
            str(path.resolve()),
            "cannot read file: row 2: a double quote opened in this row is never closed, so "
            "every line after it would read as one cell; close or remove it",
        )
    ]


def test_a_workbook_whose_declared_size_is_stale_loads_every_row(warehouse, tmp_path):
    """Some tools write a sheet's size (its dimension) once and never again: read as declared
    (A1:C3), rows 4 to 7 were left out without a word."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["metric_id", "period_start", "value"])
    for month in range(1, 7):
        sheet.append(["revenue", f"2025-{month:02d}-01", month * 100])
    path = tmp_path / "finance.xlsx"
    book.save(path)
    # Rewrite the sheet's declared size as a stale writer leaves it.
    import zipfile

    with zipfile.ZipFile(path) as old:
        parts = {name: old.read(name) for name in old.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace('ref="A1:C7"', 'ref="A1:C3"').encode()
    assert parts["xl/worksheets/sheet1.xml"] != sheet_xml.encode()
    with zipfile.ZipFile(path, "w") as new:
        for name, data in parts.items():
            new.writestr(name, data)
    with warehouse.connect() as con:
        counts = load(con, MeasureFiles([str(path)], INPUTS))
    assert counts == {"measures": 6, "survey_responses": 0}


def test_a_copy_of_a_file_counts_once_and_is_listed(warehouse, tmp_path):
    """A survey export saved twice ("csat (1).csv" beside "csat.csv"): answers without an id are
    told apart by file and row, so the copy's would all count again."""
    text = "survey,responded_at,score\ncsat,2026-01-05,4\ncsat,2026-01-06,5\n"
    original = write(tmp_path / "csat.csv", text)
    copy = write(tmp_path / "csat (1).csv", text)
    source = MeasureFiles([str(tmp_path / "*.csv")], INPUTS)
    with warehouse.connect() as con:
        assert load(con, source) == {"measures": 0, "survey_responses": 2}
        problems = quality(con)
        # Unchanged files: the next run reads nothing, and the copy stays listed.
        assert load(con, source) == {"measures": 0, "survey_responses": 0}
        assert quality(con) == problems
    # The one listed first ("csat (1).csv": a space sorts before the dot) counts.
    assert [(key, problem) for _, key, _, problem, _ in problems] == [
        (
            str(original.resolve()),
            f"measures: {original.resolve()} holds the same content as {copy.resolve()}: left "
            "out so its rows count once (remove one of the two)",
        )
    ]


def test_an_initiative_typed_in_another_letter_case_is_one_initiative(warehouse, tmp_path):
    """The PMO's sheet names the initiative "CRM Upgrade"; a correction file retypes Q2's cost
    for "CRM upgrade". The correction replaces the row it corrects (not adds to it), and the
    initiative keeps one spelling, so its return so far is one row."""
    write(
        tmp_path / "a.csv",
        HEADER + "project_cost,2026-01-01,2026-03-31,100000,,initiative,CRM Upgrade,\n"
        "project_benefit,2026-04-01,2026-06-30,150000,,initiative,CRM Upgrade,\n"
        "project_cost,2026-04-01,2026-06-30,20000,,initiative,CRM Upgrade,\n",
    )
    write(
        tmp_path / "b.csv",
        HEADER + "project_cost,2026-04-01,2026-06-30,30000,,initiative,CRM upgrade,correction\n",
    )
    inputs = {"project_cost": "initiative", "project_benefit": "initiative"}
    with warehouse.connect() as con:
        load(con, MeasureFiles([str(tmp_path / "*.csv")], inputs))
        rows = con.execute(
            "SELECT metric_id, period_start, value, dimension_value FROM core.measures ORDER BY ALL"
        ).fetchall()
        compute_metrics(con, min_n=1, as_of=datetime(2026, 7, 2, tzinfo=UTC))
        roi = con.execute(
            "SELECT dimension_value, value FROM kpi.metric_values WHERE metric_id = 'project_roi' "
            "AND grain = 'quarter' AND period_start = '2026-04-01' ORDER BY ALL"
        ).fetchall()
    assert rows == [
        ("project_benefit", date(2026, 4, 1), 150000.0, "CRM Upgrade"),
        ("project_cost", date(2026, 1, 1), 100000.0, "CRM Upgrade"),
        ("project_cost", date(2026, 4, 1), 30000.0, "CRM Upgrade"),
    ]
    # Up to the end of Q2: (150,000 - 100,000 - 30,000) / 130,000 = 15.38%, for the portfolio
    # and the initiative alike; counting both Q2 rows read (150 - 150) / 150 = 0%.
    assert [member for member, _ in roi] == ["CRM Upgrade", "all"]
    for _, value in roi:
        assert value == pytest.approx(100 * 20000 / 130000)


def test_an_input_longer_than_a_quarter_is_listed_as_counted_nowhere(warehouse, tmp_path):
    """A fiscal year's budget entered once lies whole in no week, month or quarter: the KPIs
    leave it out, and data quality says so instead of its periods reading "no inputs"."""
    write(
        tmp_path / "finance.csv",
        HEADER + "it_spend,2026-04-01,2027-03-31,1200000,,,,fiscal year\n"
        "it_spend,2026-01-01,2026-03-31,300000,,,,a quarter\n"
        # A month given its next month's first day as its end is still one month.
        "it_spend,2026-06-01,2026-07-01,100000,,,,\n"
        "it_spend,2026-08-01,2026-10-31,100000,,,,across a quarter's end\n",
    )
    with warehouse.connect() as con:
        assert (
            load(con, MeasureFiles([str(tmp_path / "*.csv")], {"it_spend": "all"}))["measures"] == 4
        )
        listed = quality(con)
    spans = "more than one calendar quarter: no week, month or quarter holds it whole"
    assert [(key.rsplit("/", 1)[-1], field, value) for _, key, field, problem, value in listed] == [
        ("finance.csv row 2", "period_end", "2027-03-31"),
        ("finance.csv row 5", "period_end", "2026-10-31"),
    ]
    assert all(spans in problem for *_, problem, _ in listed)
    assert "spans 2026-04-01 to 2027-03-31" in listed[0][3]
