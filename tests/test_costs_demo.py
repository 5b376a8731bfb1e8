"""The cost and measure demos: each provider in one source only, partial allocation, a credit."""

from __future__ import annotations

from datetime import UTC, date, datetime

from connectors.emulators import aws_cost_explorer, azure_cost, focus_demo, measures_demo
from connectors.emulators.catalogue import SERVICES, history_start
from connectors.registry import source_from_env
from transforms.staging import stage
from warehouse.ingest import ingest

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)


def test_cost_demo_sources_meet_on_catalogue_services(warehouse, tmp_path):
    stops = []
    try:
        with warehouse.connect() as con:
            for name, module in (
                ("focus", focus_demo),
                ("aws_ce", aws_cost_explorer),
                ("azure_cost", azure_cost),
            ):
                env, stop = module.start_demo(AS_OF, tmp_path)
                stops.append(stop)
                ingest(con, source_from_env(name, env), "demo")
                stage(con, name, "costs")
            providers = con.execute(
                "SELECT source, list(DISTINCT ProviderName), min(ChargePeriodStart)::DATE,"
                " max(ChargePeriodStart)::DATE, count(*) FILTER (WHERE BilledCost < 0)"
                " FROM core.costs GROUP BY 1 ORDER BY 1"
            ).fetchall()
            coverage = con.execute(
                "SELECT sum(BilledCost) FILTER (WHERE service IS NOT NULL) / sum(BilledCost)"
                " FROM core.costs"
            ).fetchall()[0][0]
            services = {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT service FROM core.costs WHERE service IS NOT NULL"
                ).fetchall()
            }
            currencies = con.execute("SELECT DISTINCT BillingCurrency FROM core.costs").fetchall()
            # A second demo start writes identical files: nothing is loaded twice.
            env, stop = focus_demo.start_demo(AS_OF, tmp_path)
            again = ingest(con, source_from_env("focus", env), "demo-2")
    finally:
        for stop in stops:
            stop()
    first, last = history_start(AS_OF).date(), date(2026, 1, 31)
    assert providers == [
        ("aws_ce", ["AWS"], first, last, 1),
        ("azure_cost", ["Microsoft"], first, last, 1),
        ("focus", ["Google Cloud"], first, last, 1),
    ]
    assert 0.5 < coverage < 1
    assert services <= {s.name for s in SERVICES} and len(services) >= 5
    assert currencies == [("USD",)]
    assert again.streams["costs"].received == 0


def test_measures_demo_covers_every_demo_month_once(warehouse, tmp_path):
    as_of = datetime(2027, 6, 1, tzinfo=UTC)  # history reaches past the templates' last month
    env, stop = measures_demo.start_demo(as_of, tmp_path)
    with warehouse.connect() as con:
        ingest(con, source_from_env("measures", env), "demo")
        for table in ("measures", "survey_responses"):
            stage(con, "measures", table)
        revenue_months = [
            r[0]
            for r in con.execute(
                "SELECT period_start FROM core.measures WHERE metric_id = 'revenue' "
                "AND period_start >= ? ORDER BY 1",
                [history_start(as_of).date().replace(day=1)],
            ).fetchall()
        ]
        csat_months = con.execute(
            "SELECT count(DISTINCT date_trunc('month', responded_at)) FROM core.survey_responses"
            " WHERE survey = 'csat' AND responded_at >= ?",
            [history_start(as_of).replace(day=1)],
        ).fetchall()[0][0]
        problems = con.execute(
            "SELECT count(*) FROM scorecard.data_quality WHERE source = 'measures'"
        ).fetchall()[0][0]
    stop()
    expected = list(measures_demo.months(history_start(as_of).date(), as_of.date()))
    assert revenue_months == expected
    assert csat_months == len(expected)
    assert problems == 0
