"""FOCUS exports in the shapes real providers and tools write them, built from the FinOps sample.

Each variant is written to tmp_path from ../shared/data/focus/focus-1.0-sample.csv (1,000 line
items, BilledCost total 20.52022672899) or from a few hand-made line items whose KPI values are
worked out by hand in the comments: versions of the column set, CSV dialects, timestamp forms,
cost values, tags, compression, export folders and restated months.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from connectors.focus import FocusFiles
from connectors.http import SourceError
from transforms.kpis import compute_metrics
from transforms.staging import stage
from warehouse.ingest import ingest

SEP, AUG, JUL = date(2024, 9, 1), date(2024, 8, 1), date(2024, 7, 1)
AS_OF = datetime(2024, 10, 15, tzinfo=UTC)


@pytest.fixture
def sample(shared_data) -> list[dict[str, str]]:
    with (shared_data / "focus" / "focus-1.0-sample.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def sample_total(rows: list[dict[str, str]]) -> Decimal:
    return sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))


def write(
    path: Path,
    rows: list[dict[str, str]],
    header: list[str] | None = None,
    *,
    encoding: str = "utf-8",
    newline: str = "\r\n",
    separator: str = ",",
) -> Path:
    """Write line items as CSV (gzipped when the name ends in .gz), in the dialect asked."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=header or list(rows[0]),
        extrasaction="ignore",
        lineterminator=newline,
        delimiter=separator,
    )
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def load(con: duckdb.DuckDBPyConnection, *paths: Path | str, **options) -> SourceError | None:
    """Land and stage as the nightly job does; return the load's error, if any, for asserts."""
    error = None
    try:
        ingest(con, FocusFiles([str(p) for p in paths], **options))
    except SourceError as exc:
        error = exc
    stage(con, "focus", "costs")
    return error


def totals(con: duckdb.DuckDBPyConnection) -> tuple[int, Decimal]:
    return tuple(con.execute("SELECT count(*), sum(BilledCost) FROM core.costs").fetchall()[0])


def problems(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT record_key, field, problem, value FROM scorecard.data_quality "
        "WHERE source = 'focus' ORDER BY record_key, field"
    ).fetchall()


def monthly(
    con: duckdb.DuckDBPyConnection, metric: str, timezone: str = "UTC"
) -> dict[date, float]:
    """The metric's monthly totals, computed in `timezone` (UTC) as of mid-October 2024."""
    compute_metrics(con, timezone=timezone, min_n=1, as_of=AS_OF, grains=("month",))
    rows = con.execute(
        "SELECT period_start, value FROM kpi.metric_values WHERE metric_id = ? "
        "AND grain = 'month' AND dimension = 'all' AND value IS NOT NULL",
        [metric],
    ).fetchall()
    return {period: round(value, 9) for period, value in rows}


def item(sample_row: dict[str, str], cost: str, start: str, **overrides: str) -> dict[str, str]:
    """A real line item with its costs and charge start replaced (both cost columns alike)."""
    return {
        **sample_row,
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ChargePeriodStart": start,
        "Tags": "NULL",
        **overrides,
    }


# --- column sets of other FOCUS versions ---------------------------------------------------


def test_focus_1_2_columns_and_provider_extensions_load_like_1_0(warehouse, tmp_path, sample):
    extra = ["ServiceSubcategory", "BillingAccountType", "InvoiceId", "PricingCurrency"]
    extra += ["PricingCurrencyEffectiveCost", "CapacityReservationId", "SkuPriceDetails"]
    extra += ["x_ServiceCode", "x_Discounts"]
    rows = [
        {
            **r,
            "ServiceSubcategory": "Virtual Machines",
            "InvoiceId": "INV-1",
            "PricingCurrency": "EUR",
            "PricingCurrencyEffectiveCost": "1.5",
            "SkuPriceDetails": '{"CoreCount": 4}',
            "x_ServiceCode": "AmazonEC2",
            "x_Discounts": '{"BundledDiscount": 1}',
        }
        for r in sample
    ]
    path = write(tmp_path / "focus-1.2.csv", rows, list(sample[0]) + extra)
    with warehouse.connect() as con:
        assert load(con, path) is None
        assert totals(con) == (1000, sample_total(sample))
        assert problems(con) == []


def test_focus_1_0_preview_export_loads_without_the_columns_1_0_added(warehouse, tmp_path, sample):
    # 1.0-preview (Microsoft's first FOCUS export) has no ContractedCost, ContractedUnitPrice,
    # ChargeClass, RegionId/RegionName or CommitmentDiscountStatus; it has Region and
    # ChargeSubcategory. Before: refused for the missing ContractedCost.
    added_in_1_0 = {"ContractedCost", "ContractedUnitPrice", "ChargeClass", "RegionId"}
    added_in_1_0 |= {"RegionName", "CommitmentDiscountStatus"}
    header = [c for c in sample[0] if c not in added_in_1_0] + ["Region", "ChargeSubcategory"]
    rows = [{**r, "Region": r["RegionId"], "ChargeSubcategory": "On-Demand"} for r in sample]
    path = write(tmp_path / "focus-1.0-preview.csv", rows, header)
    with warehouse.connect() as con:
        assert load(con, path) is None
        assert totals(con) == (1000, sample_total(sample))
        contracted = con.execute("SELECT count(ContractedCost) FROM core.costs").fetchall()[0][0]
    assert contracted == 0


