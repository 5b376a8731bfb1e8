"""AWS Cost Explorer over real HTTP through boto3: SigV4, NextPageToken paging, 400 throttling,
restatement, estimates read again until final."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from kpi_fixtures.support import credit_groups_and_coverage, values_by_key

from connectors.aws_cost_explorer import (
    CostExplorer,
    aws_retry_after,
    from_env,
    region_of,
)
from connectors.azure_cost import CostManagement
from connectors.cost_allocation import Currency
from connectors.cost_window import history_start
from connectors.emulators.aws_cost_explorer import (
    DEMO_ACCESS_KEY,
    DEMO_SECRET_KEY,
    CostExplorerApi,
)
from connectors.emulators.azure_cost import DEMO_SCOPE, DEMO_TOKEN, CostManagementApi
from connectors.emulators.focus_demo import AWS_LINES
from connectors.emulators.server import EmulatorServer, Faults, Reply
from connectors.emulators.sigv4 import Credentials, sigv4_headers
from connectors.focus import FocusFiles
from connectors.http import RetryPolicy, SourceError
from transforms.kpis import compute_metrics
from transforms.staging import stage
from warehouse.ingest import ingest

AS_OF = datetime(2025, 3, 1, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05)


def connector(url: str, today: date, secret: str = DEMO_SECRET_KEY) -> CostExplorer:
    session = boto3.Session(
        aws_access_key_id=DEMO_ACCESS_KEY, aws_secret_access_key=secret, region_name="us-east-1"
    )
    return CostExplorer(
        url,
        session,
        "us-east-1",
        start=date(2023, 12, 7),
        lookback_days=3,
        policy=FAST,
        today=today,
    )


def loaded(con) -> dict[tuple[date, str, str | None], Decimal]:
    rows = con.execute(
        "SELECT ChargePeriodStart::DATE, ServiceName, service, BilledCost FROM core.costs "
        "WHERE source = 'aws_ce'"
    ).fetchall()
    return {(d, s, t): v for d, s, t, v in rows}


def daily(first: date, last: date, amount: str) -> dict[tuple[date, str, str | None], Decimal]:
    """One Amazon EC2 group tagged `web` on each day of [first, last], each costing `amount`."""
    days = (last - first).days + 1
    return {(first + timedelta(days=n), "Amazon EC2", "web"): Decimal(amount) for n in range(days)}


def test_sigv4_matches_the_published_aws_example():
    # AWS's documented IAM ListUsers example (General Reference, "Signature Version 4").
    headers = sigv4_headers(
        "GET",
        "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"",
        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        "us-east-1",
        "iam",
        datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


def test_throttled_load_equals_ground_truth(warehouse):
    api = CostExplorerApi(AS_OF, page_size=97)
    with EmulatorServer(api, faults=Faults(throttle_every=4, retry_after=0.01)) as server:
        source = connector(server.url, AS_OF.date())
        with warehouse.connect() as con:
            result = ingest(con, source, "run-1")
            stage(con, "aws_ce", "costs")
            got = loaded(con)
            cursor = con.execute(
                "SELECT cursor_value FROM meta.cursors WHERE source = 'aws_ce'"
            ).fetchall()
            untagged = con.execute(
                "SELECT sum(BilledCost) FROM core.costs WHERE service IS NULL"
            ).fetchall()[0][0]
        assert server.faults_injected >= 5
    truth = api.ground_truth()
    assert got == truth
    assert result.streams["costs"].received == len(truth)
    assert result.streams["costs"].pages == -(-len(truth) // 97)
    assert cursor == [("2025-02-28",)]
    assert untagged == sum(v for (_, _, tag), v in truth.items() if tag is None)
    assert min(truth.values()) < 0  # the demo credit arrives as a negative group


def test_restated_days_replace_earlier_figures(warehouse):
    api = CostExplorerApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url, AS_OF.date()), "run-1")
        restated_key = next(k for k in api.costs if k[0] == date(2025, 2, 27) and k[2])
        api.costs[restated_key] += Decimal("1.11")
        api.calls = 0
        ingest(con, connector(server.url, AS_OF.date() + timedelta(days=1)), "run-2")
        stage(con, "aws_ce", "costs")
        got = loaded(con)
        duplicates = con.execute(
            "SELECT count(*) - count(DISTINCT record_key) FROM raw.aws_ce_costs"
        ).fetchall()[0][0]
    assert api.calls == 1  # only the trailing window was asked for
    assert got == api.ground_truth()
    assert duplicates == 0


def test_wrong_secret_is_refused_with_a_clear_error(warehouse):
    with EmulatorServer(CostExplorerApi(AS_OF)) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date(), secret="wrong")
        with pytest.raises(SourceError, match="HTTP 403.*signature"):
            ingest(con, source, None)


def test_throttle_detection_and_configuration():
    throttled = ClientError(
        {
            "Error": {"Code": "com.amazon#LimitExceededException", "Message": "Rate"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "GetCostAndUsage",
    )
    invalid = ClientError(
        {"Error": {"Code": "ValidationException"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        "GetCostAndUsage",
    )
    assert aws_retry_after(throttled) == 0.0
    assert aws_retry_after(invalid) is None
    assert region_of("https://ce.us-east-1.amazonaws.com", "eu-west-1") == "us-east-1"
    assert region_of("http://127.0.0.1:9000", "eu-west-1") == "eu-west-1"
    with pytest.raises(SourceError, match="AWS_SECRET_ACCESS_KEY"):
        from_env({"AWS_ACCESS_KEY_ID": "AKID"})
    with pytest.raises(SourceError, match="plain-http"):
        from_env(
            {
                "AWS_ACCESS_KEY_ID": "a",
                "AWS_SECRET_ACCESS_KEY": "b",
                "AWS_CE_ENDPOINT_URL": "http://ce.example.com",
            }
        )
    assert "b" not in repr(Credentials("a", "b"))


def test_groups_in_another_currency_than_the_warehouse_are_flagged(warehouse, tmp_path):
    export = tmp_path / "eur.csv"
    export.write_text(
        "BilledCost,EffectiveCost,ListCost,ContractedCost,BillingPeriodStart,BillingPeriodEnd,"
        "ChargePeriodStart,ChargePeriodEnd,BillingCurrency,BillingAccountId,ChargeCategory,"
        "ServiceCategory,ServiceName,ProviderName,PublisherName,InvoiceIssuerName\n"
        "1,1,1,1,2025-02-01,2025-03-01,2025-02-01,2025-02-02,EUR,a,Usage,Compute,VM,X,X,X\n"
    )
    api = CostExplorerApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        ingest(con, FocusFiles([str(export)]), None)
        stage(con, "focus", "costs")
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 28)
        ingest(con, source, None)
        result = stage(con, "aws_ce", "costs")
        flagged = con.execute(
            "SELECT DISTINCT field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'aws_ce'"
        ).fetchall()
        compute_metrics(con, min_n=1, as_of=AS_OF)
        february = values_by_key(con)[("cloud_spend", "month", date(2025, 2, 1), "all", "all")]
        left_out = con.execute(
            "SELECT source, record_key, problem FROM scorecard.data_quality "
            "WHERE table_name = 'metric_facts'"
        ).fetchall()
    assert result.quality_issues == len(AWS_LINES)  # one group per cost line on that day
    assert flagged == [
        (
            "Unit",
            "currency differs from the rest of core.costs (EUR): sums would mix currencies",
            "USD",
        )
    ]
    # Cloud spend sums the USD of the AWS groups (more line items) and leaves the EUR line out.
    aws_day = sum(a for (day, _, _), a in api.ground_truth().items() if day == date(2025, 2, 28))
    assert february["value"] == pytest.approx(float(aws_day))
    assert left_out == [
        (
            "focus",
            "EUR",
            "1 cost line item(s) in EUR (BilledCost 1.00, EffectiveCost 1.00) left out of the "
            "cost KPIs, which sum USD: set FOCUS_CURRENCY=USD and a rate for EUR in "
            "FOCUS_EXCHANGE_RATES (e.g. EUR=1.08) to convert them",
        )
    ]


def test_window_settings_name_the_bad_variable():
    base = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "very-secret"}
    with pytest.raises(SourceError, match="aws_ce: AWS_CE_LOOKBACK_DAYS='-2' must be"):
        from_env({**base, "AWS_CE_LOOKBACK_DAYS": "-2"})
    with pytest.raises(SourceError, match="aws_ce: AWS_CE_START='2025-13-01' is not a date"):
        from_env({**base, "AWS_CE_START": "2025-13-01"})
    source = from_env({**base, "AWS_CE_LOOKBACK_DAYS": "2", "AWS_CE_START": "2024-05-01"})
    assert source.window(None)[0] == date(2024, 5, 1)
    # A recent cursor (an older one starts where Cost Explorer's days do: see below).
    latest = datetime.now(UTC).date() - timedelta(days=10)
    assert source.window(latest.isoformat())[0] == latest - timedelta(days=2)
    assert "very-secret" not in repr(source) + repr(source.session) + repr(source.client)


def test_a_result_without_a_day_is_an_error_naming_request_and_field(warehouse):
    class Broken:
        def handle(self, call):
            return Reply(200, {"ResultsByTime": [{"TimePeriod": {}, "Groups": []}]})

    with EmulatorServer(Broken()) as server, warehouse.connect() as con:
        with pytest.raises(
            SourceError,
            match=r"aws_ce: GetCostAndUsage 2023-12-07\.\.2025-03-01: ResultsByTime\[0\] "
            r"field TimePeriod\.Start is None",
        ):
            ingest(con, connector(server.url, AS_OF.date()), None)
        cursors = con.execute("SELECT count(*) FROM meta.cursors").fetchall()[0][0]
    assert cursors == 0


def test_a_restatement_replaces_its_days_whole_so_dropped_groups_disappear(warehouse):
    api = CostExplorerApi(AS_OF, page_size=7)  # small pages: days continue across pages
    with EmulatorServer(api) as server, warehouse.connect() as con:
        first = connector(server.url, AS_OF.date())
        first.start = date(2025, 2, 1)
        ingest(con, first, "run-1")
        dropped = next(k for k in api.costs if k[0] == date(2025, 2, 27) and k[2])
        del api.costs[dropped]
        emptied = [k for k in api.costs if k[0] == date(2025, 2, 26)]
        for key in emptied:
            del api.costs[key]
        later = connector(server.url, AS_OF.date() + timedelta(days=1))
        restated = ingest(con, later, "run-2")
        again = ingest(con, later, "run-3")
        stage(con, "aws_ce", "costs")
        got = loaded(con)
        days = con.execute(
            "SELECT count(DISTINCT record->>'date') FROM raw.aws_ce_costs "
            "WHERE record->>'date' = '2025-02-26'"
        ).fetchall()[0][0]
    assert dropped not in got
    assert days == 0  # a day whose every group went is gone whole
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= first.start}
    # One group of Feb 27 plus every group of Feb 26, and nothing else in the window.
    assert restated.streams["costs"].removed == 1 + len(emptied)
    # Reading the same window again rewrites and removes nothing.
    assert (again.streams["costs"].stored, again.streams["costs"].removed) == (0, 0)


def test_a_named_profile_from_the_standard_chain_reads_the_emulator(
    warehouse, tmp_path, monkeypatch
):
    # No keys in the environment: boto3 finds them in a shared credentials file via AWS_PROFILE.
    shared = tmp_path / "credentials"
    shared.write_text(
        f"[finance]\naws_access_key_id = {DEMO_ACCESS_KEY}\n"
        f"aws_secret_access_key = {DEMO_SECRET_KEY}\n"
    )
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    api = CostExplorerApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        source = from_env(
            {"AWS_CE_ENDPOINT_URL": server.url, "AWS_PROFILE": "finance", "AWS_REGION": "us-east-1"}
        )
        source.start, source.today = date(2025, 2, 1), AS_OF.date()
        ingest(con, source, "run-1")
        stage(con, "aws_ce", "costs")
        got = loaded(con)
    # The emulator checked every signature against the demo secret, so the profile's keys signed.
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= date(2025, 2, 1)}
    assert got


def test_days_stored_as_estimated_are_read_again_until_cost_explorer_calls_them_final(warehouse):
    # One group a day and four groups a page, so every run reads several pages.
    api = CostExplorerApi(AS_OF, page_size=4, estimated_from=date(2024, 10, 1))
    api.costs = daily(date(2024, 10, 1), date(2024, 10, 9), "10.00")

    def run(con, today: date) -> tuple[tuple, str]:
        source = connector(server.url, today)  # trailing window: 3 days
        source.start = date(2024, 10, 1)
        ingest(con, source, f"run-{today}")
        stage(con, "aws_ce", "costs")
        october = con.execute(
            "SELECT sum(BilledCost), count(*) FROM core.costs "
            "WHERE source = 'aws_ce' AND ChargePeriodStart < '2024-11-01'"
        ).fetchone()
        cursor = con.execute(
            "SELECT cursor_value FROM meta.cursors WHERE source = 'aws_ce'"
        ).fetchone()[0]
        return october, cursor

    with EmulatorServer(api) as server, warehouse.connect() as con:
        first = run(con, date(2024, 10, 10))
        # Oct 20: AWS has restated Oct 1-9 and added Oct 10-19, all at 12.00 and still estimated.
        api.costs = daily(date(2024, 10, 1), date(2024, 10, 19), "12.00")
        second = run(con, date(2024, 10, 20))
        # Nov 6: October's bill is final at 15.00 a day; November's days are estimates.
        api.costs = {
            **daily(date(2024, 10, 1), date(2024, 10, 31), "15.00"),
            **daily(date(2024, 11, 1), date(2024, 11, 5), "20.00"),
        }
        api.estimated_from = date(2024, 11, 1)
        third = run(con, date(2024, 11, 6))
        # Nov 7: November's days so far are final too; a second run that day reads as usual.
        api.costs |= daily(date(2024, 11, 1), date(2024, 11, 6), "20.00")
        api.estimated_from = None
        fourth = run(con, date(2024, 11, 7))
        fifth = run(con, date(2024, 11, 7))
        november, raw_rows, duplicates = con.execute(
            "SELECT (SELECT sum(BilledCost) FROM core.costs "
            "        WHERE source = 'aws_ce' AND ChargePeriodStart >= '2024-11-01'), "
            "count(*), count(*) - count(DISTINCT record_key) FROM raw.aws_ce_costs"
        ).fetchone()

    assert first == (
        (Decimal("90.00"), 9),
        '{"latest": "2024-10-09", "estimated_from": "2024-10-01"}',
    )
    # 19 x 12.00: Oct 1-5 lie before the trailing window (Oct 9 - 3 = Oct 6) and are read again;
    # left as they were, October would hold 5 x 10.00 + 14 x 12.00 = 218.00.
    assert second == (
        (Decimal("228.00"), 19),
        '{"latest": "2024-10-19", "estimated_from": "2024-10-01"}',
    )
    # The closed month on its final amounts, 31 x 15.00, once each; only the trailing window
    # (from Oct 16) would leave 5 x 10.00 + 10 x 12.00 + 16 x 15.00 = 410.00.
    assert third == (
        (Decimal("465.00"), 31),
        '{"latest": "2024-11-05", "estimated_from": "2024-11-01"}',
    )
    # With no estimate stored the cursor is the plain day again.
    assert fourth == ((Decimal("465.00"), 31), "2024-11-06")
    assert fifth == fourth
    assert api.periods == [
        (date(2024, 10, 1), date(2024, 10, 10)),  # first load, from AWS_CE_START
        (date(2024, 10, 1), date(2024, 10, 20)),  # from the earliest estimate
        (date(2024, 10, 1), date(2024, 11, 6)),
        (date(2024, 11, 1), date(2024, 11, 7)),  # October final: from November's first estimate
        (date(2024, 11, 3), date(2024, 11, 7)),  # all final: the trailing window, Nov 6 - 3
    ]
    assert november == Decimal("120.00")  # 6 x 20.00
    assert (raw_rows, duplicates) == (31 + 6, 0)


def test_an_estimate_is_read_again_only_as_far_back_as_cost_explorer_keeps_days():
    source = connector("http://127.0.0.1:9", date(2025, 3, 1))  # trailing window: 3 days

    def estimated(day: str) -> str:
        return json.dumps({"latest": "2025-02-28", "estimated_from": day})

    assert source.window("2025-02-28") == (date(2025, 2, 25), date(2025, 3, 1))
    assert source.window(estimated("2025-02-27"))[0] == date(2025, 2, 25)
    assert source.window(estimated("2025-01-01"))[0] == date(2025, 1, 1)
    # 13 months before March 2025 starts February 2024, as far back as a first load reaches.
    assert source.window(estimated("2023-06-01"))[0] == date(2024, 2, 1)
    with pytest.raises(SourceError, match="aws_ce: stored cursor of stream costs is not readable"):
        source.window('{"latest": "2025-02-28"}')


def test_a_cursor_older_than_the_days_cost_explorer_keeps_reads_from_the_oldest_it_keeps():
    # A source paused for over a year keeps its cursor; its trailing window would ask Cost
    # Explorer for days it no longer serves, a request it refuses (ValidationException) on every
    # run until a full refresh. Like a first load, the window starts 13 months back: March 2025
    # reads from February 2024.
    source = connector("http://127.0.0.1:9", date(2025, 3, 1))  # trailing window: 3 days
    assert source.window("2023-06-30") == (date(2024, 2, 1), date(2025, 3, 1))
    stale = json.dumps({"latest": "2023-06-30", "estimated_from": "2023-06-01"})
    assert source.window(stale) == (date(2024, 2, 1), date(2025, 3, 1))
    # The oldest day kept, as the cursor's latest, still gets its trailing window up to it.
    assert source.window("2024-02-03")[0] == date(2024, 2, 1)


class OddAmortizedCost(CostExplorerApi):
    """Cost Explorer answering the EC2 group of 2025-02-10 with another AmortizedCost."""

    amortized = "NaN"

    def _results(self, page, metrics):
        results = super()._results(page, metrics)
        for result in results:
            for group in result["Groups"]:
                if result["TimePeriod"]["Start"] == "2025-02-10" and group["Keys"][0] == (
                    "Amazon EC2"
                ):
                    group["Metrics"]["AmortizedCost"]["Amount"] = self.amortized
        return results


@pytest.mark.parametrize(
    ("amortized", "currency", "problem"),
    [
        ("NaN", {}, "amount is not a number"),
        # 9e25 fits DECIMAL(38, 12); doubled, it needs 27 integer digits.
        (
            "9e25",
            {"FOCUS_CURRENCY": "EUR", "FOCUS_EXCHANGE_RATES": "USD=2"},
            "amount does not fit DECIMAL(38, 12) once converted at 2.0",
        ),
    ],
)
def test_an_amortized_cost_that_cannot_be_summed_is_listed(warehouse, amortized, currency, problem):
    """AmortizedCost is EffectiveCost, the cost KPIs' default column: a group whose amount does
    not parse, or no longer fits once converted, loads empty, and data quality names it instead
    of the spend quietly dropping it."""
    api = OddAmortizedCost(AS_OF)
    api.amortized = amortized
    api.costs = {(date(2025, 2, d), "Amazon EC2", "web"): Decimal("10") for d in range(1, 29)}
    with EmulatorServer(api) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        source.currency = Currency.from_env(currency)
        ingest(con, source, "run-1")
        stage(con, "aws_ce", "costs")
        flagged = con.execute(
            "SELECT record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE source = 'aws_ce'"
        ).fetchall()
        empty = con.execute("SELECT count(*) FROM core.costs WHERE EffectiveCost IS NULL")
        assert empty.fetchall()[0][0] == 1
    assert flagged == [("2025-02-10|Amazon EC2|web", "AmortizedCost", problem, amortized)]


def test_a_rate_converts_every_group_to_the_reporting_currency(warehouse):
    api = CostExplorerApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        source.currency = Currency.from_env(
            {"FOCUS_CURRENCY": "EUR", "FOCUS_EXCHANGE_RATES": "USD=0.9"}
        )
        ingest(con, source, None)
        stage(con, "aws_ce", "costs")
        currencies = con.execute(
            "SELECT DISTINCT BillingCurrency FROM core.costs WHERE source = 'aws_ce'"
        ).fetchall()
        got = loaded(con)
    truth = {k: v for k, v in api.ground_truth().items() if k[0] >= date(2025, 2, 1)}
    assert currencies == [("EUR",)]
    assert got == {k: v * Decimal("0.9") for k, v in truth.items()}


class EuroAzureApi(CostManagementApi):
    """An Azure account billing in EUR: two rows of 2025-02-28."""

    def _rows(self, body, first, last):
        rows = [
            [8.0, 20250228, "Virtual Machines", "service", "web", "EUR"],
            [2.0, 20250228, "Storage", "service", "web", "EUR"],
        ]
        return [r for r in rows if f"{first:%Y%m%d}" <= str(r[1]) <= f"{last:%Y%m%d}"]


def test_adding_a_rate_lists_no_currency_problem_while_sources_restage_one_by_one(warehouse):
    """AWS restages before Azure: judged against Azure's euros still in core.costs, every AWS
    group would be listed as another currency on the night the EUR rate arrives."""
    nights = [{}, {"FOCUS_CURRENCY": "USD", "FOCUS_EXCHANGE_RATES": "EUR=1.1"}]
    problems = []
    with (
        EmulatorServer(CostExplorerApi(AS_OF)) as aws,
        EmulatorServer(EuroAzureApi(AS_OF)) as azure,
        warehouse.connect() as con,
    ):
        for env in nights:
            currency = Currency.from_env(env)
            amazon = connector(aws.url, AS_OF.date())
            amazon.start, amazon.currency = date(2025, 2, 28), currency
            microsoft = CostManagement(
                azure.url,
                DEMO_SCOPE,
                DEMO_TOKEN,
                start=date(2025, 2, 28),
                today=AS_OF.date(),
                currency=currency,
            )
            ingest(con, amazon, None)
            ingest(con, microsoft, None)
            stage(con, "aws_ce", "costs")
            stage(con, "azure_cost", "costs")
            problems.append(
                con.execute(
                    "SELECT source, count(*) FROM scorecard.data_quality "
                    "WHERE field IN ('Unit', 'Currency') GROUP BY ALL ORDER BY 1"
                ).fetchall()
            )
        currencies = con.execute(
            "SELECT source, BillingCurrency, sum(BilledCost) FROM core.costs "
            "WHERE source = 'azure_cost' GROUP BY ALL"
        ).fetchall()
    # Night 1: no rate, so the two sources differ and the Azure rows are named (AWS was staged
    # before Azure had landed any cost). Night 2: everything is in USD, nothing is listed.
    assert problems == [[("azure_cost", 2)], []]
    assert currencies == [("azure_cost", "USD", Decimal("11"))]


def test_a_full_refresh_keeps_the_days_older_than_cost_explorer_serves(warehouse):
    """Loaded on 1 March 2025, the history reaches back to 1 February 2024. A full refresh on
    1 June 2025 reads from 1 May 2024 (13 months back): the days before it are not served any
    more, not deleted, and their costs stay. Inside the days it reads, a group the API no longer
    answers is gone as in any restated window."""
    api = CostExplorerApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        first = connector(server.url, AS_OF.date())
        first.start = None
        ingest(con, first, "run-1")
        dropped = next(k for k in api.costs if k[0] == date(2024, 9, 10) and k[2])
        del api.costs[dropped]
        later = connector(server.url, date(2025, 6, 1))
        later.start = None
        refreshed = ingest(con, later, "run-2", full_refresh=True)
        stage(con, "aws_ce", "costs")
        got = loaded(con)
    assert min(day for day, _, _ in got) == date(2024, 2, 1)
    assert refreshed.streams["costs"].removed == 1
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= date(2024, 2, 1)}


def test_a_service_tag_typed_with_stray_spaces_names_the_service_by_its_words(warehouse):
    """Tag values are typed by people: " web " is the web service, and a tag of spaces alone
    names no service, from AWS and Azure alike."""
    day = date(2025, 2, 28)
    amazon_api, azure_api = CostExplorerApi(AS_OF), CostManagementApi(AS_OF)
    amazon_api.costs = {
        (day, "Amazon EC2", " web "): Decimal("5"),
        (day, "Amazon S3", "  "): Decimal("2"),
    }
    azure_api.costs = {
        (day, "Virtual Machines", "web\t"): Decimal("3"),
        (day, "Storage", "\t"): Decimal("1"),
    }
    with (
        EmulatorServer(amazon_api) as aws,
        EmulatorServer(azure_api) as azure,
        warehouse.connect() as con,
    ):
        amazon = connector(aws.url, AS_OF.date())
        amazon.start = day
        microsoft = CostManagement(azure.url, DEMO_SCOPE, DEMO_TOKEN, start=day, today=AS_OF.date())
        ingest(con, amazon, None)
        ingest(con, microsoft, None)
        stage(con, "aws_ce", "costs")
        stage(con, "azure_cost", "costs")
        rows = con.execute(
            "SELECT source, ServiceName, service, CAST(BilledCost AS INTEGER) FROM core.costs "
            "ORDER BY ALL"
        ).fetchall()
    assert rows == [
        ("aws_ce", "Amazon EC2", "web", 5),
        ("aws_ce", "Amazon S3", None, 2),
        ("azure_cost", "Storage", None, 1),
        ("azure_cost", "Virtual Machines", "web", 3),
    ]


def test_a_replayed_night_reads_and_stores_no_day_after_its_as_of(warehouse):
    # Cost Explorer already holds every day up to yesterday; SCORECARD_AS_OF replays the nights
    # of three weeks ago, one after the other (trailing window: 3 days).
    api = CostExplorerApi(datetime.now(UTC))
    night = (datetime.now(UTC) - timedelta(days=21)).date()
    start = night - timedelta(days=4)

    def replay(con, day: date) -> tuple[date, str]:
        source = from_env(
            {
                "AWS_CE_ENDPOINT_URL": server.url,
                "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_KEY,
                "AWS_REGION": "us-east-1",
                "AWS_CE_START": start.isoformat(),
                "AWS_CE_LOOKBACK_DAYS": "3",
                "SCORECARD_AS_OF": f"{day}T02:00:00+00:00",
            }
        )
        ingest(con, source, f"run-{day}")
        latest = con.execute(
            "SELECT max(CAST(record ->> 'date' AS DATE)) FROM raw.aws_ce_costs"
        ).fetchone()[0]
        cursor = con.execute(
            "SELECT cursor_value FROM meta.cursors WHERE source = 'aws_ce'"
        ).fetchone()[0]
        return latest, cursor

    with EmulatorServer(api) as server, warehouse.connect() as con:
        # The night of `night` asks for the days up to the one before it, and its cursor stays there.
        assert replay(con, night) == (night - timedelta(days=1), str(night - timedelta(days=1)))
        # The next night re-reads its trailing window and adds its one new day.
        assert replay(con, night + timedelta(days=1)) == (night, str(night))
        stage(con, "aws_ce", "costs")
        got = loaded(con)
    assert api.periods[-1] == (night - timedelta(days=4), night + timedelta(days=1))
    assert got == {k: v for k, v in api.ground_truth().items() if start <= k[0] <= night}


def test_a_bad_scorecard_as_of_is_an_error_naming_it():
    with pytest.raises(SourceError, match="SCORECARD_AS_OF"):
        from_env(
            {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "x", "SCORECARD_AS_OF": "x"}
        )


def test_a_replayed_first_load_reaches_back_only_as_far_as_cost_explorer_keeps_days(warehouse):
    # A night of a year ago replayed into an empty warehouse: Cost Explorer keeps 13 months
    # before today (its clock), not before the replayed night, and refuses any earlier day.
    now = datetime.now(UTC)
    night = (now - timedelta(days=365)).date()
    api = CostExplorerApi(now)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        source = from_env(
            {
                "AWS_CE_ENDPOINT_URL": server.url,
                "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_KEY,
                "AWS_REGION": "us-east-1",
                "SCORECARD_AS_OF": f"{night}T02:00:00+00:00",
            }
        )
        ingest(con, source, "run-1")
    assert api.periods == [(history_start(now.date()), night)]


def test_groups_answered_twice_for_one_key_add_up(warehouse):
    """Cost Explorer answers Amazon EC2's untagged group and its group tagged with an empty value
    both as `service$` (one group a page, so on different pages): one key, two amounts."""
    api = CostExplorerApi(AS_OF, page_size=1)
    api.costs = {
        (date(2025, 2, 10), "Amazon EC2", None): Decimal("5"),
        (date(2025, 2, 10), "Amazon EC2", ""): Decimal("3"),
        (date(2025, 2, 10), "Amazon EC2", "web"): Decimal("2"),
        (date(2025, 2, 11), "Amazon EC2", "web"): Decimal("1.5"),
    }
    with EmulatorServer(api) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        ingest(con, source, "run-1")
        again = ingest(con, source, "run-2")
        stage(con, "aws_ce", "costs")
        rows = con.execute(
            "SELECT ChargePeriodStart::DATE, service, BilledCost, EffectiveCost FROM core.costs "
            "ORDER BY ALL"
        ).fetchall()
        problems = con.execute("SELECT count(*) FROM scorecard.data_quality").fetchall()
    # Untagged on Feb 10: 5.00 + 3.00. 11.50 in all, once: reading the days again replaces them.
    assert rows == [
        (date(2025, 2, 10), "web", Decimal("2"), Decimal("2")),
        (date(2025, 2, 10), None, Decimal("8"), Decimal("8")),
        (date(2025, 2, 11), "web", Decimal("1.5"), Decimal("1.5")),
    ]
    assert (again.streams["costs"].stored, again.streams["costs"].removed) == (0, 0)
    assert problems == [(0,)]


class RefundDay(CostExplorerApi):
    """2025-02-10: a reservation refund of 500.00 beside 10.00 of usage nets Amazon EC2's web
    group to an UnblendedCost of -490.00, while its AmortizedCost is 50.00; untagged Amazon S3
    is 50.00 in both; a credit of 20.00 on the db group is negative in both."""

    def _results(self, page, metrics):
        results = super()._results(page, metrics)
        for result in results:
            for group in result["Groups"]:
                if group["Keys"] == ["Amazon EC2", "service$web"]:
                    group["Metrics"]["AmortizedCost"]["Amount"] = "50"
        return results


@pytest.mark.parametrize(
    ("cost_column", "coverage"),
    [
        # Positive amortised cost: web 50.00 allocated of web 50.00 + Amazon S3 50.00.
        ("EffectiveCost", (50.0, 50.0, 100.0)),
        # Positive unblended cost: Amazon S3 50.00 alone, unallocated; web's -490.00 a refund.
        ("BilledCost", (0.0, 0.0, 50.0)),
    ],
)
def test_a_group_is_a_credit_by_the_sign_of_the_cost_column_summed(
    warehouse, cost_column, coverage
):
    api = RefundDay(AS_OF)
    api.costs = {
        (date(2025, 2, 10), "Amazon EC2", "web"): Decimal("-490"),
        (date(2025, 2, 10), "Amazon S3", None): Decimal("50"),
        (date(2025, 2, 10), "Amazon EC2", "db"): Decimal("-20"),
    }
    with EmulatorServer(api) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        ingest(con, source, "run-1")
        categories, february = credit_groups_and_coverage(
            con, "aws_ce", "Amazon EC2", cost_column, AS_OF
        )
    assert february == coverage
    assert categories == [
        ("db", "Credit", Decimal("-20"), Decimal("-20")),
        ("web", "Usage", Decimal("-490"), Decimal("50")),
    ]


def test_keys_read_from_files_with_their_line_breaks_still_sign_and_read(warehouse):
    """Keys mounted from files, or a CRLF env file, end in a line break, which no signed header
    may hold (and the HTTP library's error would quote): stripped, the read goes through."""
    with EmulatorServer(CostExplorerApi(AS_OF)) as server, warehouse.connect() as con:
        source = from_env(
            {
                "AWS_CE_ENDPOINT_URL": server.url,
                "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY + "\n",
                "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_KEY + "\r\n",
                "AWS_SESSION_TOKEN": "session-token\n",
                "AWS_REGION": "us-east-1",
                "AWS_CE_START": "2025-02-01",
            }
        )
        credentials = source.session.get_credentials()
        assert (credentials.access_key, credentials.secret_key, credentials.token) == (
            DEMO_ACCESS_KEY,
            DEMO_SECRET_KEY,
            "session-token",
        )
        source.today = AS_OF.date()
        load = ingest(con, source, "run-1")
    assert load.streams["costs"].stored > 0
