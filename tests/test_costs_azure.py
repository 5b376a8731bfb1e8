"""Azure Cost Management over real HTTP: nextLink paging, 429 quota headers, month windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from kpi_fixtures.support import credit_groups_and_coverage, values_by_key

from connectors.azure_cost import CostManagement, azure_retry_after, from_env, month_windows
from connectors.cost_allocation import Currency
from connectors.cost_window import added
from connectors.emulators.azure_cost import (
    DEMO_IDENTITY_HEADER,
    DEMO_SCOPE,
    DEMO_TOKEN,
    IDENTITY_PATH,
    CostManagementApi,
)
from connectors.emulators.server import EmulatorServer, Faults
from connectors.http import PermanentSourceError, RetryPolicy, SourceError
from transforms.kpis import compute_metrics
from transforms.staging import stage
from warehouse.ingest import ingest

AS_OF = datetime(2025, 3, 1, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.2)


def connector(url: str, today: date, token: str = DEMO_TOKEN) -> CostManagement:
    return CostManagement(
        url, DEMO_SCOPE, token, start=date(2023, 12, 7), lookback_days=3, policy=FAST, today=today
    )


def loaded(con) -> dict[tuple[date, str, str | None], Decimal]:
    rows = con.execute(
        "SELECT ChargePeriodStart::DATE, ServiceName, service, BilledCost FROM core.costs "
        "WHERE source = 'azure_cost'"
    ).fetchall()
    return {(d, s, t): v for d, s, t, v in rows}


def test_throttled_load_equals_ground_truth(warehouse):
    api = CostManagementApi(AS_OF, page_size=33)
    with EmulatorServer(api, faults=Faults(throttle_every=5, retry_after=0.02)) as server:
        with warehouse.connect() as con:
            result = ingest(con, connector(server.url, AS_OF.date()), "run-1")
            stage(con, "azure_cost", "costs")
            got = loaded(con)
            cursor = con.execute(
                "SELECT cursor_value FROM meta.cursors WHERE source = 'azure_cost'"
            ).fetchall()
        assert server.faults_injected >= 5
    truth = api.ground_truth()
    assert got == truth
    assert result.streams["costs"].received == len(truth)
    assert cursor == [("2025-02-28",)]
    assert min(truth.values()) < 0


def test_restated_days_replace_earlier_figures(warehouse):
    api = CostManagementApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        ingest(con, connector(server.url, AS_OF.date()), "run-1")
        key = next(k for k in api.costs if k[0] == date(2025, 2, 26) and k[2])
        api.costs[key] = Decimal("0.07")
        second = ingest(con, connector(server.url, AS_OF.date() + timedelta(days=1)), "run-2")
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    # Mar 2 is within February's close: all of February again (four groups a day), plus the new
    # day Mar 1 (which has no data yet).
    assert second.streams["costs"].received == 28 * 4
    assert got == api.ground_truth()


def test_bad_token_is_a_clear_error(warehouse):
    with (
        EmulatorServer(CostManagementApi(AS_OF)) as server,
        warehouse.connect() as con,
        pytest.raises(SourceError, match="HTTP 401.*AuthenticationFailed"),
    ):
        ingest(con, connector(server.url, AS_OF.date(), token="nope"), None)


def test_retry_after_takes_the_largest_quota_header():
    response = requests.Response()
    response.status_code = 429
    prefix = "x-ms-ratelimit-microsoft.costmanagement-"
    response.headers.update(
        {
            f"{prefix}qpu-retry-after": "3",
            f"{prefix}entity-retry-after": "17",
            f"{prefix}tenant-retry-after": "5",
        }
    )
    assert azure_retry_after(response) == 17.0
    plain = requests.Response()
    plain.status_code = 400
    assert azure_retry_after(plain) is None


def test_month_windows_stay_inside_one_month():
    assert list(month_windows(date(2024, 12, 30), date(2025, 2, 3))) == [
        (date(2024, 12, 30), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 2)),
    ]
    with pytest.raises(SourceError, match="AZURE_COST_SCOPE"):
        from_env({"AZURE_ACCESS_TOKEN": DEMO_TOKEN})


def test_a_restatement_replaces_its_days_whole_so_dropped_groups_disappear(warehouse):
    api = CostManagementApi(AS_OF, page_size=5)  # a month spans many pages
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
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    assert dropped not in got
    assert not any(day == date(2025, 2, 26) for day, _, _ in got)
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= first.start}
    assert restated.streams["costs"].removed == 1 + len(emptied)
    assert (again.streams["costs"].stored, again.streams["costs"].removed) == (0, 0)


AZURE_IDENTITY_VARIABLES = (
    "AZURE_ACCESS_TOKEN",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USERNAME",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)


def test_default_azure_credential_fetches_a_fresh_token_each_run(warehouse, monkeypatch):
    # Managed identity (App Service style) answered by the emulator: DefaultAzureCredential finds
    # it from IDENTITY_ENDPOINT/IDENTITY_HEADER alone; no token is configured anywhere.
    for variable in AZURE_IDENTITY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    api = CostManagementApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        monkeypatch.setenv("IDENTITY_ENDPOINT", server.url + IDENTITY_PATH)
        monkeypatch.setenv("IDENTITY_HEADER", DEMO_IDENTITY_HEADER)
        env = {"AZURE_COST_SCOPE": DEMO_SCOPE, "AZURE_COST_ENDPOINT_URL": server.url}
        issued = []
        for run in ("run-1", "run-2"):
            source = from_env(env)
            source.start, source.today = date(2025, 1, 1), AS_OF.date()
            ingest(con, source, run)
            issued.append(api.tokens_issued)
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    # January and February are two queries, one token: the credential caches within a run;
    # the second run's credential asks again rather than reusing a stored token.
    assert issued == [1, 2]
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= date(2025, 1, 1)}


def test_no_token_and_no_identity_names_the_ways_to_sign_in(warehouse, monkeypatch):
    for variable in AZURE_IDENTITY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no `az` or `azd` CLI to fall back on
    with EmulatorServer(CostManagementApi(AS_OF)) as server, warehouse.connect() as con:
        source = from_env({"AZURE_COST_SCOPE": DEMO_SCOPE, "AZURE_COST_ENDPOINT_URL": server.url})
        source.start, source.today = date(2025, 2, 1), AS_OF.date()
        with pytest.raises(
            PermanentSourceError, match="azure_cost: no Azure token.*AZURE_ACCESS_TOKEN"
        ):
            ingest(con, source, None)


def test_an_authority_that_is_not_https_is_a_settings_error(monkeypatch):
    # azure-identity only talks to TLS authorities, loopback included, so a service principal
    # cannot be pointed at a plain-http token emulator; the refusal names the setting.
    for variable in AZURE_IDENTITY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9")
    monkeypatch.setenv("AZURE_TENANT_ID", "tenant")
    monkeypatch.setenv("AZURE_CLIENT_ID", "client")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "very-secret-value")
    with pytest.raises(SourceError, match="azure_cost: .*TLS protected") as error:
        from_env({"AZURE_COST_SCOPE": DEMO_SCOPE})
    assert "very-secret-value" not in str(error.value)


class TwoCurrencyApi(CostManagementApi):
    """A billing account whose profiles bill in USD and EUR: Azure answers one row per currency
    for the same day, service and tag."""

    ROWS = [
        [10.0, 20250210, "Virtual Machines", "service", "web", "USD"],
        [8.0, 20250210, "Virtual Machines", "service", "web", "EUR"],
        [-3.5, 20250211, "Virtual Machines", "service", "web", "USD"],
    ]

    def _rows(self, body, first, last):
        return [r for r in self.ROWS if f"{first:%Y%m%d}" <= str(r[1]) <= f"{last:%Y%m%d}"]


def test_rows_of_one_day_service_and_tag_in_two_currencies_both_land(warehouse):
    with EmulatorServer(TwoCurrencyApi(AS_OF)) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        ingest(con, source, "run-1")
        stage(con, "azure_cost", "costs")
        totals = con.execute(
            "SELECT BillingCurrency, sum(BilledCost), count(*) FROM core.costs "
            "WHERE source = 'azure_cost' GROUP BY ALL ORDER BY 1"
        ).fetchall()
        problems = con.execute(
            "SELECT field, problem, value FROM scorecard.data_quality WHERE source = 'azure_cost'"
        ).fetchall()
    # EUR: the 8.00 row alone; USD: 10.00 on the 10th less the 3.50 credit on the 11th = 6.50.
    assert totals == [("EUR", Decimal("8"), 1), ("USD", Decimal("6.5"), 2)]
    # Sums over core.costs would add euros to dollars: the minority currency is listed.
    assert problems == [
        (
            "Currency",
            "currency differs from the rest of azure_cost (USD): sums would mix currencies",
            "EUR",
        )
    ]


def currency_totals(con) -> list[tuple]:
    return con.execute(
        "SELECT BillingCurrency, sum(BilledCost), sum(EffectiveCost), count(*) FROM core.costs "
        "WHERE source = 'azure_cost' GROUP BY ALL ORDER BY 1"
    ).fetchall()


def test_a_rate_converts_rows_in_another_currency_and_a_new_rate_converts_them_again(warehouse):
    """FOCUS_CURRENCY and FOCUS_EXCHANGE_RATES convert Azure amounts as they convert FOCUS line
    items, in staging, so a changed rate applies to days landed long before."""
    with EmulatorServer(TwoCurrencyApi(AS_OF)) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        source.currency = Currency.from_env(
            {"FOCUS_CURRENCY": "usd", "FOCUS_EXCHANGE_RATES": "EUR=1.1"}
        )
        ingest(con, source, "run-1")
        stage(con, "azure_cost", "costs")
        at_first_rate = currency_totals(con)
        problems = con.execute(
            "SELECT field, problem FROM scorecard.data_quality WHERE source = 'azure_cost'"
        ).fetchall()
        compute_metrics(con, min_n=1, as_of=AS_OF)
        spend = values_by_key(con)[("cloud_spend", "month", date(2025, 2, 1), "all", "all")]
        left_out = con.execute(
            "SELECT problem FROM scorecard.data_quality WHERE table_name = 'metric_facts'"
        ).fetchall()
        # The next night reads only its restatement window (from Feb 25): the rows of Feb 10 and
        # 11 are not read again, yet the new rate converts them.
        later = connector(server.url, AS_OF.date())
        later.currency = Currency.from_env(
            {"FOCUS_CURRENCY": "USD", "FOCUS_EXCHANGE_RATES": "EUR=1.2"}
        )
        reread = ingest(con, later, "run-2")
        stage(con, "azure_cost", "costs")
        at_new_rate = currency_totals(con)
    # 10.00 USD + 8.00 EUR x 1.1 - 3.50 USD, all three rows now in USD.
    assert at_first_rate == [("USD", Decimal("15.3"), Decimal("15.3"), 3)]
    assert problems == []
    assert spend["value"] == pytest.approx(15.3)
    assert left_out == []
    assert reread.streams["costs"].stored == 0
    # 10.00 + 8.00 x 1.2 - 3.50.
    assert at_new_rate == [("USD", Decimal("16.1"), Decimal("16.1"), 3)]


class ReservationApi(CostManagementApi):
    """A one-month reservation bought on 2025-02-03 for 2,800.00 up front: the ActualCost query
    answers it on that day, the AmortizedCost query as 100.00 on each of February's 28 days.
    A 5.00 storage charge on Feb 1 is the same in both."""

    def _rows(self, body: dict, first: date, last: date) -> list[list]:
        amortized = body.get("type") == "AmortizedCost"
        rows, day = [], first
        while day <= last:
            usage = int(day.strftime("%Y%m%d"))
            if day == date(2025, 2, 1):
                rows.append([5.0, usage, "Storage", "", "", "USD"])
            if amortized:
                rows.append([100.0, usage, "Virtual Machines", "", "", "USD"])
            elif day == date(2025, 2, 3):
                rows.append([2800.0, usage, "Virtual Machines", "", "", "USD"])
            day += timedelta(days=1)
        return rows


def test_effective_cost_is_the_amortised_cost_and_billed_cost_the_invoiced_one(warehouse):
    with EmulatorServer(ReservationApi(AS_OF)) as server, warehouse.connect() as con:
        source = CostManagement(
            server.url,
            DEMO_SCOPE,
            DEMO_TOKEN,
            start=date(2025, 2, 1),
            policy=FAST,
            today=date(2025, 3, 1),
        )
        ingest(con, source, "run-1")
        stage(con, "azure_cost", "costs")
        first_week = con.execute(
            "SELECT ServiceName, sum(BilledCost), sum(EffectiveCost) FROM core.costs "
            "WHERE ChargePeriodStart < '2025-02-08' GROUP BY ALL ORDER BY 1"
        ).fetchall()
        month = con.execute("SELECT sum(BilledCost), sum(EffectiveCost) FROM core.costs").fetchall()
        problems = con.execute("SELECT count(*) FROM scorecard.data_quality").fetchall()
    # Feb 1-7: the purchase invoiced on Feb 3; 7 x 100.00 of it amortised.
    assert first_week == [
        ("Storage", Decimal("5"), Decimal("5")),
        ("Virtual Machines", Decimal("2800"), Decimal("700")),
    ]
    # The month adds up the same either way.
    assert month == [(Decimal("2805"), Decimal("2805"))]
    assert problems == [(0,)]


def test_a_record_landed_before_the_amortised_cost_was_read_keeps_its_actual_cost(warehouse):
    with EmulatorServer(CostManagementApi(AS_OF)) as server, warehouse.connect() as con:
        ingest(con, connector(server.url, AS_OF.date()), "run-1")
        # What an earlier release landed: the actual cost alone.
        con.execute(
            "UPDATE raw_versions.azure_cost_costs SET record = json_merge_patch(record, "
            "'{\"amortized_cost\": null}')"
        )
        stage(con, "azure_cost", "costs")
        differing = con.execute(
            "SELECT count(*) FROM core.costs WHERE EffectiveCost IS DISTINCT FROM BilledCost"
        ).fetchall()
        problems = con.execute("SELECT count(*) FROM scorecard.data_quality").fetchall()
    assert differing == [(0,)]
    assert problems == [(0,)]


class FixedDaysApi(CostManagementApi):
    """February at 10.00 a day, which the test restates."""

    days: dict[date, Decimal] = {}

    def _rows(self, body: dict, first: date, last: date) -> list[list]:
        return [
            [float(amount), int(day.strftime("%Y%m%d")), "Virtual Machines", "", "", "USD"]
            for day, amount in sorted(self.days.items())
            if first <= day <= last
        ]


def test_the_month_before_is_read_again_while_azure_closes_it(warehouse):
    """Nightly runs from Mar 1 (lookback 3 days): on Mar 7 Azure restates Feb 20 to 25.00, on
    Mar 12 Feb 21 to 30.00. Up to Mar 10 every run reads all of February again; after that,
    only the trailing days."""
    assert connector("http://127.0.0.1:1", date(2025, 3, 7)).window("2025-03-06") == (
        date(2025, 2, 1),
        date(2025, 3, 7),
    )
    assert connector("http://127.0.0.1:1", date(2025, 3, 12)).window("2025-03-11") == (
        date(2025, 3, 8),
        date(2025, 3, 12),
    )
    api = FixedDaysApi(AS_OF)
    api.days = {date(2025, 2, day): Decimal("10") for day in range(1, 29)}
    with EmulatorServer(api) as server, warehouse.connect() as con:
        for day in range(1, 13):
            if day == 7:
                api.days[date(2025, 2, 20)] = Decimal("25")
            if day == 12:
                api.days[date(2025, 2, 21)] = Decimal("30")
            ingest(con, connector(server.url, date(2025, 3, day)), f"run-{day}")
        stage(con, "azure_cost", "costs")
        february = con.execute("SELECT sum(BilledCost) FROM core.costs").fetchall()
    # 26 x 10.00, Feb 20 at 25.00 (read again on Mar 7) and Feb 21 at 10.00 (Mar 12 is past the
    # month's close)
    assert february == [(Decimal("295"),)]


def test_a_full_refresh_keeps_the_days_older_than_its_window(warehouse):
    """A full refresh on 1 June 2025 reads from 1 May 2024, like a first load then: the days
    loaded before that (from 1 February 2024) are outside every window it read and stay."""
    api = CostManagementApi(AS_OF)
    with EmulatorServer(api) as server, warehouse.connect() as con:
        first = connector(server.url, AS_OF.date())
        first.start = None
        ingest(con, first, "run-1")
        later = connector(server.url, date(2025, 6, 1))
        later.start = None
        refreshed = ingest(con, later, "run-2", full_refresh=True)
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    assert min(day for day, _, _ in got) == date(2024, 2, 1)
    assert refreshed.streams["costs"].removed == 0
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= date(2024, 2, 1)}


def test_a_replayed_night_reads_and_stores_no_day_after_its_as_of(warehouse):
    # The provider already holds every day up to yesterday; SCORECARD_AS_OF replays the nights
    # of the 15th and 16th of last month, one after the other (trailing window: 3 days). Mid-month,
    # whatever the day the test runs: in a month's first 10 days a night also re-reads the month
    # before, from its first day.
    api = CostManagementApi(datetime.now(UTC))
    night = (datetime.now(UTC).date().replace(day=1) - timedelta(days=1)).replace(day=15)
    start = night - timedelta(days=4)

    def replay(con, day: date) -> tuple[date, str]:
        source = from_env(
            {
                "AZURE_COST_ENDPOINT_URL": server.url,
                "AZURE_COST_SCOPE": DEMO_SCOPE,
                "AZURE_ACCESS_TOKEN": DEMO_TOKEN,
                "AZURE_COST_START": start.isoformat(),
                "AZURE_COST_LOOKBACK_DAYS": "3",
                "SCORECARD_AS_OF": f"{day}T02:00:00+00:00",
            }
        )
        ingest(con, source, f"run-{day}")
        latest = con.execute(
            "SELECT max(CAST(record ->> 'date' AS DATE)) FROM raw.azure_cost_costs"
        ).fetchone()[0]
        cursor = con.execute(
            "SELECT cursor_value FROM meta.cursors WHERE source = 'azure_cost'"
        ).fetchone()[0]
        return latest, cursor

    with EmulatorServer(api) as server, warehouse.connect() as con:
        # The night of `night` reads the days up to the one before it, and its cursor stays there.
        assert replay(con, night) == (night - timedelta(days=1), str(night - timedelta(days=1)))
        # The next night adds its one new day, not three weeks of days after its as-of.
        assert replay(con, night + timedelta(days=1)) == (night, str(night))
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    assert got == {k: v for k, v in api.ground_truth().items() if start <= k[0] <= night}


def test_a_scheduled_night_retried_weeks_later_reads_the_costs_up_to_its_tick(
    tmp_path, monkeypatch
):
    """Dagster gives a retry or re-execution of a scheduled run the tick's tag, and the run scores
    that night: its cost window ends there too, not at the day the retry happens to run."""
    import dagster as dg
    from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

    from pipelines.ingest import ingest_asset
    from pipelines.resources import SourcesResource, WarehouseResource
    from warehouse.store import Warehouse

    monkeypatch.delenv("SCORECARD_AS_OF", raising=False)
    api = CostManagementApi(datetime.now(UTC))  # the provider holds every day up to yesterday
    night = (datetime.now(UTC) - timedelta(days=21)).date()
    tick = datetime(night.year, night.month, night.day, 2, tzinfo=UTC)
    warehouse = Warehouse.at(tmp_path / "warehouse.duckdb")
    with EmulatorServer(api) as server:
        for variable, value in {
            "AZURE_COST_ENDPOINT_URL": server.url,
            "AZURE_COST_SCOPE": DEMO_SCOPE,
            "AZURE_ACCESS_TOKEN": DEMO_TOKEN,
            "AZURE_COST_START": str(night - timedelta(days=4)),
        }.items():
            monkeypatch.setenv(variable, value)
        result = dg.materialize(
            [ingest_asset("azure_cost")],
            resources={
                "warehouse": WarehouseResource(published_path=str(warehouse.published_path)),
                "sources": SourcesResource(),
            },
            tags={SCHEDULED_EXECUTION_TIME_TAG: tick.isoformat()},
        )
    assert result.success
    with warehouse.connect() as con:
        days = con.execute(
            "SELECT min(CAST(record ->> 'date' AS DATE)), max(CAST(record ->> 'date' AS DATE)) "
            "FROM raw.azure_cost_costs"
        ).fetchone()
        cursor = con.execute(
            "SELECT cursor_value FROM meta.cursors WHERE source = 'azure_cost'"
        ).fetchall()
    # The four days before the night of the tick, and the cursor on the last of them.
    assert days == (night - timedelta(days=4), night - timedelta(days=1))
    assert cursor == [(str(night - timedelta(days=1)),)]


class BlankTagApi(CostManagementApi):
    """Rows of 2025-02-10 for Virtual Machines: untagged (empty TagKey), tagged service="" and
    tagged web. Untagged and empty-tagged make one key; one row a page, so they come on
    different pages."""

    ACTUAL = [
        [5.0, 20250210, "Virtual Machines", "", "", "USD"],
        [3.0, 20250210, "Virtual Machines", "service", "", "USD"],
        [2.0, 20250210, "Virtual Machines", "service", "web", "USD"],
    ]
    AMORTIZED = [
        [4.25, 20250210, "Virtual Machines", "", "", "USD"],
        [0.5, 20250210, "Virtual Machines", "service", "", "USD"],
        [2.0, 20250210, "Virtual Machines", "service", "web", "USD"],
    ]

    def _rows(self, body, first, last):
        rows = self.AMORTIZED if body.get("type") == "AmortizedCost" else self.ACTUAL
        return [r for r in rows if f"{first:%Y%m%d}" <= str(r[1]) <= f"{last:%Y%m%d}"]


def test_untagged_rows_and_rows_tagged_with_an_empty_value_add_up(warehouse):
    with EmulatorServer(BlankTagApi(AS_OF, page_size=1)) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        ingest(con, source, "run-1")
        again = ingest(con, source, "run-2")
        stage(con, "azure_cost", "costs")
        rows = con.execute(
            "SELECT service, BilledCost, EffectiveCost FROM core.costs ORDER BY ALL"
        ).fetchall()
        problems = con.execute("SELECT count(*) FROM scorecard.data_quality").fetchall()
    # Untagged: 5.00 + 3.00 actual, 4.25 + 0.50 amortised; web alone. 10.00 and 6.75 in all,
    # once: reading the month again replaces its two records.
    assert rows == [
        ("web", Decimal("2"), Decimal("2")),
        (None, Decimal("8"), Decimal("4.75")),
    ]
    assert (again.streams["costs"].stored, again.streams["costs"].removed) == (0, 0)
    assert problems == [(0,)]


@pytest.mark.parametrize(
    ("total", "amount", "expected"),
    [
        ("5.0", "3.0", "8.0"),
        ("0.1", "0.2", "0.3"),  # exact, where floats would give 0.30000000000000004
        ("1.23E-5", "0.1", "0.1000123"),  # plain digits, as staging casts them
        ("NaN", "2", "NaN"),  # not a number: kept, so data quality lists the record
        ("2", "None", "None"),
    ],
)
def test_amounts_of_one_key_add_exactly_and_a_non_number_is_kept(total, amount, expected):
    assert added(total, amount) == expected


class RefundDayApi(CostManagementApi):
    """2025-02-10: a reservation refund of 500.00 beside 10.00 of usage nets the web group's
    ActualCost to -490.00, while its AmortizedCost is 50.00; untagged Storage is 50.00 in both;
    a credit of 20.00 on the db group is negative in both."""

    ACTUAL = [
        [-490.0, 20250210, "Virtual Machines", "service", "web", "USD"],
        [50.0, 20250210, "Storage", "", "", "USD"],
        [-20.0, 20250210, "Virtual Machines", "service", "db", "USD"],
    ]
    AMORTIZED = [
        [50.0, 20250210, "Virtual Machines", "service", "web", "USD"],
        [50.0, 20250210, "Storage", "", "", "USD"],
        [-20.0, 20250210, "Virtual Machines", "service", "db", "USD"],
    ]

    def _rows(self, body, first, last):
        rows = self.AMORTIZED if body.get("type") == "AmortizedCost" else self.ACTUAL
        return [r for r in rows if f"{first:%Y%m%d}" <= str(r[1]) <= f"{last:%Y%m%d}"]


@pytest.mark.parametrize(
    ("cost_column", "coverage"),
    [
        # Positive amortised cost: web 50.00 allocated of web 50.00 + Storage 50.00.
        ("EffectiveCost", (50.0, 50.0, 100.0)),
        # Positive invoiced cost: Storage 50.00 alone, unallocated; web's -490.00 is a refund.
        ("BilledCost", (0.0, 0.0, 50.0)),
    ],
)
def test_a_group_is_a_credit_by_the_sign_of_the_cost_column_summed(
    warehouse, cost_column, coverage
):
    with EmulatorServer(RefundDayApi(AS_OF)) as server, warehouse.connect() as con:
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 1)
        ingest(con, source, "run-1")
        categories, february = credit_groups_and_coverage(
            con, "azure_cost", "Virtual Machines", cost_column, AS_OF
        )
    assert february == coverage
    assert categories == [
        ("db", "Credit", Decimal("-20"), Decimal("-20")),
        ("web", "Usage", Decimal("-490"), Decimal("50")),
    ]


def test_a_token_read_from_a_file_with_its_line_break_still_reads(warehouse):
    """A secret mounted from a file, or a CRLF env file, ends the token in a line break, which
    no header may hold: stripped, as every source's token is, the read goes through."""
    with EmulatorServer(CostManagementApi(AS_OF)) as server, warehouse.connect() as con:
        source = from_env(
            {
                "AZURE_COST_SCOPE": DEMO_SCOPE,
                "AZURE_ACCESS_TOKEN": DEMO_TOKEN + "\r\n",
                "AZURE_COST_ENDPOINT_URL": server.url,
            }
        )
        source.start, source.today = date(2025, 2, 1), AS_OF.date()
        load = ingest(con, source, "run-1")
    assert load.streams["costs"].stored > 0