def test_focus_1_3_service_provider_name_stands_in_for_provider_name(warehouse, tmp_path, sample):
    # 1.3 deprecates ProviderName and PublisherName for ServiceProviderName / HostProviderName;
    # an export that drops the old names was refused before.
    header = [c for c in sample[0] if c not in ("ProviderName", "PublisherName")]
    header += ["ServiceProviderName", "HostProviderName"]
    rows = [
        {**r, "ServiceProviderName": r["ProviderName"], "HostProviderName": r["ProviderName"]}
        for r in sample
    ]
    path = write(tmp_path / "focus-1.3.csv", rows, header)
    with warehouse.connect() as con:
        assert load(con, path) is None
        providers = dict(
            con.execute("SELECT ProviderName, count(*) FROM core.costs GROUP BY 1").fetchall()
        )
    assert providers == dict(Counter(r["ProviderName"] for r in sample))
    assert providers == {"AWS": 942, "Microsoft": 51, "Oracle": 7}


# --- CSV dialects --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "first_column"),
    [
        ("bom.csv", {"encoding": "utf-8-sig"}, "BilledCost"),  # Excel and Azure write a BOM
        ("unix.csv", {"newline": "\n"}, None),
        ("windows.csv", {"newline": "\r\n"}, None),
        ("export.csv.gz", {}, None),
    ],
)
def test_csv_encodings_line_endings_and_gzip_load_alike(
    warehouse, tmp_path, sample, name, options, first_column
):
    header = list(sample[0])
    if first_column:  # the BOM sits on the first name: make that a mandatory one
        header = [first_column] + [c for c in header if c != first_column]
    path = write(tmp_path / name, sample, header, **options)
    with warehouse.connect() as con:
        assert load(con, path) is None
        assert totals(con) == (1000, sample_total(sample))


def test_quoted_fields_keep_their_commas_quotes_and_newlines(warehouse, tmp_path, sample):
    rows = [dict(r) for r in sample]
    rows[0]["ChargeDescription"] = 'Storage, "hot" tier\r\nsecond line'
    rows[1]["ResourceName"] = "web,\napi"
    path = write(tmp_path / "quoted.csv", rows)
    with warehouse.connect() as con:
        assert load(con, path) is None
        assert totals(con) == (1000, sample_total(sample))
        kept = con.execute(
            "SELECT ChargeDescription, ResourceName FROM core.costs "
            "WHERE cost_id LIKE '%:1' OR cost_id LIKE '%:2' ORDER BY cost_id"
        ).fetchall()
    # Line items 1 and 2 are still the first two: the quoted line breaks split no line item.
    assert kept[0][0] == 'Storage, "hot" tier\r\nsecond line'
    assert kept[1] == (rows[1]["ChargeDescription"], "web,\napi")


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "'\\t'")])
def test_a_file_not_separated_by_commas_is_refused_naming_its_separator(
    warehouse, tmp_path, sample, separator, shown
):
    # Before: DuckDB guessed the separator and loaded the file as if it were FOCUS.
    other = write(tmp_path / "spreadsheet.csv", sample, separator=separator)
    good = write(tmp_path / "good.csv", sample[:10])
    with warehouse.connect() as con:
        error = load(con, other, good)
        assert totals(con) == (10, sample_total(sample[:10]))
        listed = problems(con)
    assert f"separated by {shown}" in str(error) and "not a FOCUS export" in str(error)
    assert [(key, problem) for key, _, problem, _ in listed] == [(str(other.resolve()), str(error))]


def test_lines_that_are_not_valid_csv_are_listed_and_the_other_lines_load(
    warehouse, tmp_path, sample
):
    # Before: a bad line among the first ones refused the whole file ("could not detect the
    # CSV dialect"), and one further down stopped the whole load with a raw DuckDB error.
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(sample[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(sample * 25)  # 25,000 line items: past what DuckDB samples
    lines = buffer.getvalue().split("\n")
    lines[3] += ",stray"  # line 4 of the file: line item 3 gains a column
    lines[22_000] = lines[22_000].rsplit(",", 5)[0]  # line 22,001: five columns short
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines))
    after = write(tmp_path / "later.csv", sample[:10])  # sorts after: must still load
    left_out = sample[2]["BilledCost"], sample[(22_000 - 1) % 1000]["BilledCost"]
    with warehouse.connect() as con:
        assert load(con, broken, after) is None
        count, total = totals(con)
        listed = problems(con)
    assert count == 25_000 - 2 + 10
    assert total == 25 * sample_total(sample) - sum(map(Decimal, left_out)) + sample_total(
        sample[:10]
    )
    assert [(key, problem.split(" (")[0]) for key, _, problem, _ in listed] == [
        (f"{broken.resolve()}#line 22001", "not a valid CSV line, left out: MISSING COLUMNS"),
        (f"{broken.resolve()}#line 4", "not a valid CSV line, left out: TOO MANY COLUMNS"),
    ]
    assert listed[1][3] == lines[3][:200]  # the line's own text, to find it


