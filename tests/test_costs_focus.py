"""FOCUS files into core.costs: the real sample, validation, currencies, file-level incrementality."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from kpi_fixtures.support import values_by_key

from connectors.focus import MANDATORY_COLUMNS, Currency, FocusFiles, TagKeys, from_env
from connectors.http import SourceError
from transforms.kpis import compute_metrics
from transforms.staging import stage
from warehouse.ingest import ingest

HEADER = [
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BillingCurrency",
    "BillingAccountId",
    "ChargeCategory",
    "ChargeClass",
    "ServiceCategory",
    "ServiceName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "Tags",
    "ExtraVendorColumn",
]


def load(con, source, run_id=None) -> dict[str, int]:
    """Land the files and stage them (staged even when a file is refused, as the job does)."""
    try:
        result = ingest(con, source, run_id)
    finally:
        stage(con, "focus", "costs")
    return {name: stream.received for name, stream in result.streams.items()}


def line(cost: str, day: str = "2024-09-02", currency: str = "USD", **overrides: str) -> dict:
    values = {
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ListCost": cost,
        "ContractedCost": cost,
        "BillingPeriodStart": "2024-09-01 00:00:00",
        "BillingPeriodEnd": "2024-10-01 00:00:00",
        "ChargePeriodStart": f"{day} 00:00:00",
        "ChargePeriodEnd": f"{day} 23:00:00",
        "BillingCurrency": currency,
        "BillingAccountId": "acct-1",
        "ChargeCategory": "usage",
        "ChargeClass": "NULL",
        "ServiceCategory": "compute",
        "ServiceName": "Compute Engine",
        "ProviderName": "Google Cloud",
        "PublisherName": "Google Cloud",
        "InvoiceIssuerName": "Google Cloud",
        "Tags": "NULL",
        "ExtraVendorColumn": "x",
    }
    values.update(overrides)
    return values


def write_csv(path: Path, rows: list[dict], header: list[str] = HEADER) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def costs(con: duckdb.DuckDBPyConnection, where: str = "TRUE") -> list[tuple]:
    return con.execute(
        f"SELECT source_file, BilledCost FROM core.costs WHERE {where} ORDER BY cost_id"
    ).fetchall()


def test_official_sample_loads_with_totals_per_provider(warehouse, shared_data):
    sample = shared_data / "focus" / "focus-1.0-sample.csv"
    expected: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    with sample.open(newline="") as handle:
        for row in csv.DictReader(handle):
            expected[row["ProviderName"]] += Decimal(row["BilledCost"])
            counts[row["ProviderName"]] += 1
    # Figures of the FinOps sample, stated so a change in either side shows.
    assert dict(counts) == {"AWS": 942, "Microsoft": 51, "Oracle": 7}
    assert round(sum(expected.values()), 2) == Decimal("20.52")

    with warehouse.connect() as con:
        assert load(con, from_env({"FOCUS_PATHS": str(sample)}), "run-1") == {"costs": 1000}
        per_provider = con.execute(
            "SELECT ProviderName, count(*), sum(BilledCost) FROM core.costs GROUP BY 1"
        ).fetchall()
        total = con.execute("SELECT round(sum(BilledCost), 2) FROM core.costs").fetchall()[0][0]
        credits = con.execute(
            "SELECT count(*), sum(BilledCost) FROM core.costs WHERE ChargeCategory = 'Credit'"
        ).fetchall()[0]
        null_text = con.execute(
            "SELECT count(*) FROM core.costs WHERE ChargeClass = 'NULL' OR Tags::VARCHAR = 'NULL'"
        ).fetchall()[0][0]
        tagged = con.execute(
            "SELECT count(*) FROM core.costs WHERE cost_centre = '1234'"
        ).fetchall()[0][0]
        ids = con.execute("SELECT count(DISTINCT cost_id) FROM core.costs").fetchall()[0][0]
        logged = con.execute(
            "SELECT rows_loaded FROM meta.loaded_files WHERE source = 'focus'"
        ).fetchall()
    assert {p: (n, v) for p, n, v in per_provider} == {
        p: (counts[p], expected[p]) for p in expected
    }
    assert total == Decimal("20.52")
    assert credits[0] == 1 and credits[1] < 0  # credits stay negative
    assert null_text == 0
    # 36 Microsoft line items carry {"CostCenter": "1234", ...}.
    assert tagged == 36
    assert ids == 1000
    assert logged == [(1000,)]


@pytest.mark.parametrize(
    "name",
    [
        "aws-cur-anonymized-sample.csv",
        "azure-ea-anonymized-sample.csv",
        "oci-cost-report-sample.csv",
    ],
)
def test_native_exports_are_refused_naming_file_and_columns(warehouse, shared_data, name):
    path = shared_data / "focus" / name
    with warehouse.connect() as con:
        with pytest.raises(SourceError) as error:
            load(con, from_env({"FOCUS_PATHS": str(path)}), None)
        assert costs(con) == []
    message = str(error.value)
    assert str(path.resolve()) in message
    assert "BilledCost" in message and "ChargePeriodStart" in message


def test_missing_mandatory_column_names_file_and_column(warehouse, tmp_path):
    header = [c for c in HEADER if c != "EffectiveCost"]
    bad = write_csv(tmp_path / "bad.csv", [line("1.00")], header)
    good = write_csv(tmp_path / "good.csv", [line("2.50")])
    with warehouse.connect() as con:
        with pytest.raises(
            SourceError, match=r"bad\.csv.*missing mandatory column\(s\) EffectiveCost"
        ):
            load(con, from_env({"FOCUS_PATHS": f"{bad},{good}"}), None)
        # The good file still loaded, and the bad one is recorded for the data-quality view.
        assert costs(con) == [(str(good.resolve()), Decimal("2.5"))]
        problems = con.execute(
            "SELECT record_key, problem FROM scorecard.data_quality WHERE source = 'focus'"
        ).fetchall()
    assert problems[0][0] == str(bad.resolve()) and "EffectiveCost" in problems[0][1]


def focus_problems(con, columns: str = "record_key, field, problem") -> list[tuple]:
    """The FOCUS rows of scorecard.data_quality, as `columns`, in their order."""
    return con.execute(
        f"SELECT {columns} FROM scorecard.data_quality WHERE source = 'focus' ORDER BY {columns}"
    ).fetchall()


def september_spend(con) -> tuple[float, list[tuple]]:
    """Cloud spend of September 2024 and the cost lines the KPI step left out."""
    compute_metrics(con, min_n=1, as_of=datetime(2024, 10, 2, tzinfo=UTC))
    spend = values_by_key(con)[("cloud_spend", "month", date(2024, 9, 1), "all", "all")]
    left_out = con.execute(
        "SELECT source, record_key, field, problem FROM scorecard.data_quality "
        "WHERE table_name = 'metric_facts' ORDER BY record_key"
    ).fetchall()
    return spend["value"], left_out


def test_a_file_in_another_currency_lands_and_is_left_out_of_spend_unless_converted(
    warehouse, tmp_path
):
    usd = write_csv(tmp_path / "usd.csv", [line("10.00"), line("2.00")])
    eur = write_csv(tmp_path / "eur.csv", [line("5.00", currency="EUR", EffectiveCost="4.00")])
    with warehouse.connect() as con:
        assert load(con, FocusFiles([str(usd), str(eur)]), None) == {"costs": 3}
        # USD has the most line items: spend sums 10 + 2, the EUR line is named, not added.
        assert september_spend(con) == (
            12.0,
            [
                (
                    "focus",
                    "EUR",
                    "BillingCurrency",
                    "1 cost line item(s) in EUR (BilledCost 5.00, EffectiveCost 4.00) left out "
                    "of the cost KPIs, which sum USD: set FOCUS_CURRENCY=USD and a rate for EUR "
                    "in FOCUS_EXCHANGE_RATES (e.g. EUR=1.08) to convert them",
                )
            ],
        )
        evidence = con.execute(
            "SELECT count(*), sum(EffectiveCost) FROM kpi.cost_evidence "
            "WHERE metric_id = 'cloud_spend' AND grain = 'month' "
            "AND period_start = DATE '2024-09-01' AND dimension = 'all'"
        ).fetchall()[0]
        assert evidence == (2, Decimal("12"))

        converted = Currency("USD", {"EUR": 1.1})
        load(con, FocusFiles([str(usd), str(eur)], currency=converted), None)
        # 4.00 EUR of EffectiveCost at 1.1 is 4.40 USD.
        assert september_spend(con) == (pytest.approx(16.4), [])
        rows = con.execute(
            "SELECT BillingCurrency, BilledCost FROM core.costs ORDER BY BilledCost"
        ).fetchall()
    assert rows == [("USD", Decimal("2")), ("USD", Decimal("5.5")), ("USD", Decimal("10"))]


def test_a_provider_two_cost_sources_deliver_for_the_same_days_is_listed(warehouse, tmp_path):
    aws = write_csv(
        tmp_path / "aws.csv",
        [
            line("10.00", ProviderName="AWS"),
            line("3.00", day="2024-09-03", ProviderName="AWS"),
            line("1.00"),
        ],
    )
    with warehouse.connect() as con:
        load(con, FocusFiles([str(aws)]), None)
        # Cost Explorer delivers AWS as well: 2 September again, and 4 September.
        con.execute(
            "INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, "
            "ProviderName, ServiceCategory, BilledCost, EffectiveCost, BillingCurrency) VALUES "
            "('aws_ce:1', 'aws_ce', '2024-09-02 00:00:00+00', '2024-09-03 00:00:00+00', 'AWS', "
            "'Compute', 10, 10, 'USD'), "
            "('aws_ce:2', 'aws_ce', '2024-09-04 00:00:00+00', '2024-09-05 00:00:00+00', 'AWS', "
            "'Compute', 5, 5, 'USD')"
        )
        spend, problems = september_spend(con)
    # Spend sums every source (10 + 3 + 1 from the file, 10 + 5 from Cost Explorer); the one day
    # both deliver AWS (2 September) is named for each of the two sources. Google's is not shared.
    assert spend == 29.0
    problem = (
        "costs of AWS come from aws_ce and focus on 1 day(s) (2024-09-02 to 2024-09-02): the "
        "cost KPIs count each source, so its spend counts more than once on those days; switch "
        "all but one of them off for AWS"
    )
    assert sorted(problems) == [
        ("aws_ce", "AWS", "ProviderName", problem),
        ("focus", "AWS", "ProviderName", problem),
    ]


def test_a_cost_too_large_once_converted_loads_empty_and_is_listed(warehouse, tmp_path):
    """26 integer digits fit DECIMAL(38, 12); times 1.08 they do not, which must not stop staging."""
    eur = write_csv(
        tmp_path / "eur.csv",
        [line("10.00", currency="EUR"), line("9" * 26, currency="EUR", EffectiveCost="20.00")],
    )
    with warehouse.connect() as con:
        load(con, FocusFiles([str(eur)], currency=Currency("USD", {"EUR": 1.08})), None)
        rows = con.execute(
            "SELECT BilledCost, EffectiveCost, ListCost FROM core.costs ORDER BY cost_id"
        ).fetchall()
        problems = con.execute(
            "SELECT record_key, field, problem FROM scorecard.data_quality "
            "WHERE source = 'focus' ORDER BY field"
        ).fetchall()
    assert rows == [
        (Decimal("10.8"), Decimal("10.8"), Decimal("10.8")),
        (None, Decimal("21.6"), None),
    ]
    listed = f"{eur.resolve()}#2"
    reason = "too large to convert from EUR to the reporting currency (beyond 26 integer digits)"
    assert problems == [
        (listed, field, f"{reason}: loads empty")
        for field in ("BilledCost", "ContractedCost", "ListCost")
    ]


def test_an_implausible_charge_date_loads_empty_and_is_listed(warehouse, tmp_path):
    """0001-01-01 (a default date) and a date years after its billing period add to no period;
    a correction charging the month before its billing period is a real date and counts."""
    path = write_csv(
        tmp_path / "dates.csv",
        [
            line("1.00"),
            line("2.00", day="0001-01-01"),
            line("4.00", day="2031-09-02"),
            line("8.00", day="2024-08-30", ChargeClass="Correction"),
        ],
    )
    with warehouse.connect() as con:
        load(con, FocusFiles([str(path)]), None)
        starts = con.execute(
            "SELECT BilledCost, ChargePeriodStart AT TIME ZONE 'UTC' FROM core.costs "
            "ORDER BY cost_id"
        ).fetchall()
        problems = focus_problems(con, "record_key, field, value")
    assert starts == [
        (Decimal("1"), datetime(2024, 9, 2)),
        (Decimal("2"), None),
        (Decimal("4"), None),
        (Decimal("8"), datetime(2024, 8, 30)),
    ]
    listed = str(path.resolve())
    assert problems == [
        (f"{listed}#2", "ChargePeriodStart", "0001-01-01 00:00:00"),
        (f"{listed}#3", "ChargePeriodStart", "2031-09-02 00:00:00"),
    ]


def test_an_infinite_charge_date_loads_empty_and_is_listed_and_the_rest_is_spent(
    warehouse, tmp_path
):
    """'-infinity' / 'infinity' (a database's open end) are no instant: read as one, a cost
    would count in no period and its charge length could not be taken, which failed the step."""
    path = write_csv(
        tmp_path / "open_ends.csv",
        [
            line("1.00"),
            line("2.00", day="2024-09-03", ChargePeriodEnd="-infinity"),
            line("4.00", ChargePeriodStart="infinity", BillingPeriodEnd=""),
        ],
    )
    with warehouse.connect() as con:
        load(con, FocusFiles([str(path)]), None)
        problems = focus_problems(con)
        spend, _ = september_spend(con)
    listed = str(path.resolve())
    unreadable = "missing or unparseable mandatory value"
    assert problems == [
        (f"{listed}#2", "ChargePeriodEnd", unreadable),
        (f"{listed}#3", "BillingPeriodEnd", unreadable),
        (f"{listed}#3", "ChargePeriodStart", unreadable),
    ]
    # The line without an end counts on its start's day; the one without a start on none.
    assert spend == pytest.approx(1 + 2)


def test_the_configured_currency_is_summed_even_when_most_lines_are_in_another(warehouse, tmp_path):
    """FOCUS_CURRENCY says what spend is in; a file mixing currencies loads whole."""
    mixed = write_csv(
        tmp_path / "mixed.csv",
        [line("1.00"), line("3.00", currency="GBP"), line("-0.50", currency="gbp")],
    )
    with warehouse.connect() as con:
        assert load(con, FocusFiles([str(mixed)], currency=Currency("USD")), None) == {"costs": 3}
        spend, left_out = september_spend(con)
    assert spend == 1.0
    assert [(key, problem.split(" left out")[0]) for _, key, _, problem in left_out] == [
        ("GBP", "2 cost line item(s) in GBP (BilledCost 2.50, EffectiveCost 2.50)")
    ]


def test_same_file_twice_is_skipped_and_changed_file_replaces_rows(warehouse, tmp_path):
    path = write_csv(tmp_path / "month.csv", [line("1.00"), line("2.00")])
    source = FocusFiles([str(tmp_path / "*.csv")])
    with warehouse.connect() as con:
        assert load(con, source, "run-1") == {"costs": 2}
        assert load(con, source, "run-2") == {"costs": 0}
        write_csv(path, [line("1.00"), line("2.25"), line("-0.50", ChargeCategory="credit")])
        assert load(con, source, "run-3") == {"costs": 3}
        rows = con.execute(
            "SELECT count(*), count(DISTINCT cost_id), sum(BilledCost) FROM core.costs"
        ).fetchall()[0]
        logged = con.execute(
            "SELECT rows_loaded, run_id FROM meta.loaded_files WHERE source = 'focus'"
        ).fetchall()
    assert rows == (3, 3, Decimal("2.75"))
    assert logged == [(3, "run-3")]


def test_gzipped_csv_and_parquet_load_alike(warehouse, tmp_path):
    rows = [line("1.25", ServiceName="BigQuery"), line("-0.25", ChargeCategory="CREDIT")]
    gz = write_csv(tmp_path / "export.csv.gz", rows)
    parquet = tmp_path / "export.parquet"
    plain = write_csv(tmp_path / "plain.csv", rows)
    duckdb.execute(
        f"COPY (SELECT * FROM read_csv('{plain}', all_varchar = true)) TO '{parquet}' (FORMAT parquet)"
    )
    with warehouse.connect() as con:
        load(con, FocusFiles([str(gz), str(parquet)]), None)
        loaded = con.execute(
            "SELECT regexp_extract(source_file, '[^/]+$'), ChargeCategory, BilledCost "
            "FROM core.costs ORDER BY 1, 3"
        ).fetchall()
    expected = [("Credit", Decimal("-0.25")), ("Usage", Decimal("1.25"))]
    assert loaded == [("export.csv.gz", *e) for e in expected] + [
        ("export.parquet", *e) for e in expected
    ]


def test_quirks_tags_and_configurable_keys(warehouse, tmp_path):
    tags = json.dumps({"Cost-Center": "CC-100", "Service": "Email", "team": "ops"})
    path = write_csv(
        tmp_path / "quirks.csv",
        [
            line(
                "3.00",
                Tags=tags,
                ChargeClass="correction",
                ServiceCategory="AI AND MACHINE LEARNING",
            ),
            line("4.00", Tags=json.dumps({"team": "web"})),
            line("5.00", Tags="not json"),
            line("oops"),
        ],
    )
    source = FocusFiles([str(path)], tag_keys=TagKeys(application=("team",)))
    with warehouse.connect() as con:
        load(con, source, None)
        rows = con.execute(
            "SELECT BilledCost, cost_centre, service, application, ChargeClass, ServiceCategory,"
            " ChargePeriodStart::VARCHAR, Tags IS NULL FROM core.costs ORDER BY cost_id"
        ).fetchall()
        problems = con.execute(
            "SELECT record_key, field, problem FROM scorecard.data_quality"
            " WHERE source = 'focus' ORDER BY 2"
        ).fetchall()
    assert rows[0] == (
        Decimal("3"),
        "CC-100",
        "Email",
        "ops",
        "Correction",
        "AI and Machine Learning",
        "2024-09-02 00:00:00+00",
        False,
    )
    assert rows[1][1:4] == (None, None, "web")
    assert rows[2][1:4] == (None, None, None) and rows[2][7] is True
    assert rows[3][0] is None
    # The fourth line item of the file, named by file and line; the third's tags are not JSON.
    assert problems == [
        (f"{path.resolve()}#4", "BilledCost", "missing or unparseable mandatory value"),
        (f"{path.resolve()}#4", "EffectiveCost", "missing or unparseable mandatory value"),
        (
            f"{path.resolve()}#3",
            "Tags",
            "not a JSON object of tag keys and values: 1 line item(s) with this value load "
            "unallocated",
        ),
    ]


def test_tags_that_repeat_a_key_are_read_with_its_first_value(warehouse, tmp_path):
    """Valid JSON (an export merging two tag sources), though no map: before, such tags were
    called "not a JSON object" and their cost lost its owner."""
    repeated = '{"Cost-Center": "CC-2", "env": "prod", "env": "dev", "": "x"}'
    path = write_csv(
        tmp_path / "repeated.csv",
        [line("3.00", Tags=repeated), line("1.00", Tags=json.dumps({"team": "web"}))],
    )
    with warehouse.connect() as con:
        load(con, FocusFiles([str(path)]), None)
        rows = con.execute(
            "SELECT BilledCost, cost_centre, Tags FROM core.costs ORDER BY cost_id"
        ).fetchall()
        problems = con.execute(
            "SELECT count(*) FROM scorecard.data_quality WHERE source = 'focus'"
        ).fetchall()[0][0]
        compute_metrics(con, min_n=1, as_of=datetime(2024, 10, 2, tzinfo=UTC))
        coverage = values_by_key(con)[
            ("cost_allocation_coverage", "month", date(2024, 9, 1), "all", "all")
        ]["value"]
    assert rows[0][:2] == (Decimal("3"), "CC-2")
    # The empty key, which no JSON path can name, is left out.
    assert json.loads(rows[0][2]) == {"Cost-Center": "CC-2", "env": "prod"}
    assert problems == 0
    # 3.00 of the 4.00 has an owner (its cost centre); the team tag names none by default.
    assert coverage == pytest.approx(75)


def test_tag_keys_and_rates_from_environment():
    keys = TagKeys.from_env({"FOCUS_TAG_SERVICE": "svc, business-service"})
    assert keys.service == ("svc", "business-service")
    assert keys.role_of("Business_Service") == "service"
    assert keys.role_of("CostCentre") == "cost_centre"
    assert Currency.from_env({"FOCUS_CURRENCY": "usd", "FOCUS_EXCHANGE_RATES": "EUR=1.1"}) == (
        Currency("USD", {"EUR": 1.1})
    )
    with pytest.raises(SourceError, match="FOCUS_CURRENCY"):
        Currency.from_env({"FOCUS_EXCHANGE_RATES": "EUR=1.1"})
    # A negative rate would turn every EUR charge into a credit, 0 erase them, NaN or inf load
    # them empty: each is refused naming the variable and the entry.
    for rate in ("-1.08", "0", "nan", "inf"):
        with pytest.raises(SourceError, match=f"FOCUS_EXCHANGE_RATES entry 'EUR={rate}'"):
            Currency.from_env({"FOCUS_CURRENCY": "USD", "FOCUS_EXCHANGE_RATES": f"EUR={rate}"})
    # The reporting currency in a shared rate table: 1 is dropped, any other rate refused.
    assert Currency.from_env(
        {"FOCUS_CURRENCY": "USD", "FOCUS_EXCHANGE_RATES": "usd=1,EUR=1.1"}
    ) == Currency("USD", {"EUR": 1.1})
    with pytest.raises(SourceError, match="USD is FOCUS_CURRENCY, so its rate can only be 1"):
        Currency.from_env({"FOCUS_CURRENCY": "usd", "FOCUS_EXCHANGE_RATES": "USD=1.1"})
    with pytest.raises(SourceError, match="FOCUS_PATHS"):
        from_env({})


def test_pattern_matching_nothing_is_an_error(warehouse, tmp_path):
    with warehouse.connect() as con, pytest.raises(SourceError, match="matched no files"):
        load(con, FocusFiles([str(tmp_path / "none-*.csv")]), None)


def test_every_mandatory_column_is_checked(warehouse, tmp_path):
    for column in MANDATORY_COLUMNS:
        folder = tmp_path / column
        folder.mkdir()
        path = write_csv(folder / "f.csv", [line("1")], [c for c in HEADER if c != column])
        with warehouse.connect() as con, pytest.raises(SourceError, match=column):
            load(con, FocusFiles([str(path)]), None)


def test_full_refresh_reloads_unchanged_files_without_duplicates(warehouse, tmp_path):
    write_csv(tmp_path / "month.csv", [line("1.00"), line("2.00")])
    source = FocusFiles([str(tmp_path / "*.csv")])
    with warehouse.connect() as con:
        assert ingest(con, source).received == 2
        assert ingest(con, source).received == 0
        assert ingest(con, source, full_refresh=True).received == 2
        stage(con, "focus", "costs")
        rows = con.execute("SELECT count(*), sum(BilledCost) FROM core.costs").fetchall()[0]
    assert rows == (2, Decimal("3.00"))


def test_reloading_a_file_keeps_the_problems_of_a_file_whose_name_extends_it(warehouse, tmp_path):
    plain = write_csv(tmp_path / "month.csv", [line("1.00")])
    gzipped = write_csv(tmp_path / "month.csv.gz", [line("oops")])
    with warehouse.connect() as con:
        load(con, FocusFiles([str(plain), str(gzipped)]), None)
        write_csv(plain, [line("2.00")])
        load(con, FocusFiles([str(plain)]), None)
        problems = con.execute(
            "SELECT record_key, field FROM scorecard.data_quality WHERE source = 'focus' "
            "ORDER BY field"
        ).fetchall()
    assert problems == [
        (f"{gzipped.resolve()}#1", "BilledCost"),
        (f"{gzipped.resolve()}#1", "EffectiveCost"),
    ]


def test_a_refused_file_removed_from_the_export_folder_is_no_longer_listed(
    warehouse, tmp_path, shared_data
):
    # A native CUR export copied into the FOCUS folder by mistake is refused and listed; once
    # it is deleted nothing of it is read or counted, so listing it "until it loads" would list
    # it for ever. A file refused after it loaded keeps its problem: its last good rows count.
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(folder / "month.csv", [line("1.00")])
    native = folder / "cur.csv"
    native.write_bytes((shared_data / "focus" / "aws-cur-anonymized-sample.csv").read_bytes())
    restated = write_csv(tmp_path / "restated.csv", [line("2.00", BillingAccountId="acct-2")])
    source = FocusFiles([str(folder), str(restated)])
    with warehouse.connect() as con:
        with pytest.raises(SourceError, match="cur.csv"):
            load(con, source, "run-1")
        restated.write_text("BilledCost\n")  # re-delivered broken: refused, its rows count
        native.unlink()
        with pytest.raises(SourceError, match="restated.csv"):
            load(con, source, "run-2")
        listed = con.execute(
            "SELECT record_key FROM scorecard.data_quality WHERE source = 'focus'"
        ).fetchall()
        total = con.execute("SELECT sum(BilledCost) FROM core.costs").fetchall()[0][0]
    assert listed == [(str(restated.resolve()),)]
    assert total == Decimal("3.00")  # 1.00 + the restated file's last good 2.00


def test_a_file_listed_as_loaded_without_raw_rows_lands_again(warehouse, tmp_path):
    # A warehouse from before FOCUS landed in raw.* lists its files in meta.loaded_files but
    # holds no raw.focus_costs rows: skipping them would let staging empty core.costs.
    write_csv(tmp_path / "month.csv", [line("1.00"), line("2.00")])
    source = FocusFiles([str(tmp_path / "*.csv")])
    with warehouse.connect() as con:
        assert load(con, source, "run-1") == {"costs": 2}
        con.execute("DELETE FROM raw.focus_costs")
        assert load(con, source, "run-2") == {"costs": 2}
        rows = con.execute("SELECT count(*), sum(BilledCost) FROM core.costs").fetchall()[0]
    assert rows == (2, Decimal("3.00"))  # 1.00 + 2.00, once each


def test_a_tag_value_with_stray_spaces_names_its_owner_by_its_words_in_staging(warehouse, tmp_path):
    """A tag typed "Email " is the Email service the ITSM sources name; one of spaces alone, or a
    tab, names no owner in core.costs, as allocation coverage already reads it."""
    export = write_csv(
        tmp_path / "september.csv",
        [
            line("10", Tags=json.dumps({"service": " Email  ", "Owner": "  "})),
            line("20", Tags=json.dumps({"service": "Email", "CostCenter": "\t"})),
            line("30", Tags=json.dumps({"service": "Payroll\n  EU", "CostCenter": " 1234 "})),
        ],
    )
    with warehouse.connect() as con:
        ingest(con, FocusFiles([str(export)]), "run-1")
        stage(con, "focus", "costs")
        rows = con.execute(
            "SELECT CAST(BilledCost AS INTEGER), service, cost_centre FROM core.costs ORDER BY 1"
        ).fetchall()
    assert rows == [(10, "Email", None), (20, "Email", None), (30, "Payroll EU", "1234")]


def test_an_owner_tag_with_a_blank_value_names_no_owner(warehouse, tmp_path):
    """Real exports carry tags such as {"owner": ""}; staging already leaves cost_centre empty
    for them, and allocation coverage must not count them as allocated either."""
    export = write_csv(
        tmp_path / "september.csv",
        [
            line("100", Tags=json.dumps({"owner": ""})),
            line("50", Tags=json.dumps({"CostCenter": "1234"})),
            line("-20", ChargeCategory="Credit"),
            line("30"),
            line("40", Tags=json.dumps({"Owner": "  "})),
        ],
    )
    with warehouse.connect() as con:
        ingest(con, FocusFiles([str(export)]), "run-1")
        stage(con, "focus", "costs")
        compute_metrics(con, min_n=1, as_of=datetime(2024, 10, 2, tzinfo=UTC))
        coverage = values_by_key(con)[
            ("cost_allocation_coverage", "month", date(2024, 9, 1), "all", "all")
        ]
    # Of the 220 charged (the credit left out), only the 50 with a cost centre is allocated.
    assert (coverage["numerator"], coverage["denominator"]) == (50.0, 220.0)
    assert coverage["value"] == pytest.approx(100 * 50 / 220)


def test_a_file_renamed_or_moved_within_the_paths_counts_once(warehouse, tmp_path):
    """A file whose name changed (a rename in its folder, a move to another folder the paths
    read) holds the same line items: they move with it rather than count under both names."""
    folder = tmp_path / "export"
    (folder / "2024-09").mkdir(parents=True)
    first = write_csv(folder / "2024-09" / "part-1.csv", [line("1.00"), line("2.00")])
    second = write_csv(folder / "2024-09" / "part-2.csv", [line("4.00", day="2024-09-03")])
    source = FocusFiles([str(folder)])
    renamed = folder / "2024-09" / "costs-part-1.csv"
    moved = folder / "archive" / "part-2.csv"
    with warehouse.connect() as con:
        load(con, source, "run-1")
        first.rename(renamed)
        moved.parent.mkdir()
        second.rename(moved)
        assert load(con, source, "run-2") == {"costs": 3}
        got = con.execute(
            "SELECT source_file, sum(BilledCost) FROM core.costs GROUP BY ALL ORDER BY 1"
        ).fetchall()
        files = con.execute("SELECT source_file FROM raw.focus_files ORDER BY 1").fetchall()
        held = con.execute(
            "SELECT path, rows_loaded FROM meta.loaded_files WHERE source = 'focus' ORDER BY 1"
        ).fetchall()
    assert got == [(str(renamed), Decimal("3")), (str(moved), Decimal("4"))]
    assert files == [(str(renamed),), (str(moved),)]
    assert held == [(str(renamed), 2), (str(moved), 1)]


def test_an_export_compressed_in_place_counts_once(warehouse, tmp_path):
    """`gzip export.csv` replaces the file by export.csv.gz with the same modification time: the
    compressed file holds the same line items, which count once, under its name."""
    folder = tmp_path / "export"
    folder.mkdir()
    plain = write_csv(folder / "focus-2024-09.csv", [line("1.00"), line("2.00")])
    source = FocusFiles([str(folder)])
    with warehouse.connect() as con:
        load(con, source, "run-1")
        packed = folder / "focus-2024-09.csv.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes()))
        os.utime(packed, ns=(plain.stat().st_atime_ns, plain.stat().st_mtime_ns))
        plain.unlink()
        load(con, source, "run-2")
        got = con.execute(
            "SELECT source_file, count(*), sum(BilledCost) FROM core.costs GROUP BY ALL"
        ).fetchall()
    assert got == [(str(packed), 2, Decimal("3"))]


def test_a_second_copy_of_an_export_counts_once_and_is_reported(warehouse, tmp_path):
    """A re-download saved beside the export ("part-1 (1).csv") holds the same line items: they
    count once, under the file loaded first, and the copy is reported until one of the two goes;
    then the other counts in its place."""
    folder = tmp_path / "export" / "2024-09"
    folder.mkdir(parents=True)
    original = write_csv(folder / "part-1.csv", [line("1.00"), line("2.00")])
    source = FocusFiles([str(tmp_path / "export")])
    copy = folder / "part-1 (1).csv"

    def by_file(con) -> list[tuple]:
        return con.execute(
            "SELECT source_file, sum(BilledCost) FROM core.costs GROUP BY ALL ORDER BY 1"
        ).fetchall()

    with warehouse.connect() as con:
        load(con, source, "run-1")
        copy.write_bytes(original.read_bytes())
        with pytest.raises(SourceError) as refused:
            ingest(con, source, "run-2")
        stage(con, "focus", "costs")
        with_copy = by_file(con)
        reported = con.execute(
            "SELECT record_key, problem FROM scorecard.data_quality WHERE source = 'focus'"
        ).fetchall()
        original.unlink()
        load(con, source, "run-3")
        after_removal = by_file(con)
    assert f"{copy} holds the same content as {original}" in str(refused.value)
    assert with_copy == [(str(original), Decimal("3"))]
    assert [key for key, problem in reported if "same content" in problem] == [str(copy)]
    assert after_removal == [(str(copy), Decimal("3"))]


def test_a_part_an_overwritten_export_no_longer_has_leaves_and_an_archived_file_stays(
    warehouse, tmp_path
):
    """An export overwritten in place (AWS Data Exports with overwrite, synced with deletions)
    restates September in fewer parts: part 2 is deleted and part 1 now holds September 3 too.
    Part 2's line item is gone. A daily file moved out of an inbox folder keeps its costs: the
    next day's file holds another day."""
    period = tmp_path / "export" / "BILLING_PERIOD=2024-09"
    period.mkdir(parents=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    part_1 = write_csv(
        period / "export-00001.csv",
        [line("1.00", day="2024-09-01"), line("2.00", day="2024-09-02")],
    )
    part_2 = write_csv(period / "export-00002.csv", [line("4.00", day="2024-09-03")])
    day_1 = write_csv(inbox / "day-1.csv", [line("10.00", day="2024-09-01", BillingAccountId="b")])
    source = FocusFiles([str(period.parent), str(inbox)])

    def total(con) -> Decimal:
        return con.execute("SELECT sum(BilledCost) FROM core.costs").fetchall()[0][0]

    with warehouse.connect() as con:
        load(con, source, "run-1")
        first = total(con)
        day_1.rename(tmp_path / "day-1.csv")  # archived
        write_csv(inbox / "day-2.csv", [line("20.00", day="2024-09-02", BillingAccountId="b")])
        rows = [line("1.00", day="2024-09-01"), line("2.00", day="2024-09-02")]
        write_csv(part_1, [*rows, line("3.50", day="2024-09-03")])
        load(con, source, "run-2")
        both_parts = total(con)  # part 2 is still there: the sync has not deleted it yet
        part_2.unlink()
        load(con, source, "run-3")
        restated = total(con)
        load(con, source, "run-4")
        again = total(con)
    assert first == Decimal("17")
    assert both_parts == Decimal("40.5")
    assert restated == again == Decimal("36.5")  # 1 + 2 + 3.50 + 10 + 20


def test_a_blank_tag_beside_the_same_key_in_another_case_leaves_the_other_to_name_the_owner(
    warehouse, tmp_path
):
    """AWS tag keys are case-sensitive, so a resource can carry both "Service": "" and
    "service": "web"; both read as the service key, and the blank one names no service, so
    "web" does (as allocation coverage, which skips blank values, already counts it)."""
    export = write_csv(
        tmp_path / "september.csv",
        [
            line("10", Tags=json.dumps({"Service": "", "service": "web"})),
            line("20", Tags=json.dumps({"CostCenter": " ", "cost_center": "1234"})),
        ],
    )
    with warehouse.connect() as con:
        ingest(con, FocusFiles([str(export)]), "run-1")
        stage(con, "focus", "costs")
        rows = con.execute(
            "SELECT CAST(BilledCost AS INTEGER), service, cost_centre FROM core.costs ORDER BY 1"
        ).fetchall()
    assert rows == [(10, "web", None), (20, None, "1234")]


def test_an_export_kept_beside_its_gzipped_twin_counts_once(warehouse, tmp_path):
    """`gzip -k` leaves the export and its .gz in one folder: the same line items, counted once
    and the twin reported, as a byte-identical copy is."""
    import gzip

    folder = tmp_path / "export" / "2024-09"
    folder.mkdir(parents=True)
    original = write_csv(folder / "part-1.csv", [line("1.00"), line("2.00")])
    twin = folder / "part-1.csv.gz"
    twin.write_bytes(gzip.compress(original.read_bytes()))
    with warehouse.connect() as con:
        with pytest.raises(SourceError) as refused:
            ingest(con, FocusFiles([str(tmp_path / "export")]), "run-1")
        stage(con, "focus", "costs")
        total = con.execute("SELECT count(*), sum(BilledCost) FROM core.costs").fetchall()
    assert total == [(2, Decimal("3"))]
    assert f"{twin} holds the same content as {original}" in str(refused.value)