def test_a_line_not_in_utf8_is_listed_and_the_other_lines_load(warehouse, tmp_path, sample):
    # A file saved by a spreadsheet in Windows-1252: before, the whole file was refused.
    rows = [dict(r) for r in sample]
    rows[4]["ChargeDescription"] = "Réseau privé"
    path = write(tmp_path / "saved-by-excel.csv", rows, encoding="cp1252")
    with warehouse.connect() as con:
        assert load(con, path) is None
        assert totals(con) == (999, sample_total(sample) - Decimal(sample[4]["BilledCost"]))
        listed = problems(con)
    assert [(key, problem.split(" (")[0]) for key, _, problem, _ in listed] == [
        (f"{path.resolve()}#line 6", "not a valid CSV line, left out: INVALID ENCODING")
    ]


def test_an_empty_file_is_refused_and_a_header_only_file_loads_nothing(warehouse, tmp_path, sample):
    empty = tmp_path / "part_0_0002.csv"
    empty.write_bytes(b"")
    header_only = tmp_path / "part_0_0003.csv"
    header_only.write_text(",".join(sample[0]) + "\r\n")
    good = write(tmp_path / "part_0_0001.csv", sample[:10])
    with warehouse.connect() as con:
        error = load(con, empty, header_only, good)
        assert totals(con) == (10, sample_total(sample[:10]))
    assert (
        str(error) == f"focus: {empty.resolve()} is empty: a FOCUS export starts with a header line"
    )


def test_a_truncated_download_is_refused_and_the_file_keeps_its_last_good_rows(
    warehouse, tmp_path, sample
):
    path = write(tmp_path / "month.csv.gz", sample * 30)
    with warehouse.connect() as con:
        assert load(con, path) is None
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 9 // 10])  # the next download breaks off
        error = load(con, path)
        assert totals(con) == (30_000, 30 * sample_total(sample))
        listed = problems(con)
    assert f"cannot read {path.resolve()}" in str(error)
    assert listed[0][0] == str(path.resolve()) and "GZIP" in listed[0][2]


# --- values: timestamps, costs, categories --------------------------------------------------


def test_charge_period_start_forms_and_unreadable_dates(warehouse, tmp_path, sample):
    row = sample[0]
    rows = [
        item(row, "1", "2024-09-01T00:00:00Z"),
        item(row, "2", "2024-09-02 00:00:00"),
        item(row, "4", "2024-09-01T08:00:00+09:00"),  # 2024-08-31 23:00 UTC: August
        item(row, "8", "2024-09-03"),
        item(row, "16", ""),
        item(row, "32", "03/09/2024"),
    ]
    path = write(tmp_path / "dates.csv", rows)
    with warehouse.connect() as con:
        assert load(con, path) is None
        starts = con.execute(
            "SELECT BilledCost::INTEGER, ChargePeriodStart FROM core.costs ORDER BY 1"
        ).fetchall()
        listed = problems(con)
        spend = monthly(con, "cloud_spend")
    assert [s for _, s in starts] == [
        datetime(2024, 9, 1, tzinfo=UTC),
        datetime(2024, 9, 2, tzinfo=UTC),
        datetime(2024, 8, 31, 23, tzinfo=UTC),
        datetime(2024, 9, 3, tzinfo=UTC),
        None,
        None,
    ]
    assert [(k.rsplit("#", 1)[1], f) for k, f, _, _ in listed] == [
        ("5", "ChargePeriodStart"),
        ("6", "ChargePeriodStart"),
    ]
    # September 1 + 2 + 8; August 4; the two undated line items count in no period.
    assert spend[SEP] == 11.0 and spend[AUG] == 4.0


def test_unreadable_charge_end_and_billing_period_dates_are_listed(warehouse, tmp_path, sample):
    # A charge end that does not parse decides the day a cost counts on (a daily line west of
    # UTC moves to the evening before), and the billing period groups run folders, so each is
    # listed like an unreadable charge start.
    row = sample[0]
    day = {"ChargePeriodEnd": "2024-09-02 00:00:00"}
    rows = [
        item(row, "1", "2024-09-01 00:00:00", **day),
        item(row, "2", "2024-09-01 00:00:00", ChargePeriodEnd="02/09/2024"),
        item(row, "4", "2024-09-01 00:00:00", **day, BillingPeriodStart="09/01/2024"),
        item(row, "8", "2024-09-01 00:00:00", **day, BillingPeriodEnd=""),
    ]
    path = write(tmp_path / "period_dates.csv", rows)
    with warehouse.connect() as con:
        assert load(con, path) is None
        listed = problems(con)
        spend = monthly(con, "cloud_spend")
        # West of UTC each still counts on its UTC billing day, 1 September, as a day's charge:
        # the unreadable end does not move item 2 to the evening before, in August.
        spend_los_angeles = monthly(con, "cloud_spend", "America/Los_Angeles")
    assert spend_los_angeles == {SEP: 15.0}
    assert [(k.rsplit("#", 1)[1], f, p) for k, f, p, _ in listed] == [
        ("2", "ChargePeriodEnd", "missing or unparseable mandatory value"),
        ("3", "BillingPeriodStart", "missing or unparseable mandatory value"),
        ("4", "BillingPeriodEnd", "missing or unparseable mandatory value"),
    ]
    # The costs still count: 1 + 2 + 4 + 8 in September (UTC).
    assert spend[SEP] == 15.0


def test_negative_costs_credits_corrections_notation_and_unreadable_costs(
    warehouse, tmp_path, sample
):
    row = sample[0]
    rows = [
        item(row, "1.2E+2", "2024-09-05 00:00:00", ChargeCategory="USAGE"),
        item(row, "-2.5e1", "2024-09-06 00:00:00", ChargeCategory="credit"),
        item(row, "-5", "2024-09-07 00:00:00", ChargeCategory="Usage"),  # refund
        # A correction billed in September for an August charge: it belongs to August.
        item(row, "-7", "2024-08-20 00:00:00", ChargeCategory="usage", ChargeClass="CORRECTION"),
        item(row, "25000000000000000000000000.5", "2024-07-01 00:00:00"),  # 2.5e25 fits
        item(row, "1e30", "2024-09-08 00:00:00"),  # beyond DECIMAL(38, 12): unreadable
        item(row, "", "2024-09-09 00:00:00"),
        item(row, " 3.25 ", "2024-09-10 00:00:00", ChargeCategory=" Purchase "),
    ]
    path = write(tmp_path / "values.csv", rows)
    with warehouse.connect() as con:
        assert load(con, path) is None
        kinds = con.execute(
            "SELECT ChargeCategory, ChargeClass, BilledCost FROM core.costs ORDER BY cost_id"
        ).fetchall()
        listed = problems(con)
        spend = monthly(con, "cloud_spend")
    assert kinds[:4] == [
        ("Usage", None, Decimal("120")),
        ("Credit", None, Decimal("-25")),
        ("Usage", None, Decimal("-5")),
        ("Usage", "Correction", Decimal("-7")),
    ]
    assert kinds[4][2] == Decimal("25000000000000000000000000.5")
    assert kinds[7] == ("Purchase", None, Decimal("3.25"))
    assert [(k.rsplit("#", 1)[1], f) for k, f, _, _ in listed] == [
        ("6", "BilledCost"),
        ("6", "EffectiveCost"),
        ("7", "BilledCost"),
        ("7", "EffectiveCost"),
    ]
    # September 120 - 25 - 5 + 3.25 = 93.25; August the correction -7; July 2.5e25.
    assert spend[SEP] == 93.25 and spend[AUG] == -7.0 and spend[JUL] == 2.5e25


# --- tags ---------------------------------------------------------------------------------


def test_tags_as_object_empty_braceless_and_invalid(warehouse, tmp_path, sample):
    row = sample[0]
    rows = [
        item(row, "10", "2024-09-01 00:00:00", Tags='{"cost_centre": "CC-1"}'),
        item(row, "20", "2024-09-01 00:00:00", Tags=""),
        # Azure's cost files write tags without braces; the owner must still be found.
        item(row, "30", "2024-09-01 00:00:00", Tags='"cost_centre": "CC-2","env": "prod"'),
        item(row, "40", "2024-09-01 00:00:00", Tags="cost_centre=CC-3"),
        item(row, "50", "2024-09-01 00:00:00", Tags='["cost_centre"]'),
        item(row, "60", "2024-09-01 00:00:00", Tags="cost_centre=CC-3"),
        item(row, "-5", "2024-09-01 00:00:00", Tags="{}", ChargeCategory="Credit"),
    ]
    path = write(tmp_path / "tags.csv", rows)
    with warehouse.connect() as con:
        assert load(con, path) is None
        owners = con.execute(
            "SELECT BilledCost::INTEGER, cost_centre, Tags::VARCHAR FROM core.costs ORDER BY 1"
        ).fetchall()
        listed = problems(con)
        coverage = monthly(con, "cost_allocation_coverage")
    assert owners == [
        (-5, None, "{}"),
        (10, "CC-1", '{"cost_centre": "CC-1"}'),
        (20, None, None),
        (30, "CC-2", '{"cost_centre": "CC-2","env": "prod"}'),
        (40, None, None),
        (50, None, None),
        (60, None, None),
    ]
    # Each unreadable value once per file, at its first line item, with how many carry it.
    assert [(k.rsplit("#", 1)[1], f, p.split(":")[0], v) for k, f, p, v in listed] == [
        ("4", "Tags", "not a JSON object of tag keys and values", "cost_centre=CC-3"),
        ("5", "Tags", "not a JSON object of tag keys and values", '["cost_centre"]'),
    ]
    assert "2 line item(s)" in listed[0][2]
    # Allocated (10 + 30) of the positive cost 10 + 20 + 30 + 40 + 50 + 60; the credit is left out.
    assert coverage[SEP] == pytest.approx(100 * 40 / 210)


def test_parquet_export_with_typed_columns_and_tags_as_a_map(warehouse, tmp_path, sample):
    # Parquet exports type costs as DOUBLE, periods as TIMESTAMP and Tags as MAP(VARCHAR,
    # VARCHAR); before, the map was cast to text that is not JSON and every tag was lost.
    source = write(tmp_path / "source.csv", sample)
    parquet = tmp_path / "focus.parquet"
    duckdb.execute(
        f"""COPY (SELECT * REPLACE (
            CAST(BilledCost AS DOUBLE) AS BilledCost,
            CAST(EffectiveCost AS DOUBLE) AS EffectiveCost,
            CAST(ChargePeriodStart AS TIMESTAMP) AS ChargePeriodStart,
            CAST(CAST(Tags AS JSON) AS MAP(VARCHAR, VARCHAR)) AS Tags)
        FROM read_csv('{source}', all_varchar = true, nullstr = 'NULL'))
        TO '{parquet}' (FORMAT parquet)"""
    )
    source.unlink()
    tagged = [json.loads(r["Tags"]) for r in sample if r["Tags"] != "NULL"]
    # cost_centre's default keys, compared without case or separators: cost_centre,
    # cost_center, business_unit (the AWS line items carry business_unit, Microsoft CostCenter).
    centre_keys = {"costcentre", "costcenter", "businessunit"}
    with_owner = sum(
        1
        for t in tagged
        if any(re.sub("[^a-z0-9]", "", k.lower()) in centre_keys and v for k, v in t.items())
    )
    with warehouse.connect() as con:
        assert load(con, parquet) is None
        count, with_tags, with_centre, total = con.execute(
            "SELECT count(*), count(Tags), count(cost_centre), sum(BilledCost) FROM core.costs"
        ).fetchall()[0]
    assert (count, with_tags, with_centre) == (1000, len(tagged), with_owner)
    assert with_tags > 0 and with_owner > 0
    assert round(total, 9) == round(sample_total(sample), 9)  # DOUBLE costs, same sum


# --- export folders and restated months -----------------------------------------------------


def month_of(sample_row: dict[str, str], month: int, cost: str) -> dict[str, str]:
    start = f"2024-{month:02d}-01 00:00:00"
    end = f"2024-{month + 1:02d}-01 00:00:00"
    return item(sample_row, cost, start, BillingPeriodStart=start, BillingPeriodEnd=end)


def test_export_folder_with_manifests_months_and_a_restated_month(warehouse, tmp_path, sample):
    # The layout of a provider export copied down: one folder per billing period, parts and a
    # manifest in each. Before: the subfolders were not read (a glob over them refused the
    # manifests).
    row = sample[0]
    exports = tmp_path / "exports" / "focus-daily"
    for month, costs in ((7, ["1", "2"]), (8, ["10", "20"]), (9, ["100", "200"])):
        folder = exports / f"2024{month:02d}01-2024{month:02d}28" / "run-1"
        write(folder / "part_0_0001.csv.gz", [month_of(row, month, costs[0])])
        write(folder / "part_0_0002.csv.gz", [month_of(row, month, costs[1])])
        (folder / "manifest.json").write_text('{"blobs": ["part_0_0001.csv.gz"]}')
    (exports / "_SUCCESS").write_text("")
    with warehouse.connect() as con:
        assert load(con, tmp_path / "exports") is None
        by_month = con.execute(
            "SELECT BillingPeriodStart::DATE, sum(BilledCost) FROM core.costs GROUP BY 1"
        ).fetchall()
        assert dict(by_month) == {JUL: 3, AUG: 30, SEP: 300}
        # August is restated: its part 2 is rewritten, 20 becoming 25.
        august = exports / "20240801-20240828" / "run-1"
        write(august / "part_0_0002.csv.gz", [month_of(row, 8, "25")])
        assert load(con, tmp_path / "exports") is None
        assert monthly(con, "cloud_spend") == {JUL: 3.0, AUG: 35.0, SEP: 300.0}  # 10 + 25
        assert totals(con)[0] == 6 and problems(con) == []


def delivered(folder: Path, at: datetime) -> None:
    """Give a run folder's files the modification time of a delivery at `at`."""
    for path in folder.iterdir():
        os.utime(path, (at.timestamp(), at.timestamp()))


def superseded(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(older folder, newest folder) of each billing period left out for a newer run's."""
    return [
        (key.split("|")[0], value)
        for key, field, problem, value in problems(con)
        if problem.startswith("billing period superseded")
    ]


def test_a_month_repeated_in_run_folders_counts_from_the_run_delivered_last(
    warehouse, tmp_path, sample
):
    # Azure keeps every run of a month-to-date export as <date range>/<run id>/part_*.csv. The
    # run ids sort against delivery order here, so the files' modification times must decide.
    row = sample[0]
    period = tmp_path / "exports" / "20240901-20240930"
    older, newer = period / "f3c1-run", period / "0a7e-run"
    items = [month_of(row, 9, c) for c in ("100", "20", "120", "5", "1")]
    write(older / "part_0_0001.csv", items[:2])
    write(newer / "part_0_0001.csv", items[2:3])
    write(newer / "part_1_0001.csv", items[3:])
    (newer / "manifest.json").write_text("{}")
    delivered(older, datetime(2024, 9, 10, 6, tzinfo=UTC))
    delivered(newer, datetime(2024, 9, 11, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "exports") is None
        # Only the newer run's parts: 120 + 5 + 1, not also the older run's 100 + 20.
        assert totals(con) == (3, Decimal(126))
        assert monthly(con, "cloud_spend") == {SEP: 126.0}
        assert superseded(con) == [(str(older.resolve()), str(newer.resolve()))]
        listed = problems(con)
        assert "(files modified 2024-09-11 06:00:00 UTC, this folder's 2024-09-10" in listed[0][2]
        assert "2 line item(s) for it are left out" in listed[0][2]
        # Loading again (nothing new) changes nothing.
        before = con.execute("SELECT * FROM core.costs ORDER BY cost_id").fetchall()
        assert load(con, tmp_path / "exports") is None
        assert con.execute("SELECT * FROM core.costs ORDER BY cost_id").fetchall() == before
        assert problems(con) == listed


def test_a_newer_run_that_drops_a_line_item_leaves_it_out(warehouse, tmp_path, sample):
    # Runs delivered at the same time: the later folder name counts.
    row = sample[0]
    period = tmp_path / "exports" / "20240901-20240930"
    at = datetime(2024, 9, 10, 6, tzinfo=UTC)
    write(period / "run-1" / "part_0_0001.csv", [month_of(row, 9, "100"), month_of(row, 9, "20")])
    delivered(period / "run-1", at)
    with warehouse.connect() as con:
        assert load(con, tmp_path / "exports") is None
        assert totals(con) == (2, Decimal(120))
        # The next run restates the first line item and no longer has the second.
        write(period / "run-2" / "part_0_0001.csv", [month_of(row, 9, "130")])
        delivered(period / "run-2", at)
        assert load(con, tmp_path / "exports") is None
        assert totals(con) == (1, Decimal(130))
        assert superseded(con) == [
            (str(period.resolve() / "run-1"), str(period.resolve() / "run-2"))
        ]


def test_exports_of_separate_scopes_in_sibling_folders_all_count(warehouse, tmp_path, sample):
    # One export per subscription, and one of another billing account, each in its own folder.
    row = sample[0]
    exports = tmp_path / "exports"
    write(exports / "sub-a" / "part_0_0001.csv", [month_of(row, 9, "100")])
    other_sub = {**month_of(row, 9, "7"), "SubAccountId": "another-subscription"}
    write(exports / "sub-b" / "part_0_0001.csv", [other_sub])
    other_account = {**month_of(row, 9, "3"), "BillingAccountId": "another-account"}
    write(exports / "account-b" / "part_0_0001.csv", [other_account])
    delivered(exports / "sub-a", datetime(2024, 9, 10, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, exports) is None
        assert totals(con) == (3, Decimal(110))  # 100 + 7 + 3
        assert problems(con) == []


def test_folders_slicing_a_month_by_day_all_count(warehouse, tmp_path, sample):
    # OCI writes FOCUS Reports/<year>/<month>/<day>/: each day's reports hold new charges, not
    # the month again, so a later day's folder does not replace an earlier one's.
    row = sample[0]
    reports = tmp_path / "FOCUS Reports" / "2024" / "09"
    days = {"01": ["100", "20"], "02": ["7"], "03": ["3"]}
    for day, costs in days.items():
        start = f"2024-09-{day} 00:00:00"
        write(
            reports / day / "report-00001.csv.gz",
            [item(month_of(row, 9, c), c, start) for c in costs],
        )
        delivered(reports / day, datetime(2024, 9, int(day) + 1, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "FOCUS Reports") is None
        assert totals(con) == (4, Decimal(130))  # 100 + 20 + 7 + 3
        assert problems(con) == []


def test_a_later_run_with_late_usage_before_the_first_charge_still_repeats_the_month(
    warehouse, tmp_path, sample
):
    # Hourly charges: the later run adds usage of 02:00 that reached the provider late, so its
    # first charge is earlier than the older run's (05:00); it still restates the same day.
    row = sample[0]
    period = tmp_path / "exports" / "20240901-20240930"

    def hourly(cost: str, hour: int) -> dict[str, str]:
        return item(month_of(row, 9, cost), cost, f"2024-09-01 {hour:02d}:00:00")

    write(period / "run-a" / "part_0_0001.csv", [hourly("10", h) for h in (5, 6, 7, 8)])
    write(
        period / "run-b" / "part_0_0001.csv",
        [hourly("1", 2)] + [hourly("11", h) for h in (5, 6, 7, 8)],
    )
    delivered(period / "run-a", datetime(2024, 9, 2, 6, tzinfo=UTC))
    delivered(period / "run-b", datetime(2024, 9, 3, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "exports") is None
        assert totals(con) == (5, Decimal(45))  # run B alone: 1 + 4 x 11, not also 4 x 10
        assert superseded(con) == [
            (str(period.resolve() / "run-a"), str(period.resolve() / "run-b"))
        ]


@pytest.mark.parametrize(
    ("later_days", "expected"),
    [
        # The later run corrects 1-2 September: 2 x 11 from it, 3-4 September (2 x 10) from the
        # older run; before, both runs counted (62).
        (("01", "02"), (4, Decimal(42))),
        # It corrects 1 September only: a quarter of the older run, which still counts for the
        # rest (3 x 10); before, 1 September counted twice (51).
        (("01",), (4, Decimal(41))),
    ],
    ids=["half-the-days", "one-day"],
)
def test_a_later_run_that_ends_earlier_replaces_the_days_it_covers_and_no_more(
    warehouse, tmp_path, sample, later_days, expected
):
    row = sample[0]
    period = tmp_path / "exports" / "20240901-20240930"

    def daily(cost: str, day: str) -> dict[str, str]:
        return item(month_of(row, 9, cost), cost, f"2024-09-{day} 00:00:00")

    write(period / "run-a" / "part_0_0001.csv", [daily("10", d) for d in ("01", "02", "03", "04")])
    write(period / "run-b" / "part_0_0001.csv", [daily("11", d) for d in later_days])
    delivered(period / "run-a", datetime(2024, 9, 5, 6, tzinfo=UTC))
    delivered(period / "run-b", datetime(2024, 9, 6, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "exports") is None
        assert totals(con) == expected
        assert superseded(con) == [
            (str(period.resolve() / "run-a"), str(period.resolve() / "run-b"))
        ]
        (listed,) = [p for _, _, p, _ in problems(con)]
    covered = len(later_days)
    assert f"this folder's {covered} line item(s) for it are left out, those charged up to " in (
        listed
    )
    assert f"2024-09-{later_days[-1]} 00:00:00 UTC (the later run ends there; this folder's " in (
        listed
    )
    assert f"{4 - covered} later line item(s) count)" in listed


def test_a_day_folder_with_a_late_line_item_of_an_earlier_day_leaves_that_day_counted(
    warehouse, tmp_path, sample
):
    # OCI's report of 2 September also carries one late line item of 1 September: that is new
    # usage, not a repeat of the ten line items of 1 September's folder.
    row = sample[0]
    reports = tmp_path / "FOCUS Reports" / "2024" / "09"
    first = [item(month_of(row, 9, "10"), "10", "2024-09-01 00:00:00")] * 10
    second = [item(month_of(row, 9, "1"), "1", "2024-09-01 00:00:00")] + [
        item(month_of(row, 9, "2"), "2", "2024-09-02 00:00:00")
    ] * 8
    write(reports / "01" / "report-00001.csv", first)
    write(reports / "02" / "report-00001.csv", second)
    delivered(reports / "01", datetime(2024, 9, 2, 6, tzinfo=UTC))
    delivered(reports / "02", datetime(2024, 9, 3, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "FOCUS Reports") is None
        assert totals(con) == (19, Decimal(117))  # 10 x 10 + 1 + 8 x 2
        assert problems(con) == []


def test_files_landed_before_modification_times_were_kept_land_again_to_record_them(
    warehouse, tmp_path, sample
):
    row = sample[0]
    period = tmp_path / "exports" / "20240901-20240930"
    older, newer = period / "run-b", period / "run-a"
    write(older / "part_0_0001.csv", [month_of(row, 9, "100")])
    write(newer / "part_0_0001.csv", [month_of(row, 9, "120")])
    delivered(older, datetime(2024, 9, 10, 6, tzinfo=UTC))
    delivered(newer, datetime(2024, 9, 11, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "exports") is None
        con.execute("DELETE FROM raw.focus_files")  # as a warehouse from before kept none
        assert load(con, tmp_path / "exports") is None
        kept = con.execute(
            "SELECT source_file, modified_at FROM raw.focus_files ORDER BY 1"
        ).fetchall()
        assert totals(con) == (1, Decimal(120))
    assert [(Path(file).parent.name, at) for file, at in kept] == [
        ("run-a", datetime(2024, 9, 11, 6, tzinfo=UTC)),
        ("run-b", datetime(2024, 9, 10, 6, tzinfo=UTC)),
    ]


def test_a_glob_over_an_export_folder_skips_manifests_but_a_named_file_is_checked(
    warehouse, tmp_path, sample
):
    folder = tmp_path / "run-1"
    write(folder / "part_0_0001.csv", sample[:10])
    (folder / "manifest.json").write_text("{}")
    with warehouse.connect() as con:
        assert load(con, f"{folder}/*") is None
        assert totals(con) == (10, sample_total(sample[:10]))
        error = load(con, folder / "manifest.json")
    assert "not a FOCUS export" in str(error)


def test_a_day_folder_delivered_again_leaves_the_next_days_late_line_item_in(
    warehouse, tmp_path, sample
):
    # OCI day folders: day 02 carries a late line item of Sept 1 (new usage) beside its own 8;
    # day 01's report is then delivered again. Day 02 is no older run of Sept 1: all 19 count.
    row = sample[0]
    reports = tmp_path / "FOCUS Reports" / "2024" / "09"
    write(reports / "01" / "report-00001.csv", [item(row, "10", "2024-09-01 00:00:00")] * 10)
    write(
        reports / "02" / "report-00001.csv",
        [item(row, "1", "2024-09-01 00:00:00")] + [item(row, "2", "2024-09-02 00:00:00")] * 8,
    )
    delivered(reports / "01", datetime(2024, 9, 4, 6, tzinfo=UTC))
    delivered(reports / "02", datetime(2024, 9, 3, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "FOCUS Reports") is None
        assert totals(con) == (19, Decimal(10 * 10 + 1 + 8 * 2))
        assert superseded(con) == []


def test_a_later_run_without_a_charge_start_that_parses_replaces_only_the_undated_items(
    warehouse, tmp_path, sample
):
    # The later run's dates are all unreadable (09/01/2024): it repeats the earlier run's undated
    # line item only, and the data-quality row says so instead of breaking the staging.
    row = sample[0]
    period = tmp_path / "exports" / "20240901-20240930"
    older = [item(row, "10", day) for day in ("09/01/2024", "2024-09-01", "2024-09-02")]
    write(period / "run-a" / "part_0_0001.csv", older)
    write(period / "run-b" / "part_0_0001.csv", [item(row, "11", "09/01/2024")] * 2)
    delivered(period / "run-a", datetime(2024, 9, 5, 6, tzinfo=UTC))
    delivered(period / "run-b", datetime(2024, 9, 6, 6, tzinfo=UTC))
    with warehouse.connect() as con:
        assert load(con, tmp_path / "exports") is None
        assert totals(con) == (4, Decimal(2 * 10 + 2 * 11))
        (superseding,) = [p for p in problems(con) if p[2].startswith("billing period superseded")]
    assert superseding[2].endswith(
        "this folder's 1 line item(s) for it are left out, those without a charge start (the "
        "later run has none that parses; this folder's 2 other line item(s) count)"
    )


def test_tag_keys_in_another_script_are_told_apart(warehouse, tmp_path, sample):
    """A Japanese cost-centre key is not the environment tag's key: only case, spaces and
    punctuation are ignored (every letter outside a-z used to be, so any two such keys met)."""
    from connectors.cost_allocation import TagKeys

    path = write(
        tmp_path / "export.csv",
        [
            item(
                sample[0],
                "10",
                "2024-09-01 00:00:00",
                Tags='{"環境": "本番", "コスト センター": "CC-100"}',
            ),
            item(sample[0], "20", "2024-09-02 00:00:00", Tags='{"環境": "開発"}'),
        ],
    )
    keys = TagKeys.from_env({"FOCUS_TAG_COST_CENTRE": "コスト_センター"})
    with warehouse.connect() as con:
        assert load(con, path, tag_keys=keys) is None
        owners = con.execute(
            "SELECT BilledCost::INTEGER, cost_centre FROM core.costs ORDER BY 1"
        ).fetchall()
    assert owners == [(10, "CC-100"), (20, None)]
