"""The rules behind the core tables' asset checks find exactly the records that break them."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

from pipelines.checks import core_table_checks
from pipelines.core import core_key
from pipelines.resources import WarehouseResource
from transforms.staging import CORE_TABLES
from warehouse.integrity import RULES, null_keys, stale_sources, times_out_of_order


def checked(warehouse, table: str, tags: dict[str, str] | None = None) -> dict:
    """The check results of core.<table> in a run (with `tags`) over the warehouse as it is."""

    @dg.asset(key=core_key(table))
    def staged() -> None:
        """The core table, already in the warehouse."""

    resource = WarehouseResource(
        published_path=str(warehouse.published_path), working_path=str(warehouse.working_path)
    )
    result = dg.materialize(
        [staged, core_table_checks(table)], resources={"warehouse": resource}, tags=tags
    )
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_every_core_table_has_rules():
    assert set(RULES) == set(CORE_TABLES)


def test_times_that_run_backwards_and_stale_sources_are_found(warehouse):
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, "
            "closed_at, updated_at) VALUES "
            # fine: resolved 2 h after opening
            "('a', 'servicenow', 'A', '2026-01-05 08:00+00', '2026-01-05 10:00+00', NULL, "
            " '2026-01-09 00:00+00'), "
            # resolved an hour before it was opened, closed fine
            "('b', 'servicenow', 'B', '2026-01-05 08:00+00', '2026-01-05 07:00+00', "
            " '2026-01-06 00:00+00', '2026-01-09 12:00+00'), "
            # jira last updated 1 Jan: 9 days before the as-of below, more than 3 allowed
            "('c', 'jira', 'C', '2026-01-01 08:00+00', NULL, NULL, '2026-01-01 09:00+00')"
        )
        assert times_out_of_order(con, "incidents") == {
            "resolved_at >= opened_at": 1,
            "closed_at >= opened_at": 0,
        }
        assert null_keys(con, "incidents") == 0
        sources = stale_sources(con, "incidents", datetime(2026, 1, 10, tzinfo=UTC))
    # servicenow's newest is 9 Jan 12:00, 12 h before the as-of: fresh.
    assert {source: stale for source, (_, stale) in sources.items()} == {
        "servicenow": False,
        "jira": True,
    }


def test_a_quiet_weekend_does_not_age_changes_and_tickets(warehouse):
    """Monday 30 Nov 2026, 02:00 in Auckland: servicenow's last change was on Thursday at 16:00
    local, 3 days and 10 hours ago but 1 day and 10 hours of weekdays; jira's on the Friday of
    the week before, 5 days and 10 hours of weekdays ago."""
    monday = datetime(2026, 11, 29, 13, tzinfo=UTC)
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.changes (change_id, source, number, updated_at) VALUES "
            "('s', 'servicenow', 'CHG1', '2026-11-26 03:00+00'), "
            "('j', 'jira', 'ITSM-1', '2026-11-20 03:00+00')"
        )
        in_auckland = stale_sources(con, "changes", monday, "Pacific/Auckland")
        # Outages go by calendar days: a quiet weekend counts.
        con.execute(
            "INSERT INTO core.outages (outage_id, source, service, type, begin_at, updated_at) "
            "VALUES ('o', 'servicenow', 'CRM', 'outage', '2026-11-21 03:00+00', "
            "'2026-11-22 03:00+00')"
        )
        outages = stale_sources(con, "outages", monday, "Pacific/Auckland")
    assert {source: stale for source, (_, stale) in in_auckland.items()} == {
        "servicenow": False,
        "jira": True,
    }
    assert outages["servicenow"][1] is True  # 7 days and 10 hours, more than 7 allowed


def test_cost_freshness_goes_by_charge_start_and_ignores_future_dates(warehouse):
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd) VALUES "
            # focus: a monthly charge ending 1 Feb, and a line dated in the far future
            "('f1', 'focus', '2026-01-01 00:00+00', '2026-02-01 00:00+00'), "
            "('f2', 'focus', '9999-12-30 00:00+00', '9999-12-31 00:00+00'), "
            # aws: daily usage up to 8 Jan
            "('a1', 'aws_ce', '2026-01-08 00:00+00', '2026-01-09 00:00+00')"
        )
        sources = stale_sources(con, "costs", datetime(2026, 1, 10, tzinfo=UTC))
    # focus's newest charge up to the as-of started 1 Jan, 9 days before it: more than 5 allowed.
    assert sources == {
        "focus": (datetime(2026, 1, 1, tzinfo=UTC), True),
        "aws_ce": (datetime(2026, 1, 8, tzinfo=UTC), False),
    }


def test_a_spreadsheet_landed_by_the_run_after_its_tick_is_fresh(warehouse):
    """A scheduled run judges as of its tick (02:00:00) and lands the changed spreadsheet a few
    seconds later: its rows' landing stamp follows the as-of, and is no future date."""
    tick = datetime(2026, 12, 1, 2, tzinfo=UTC)
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.measures (metric_id, period_start, value, dimension, "
            "dimension_value, source, loaded_at) VALUES "
            "('revenue', '2026-11-01', 100, 'all', 'all', 'measures', ?)",
            [tick + timedelta(seconds=5)],
        )
        sources = stale_sources(con, "measures", tick)
    assert sources == {"measures": (tick + timedelta(seconds=5), False)}


def test_one_step_reports_all_five_checks_of_a_core_table(warehouse, monkeypatch):
    """The five checks of core.incidents come from one warehouse visit, each under its own name."""
    monkeypatch.setenv("SCORECARD_AS_OF", "2026-01-10T00:00:00+00:00")
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, "
            "updated_at) VALUES "
            "('b', 'servicenow', 'B', '2026-01-05 08:00+00', '2026-01-05 07:00+00', "
            " '2026-01-09 12:00+00')"
        )
    results = checked(warehouse, "incidents")
    assert sorted(results) == [
        "data_quality",
        "non_null_keys",
        "source_freshness",
        "times_in_order",
        "unique_ids",
    ]
    assert results["times_in_order"].passed is False
    assert results["unique_ids"].passed is True
    assert results["non_null_keys"].passed is True
    assert results["source_freshness"].passed is True
    assert results["data_quality"].passed is True


def test_a_scheduled_night_retried_days_later_judges_freshness_as_of_its_tick(
    warehouse, monkeypatch
):
    """A retry or re-execution of a scheduled run keeps its tick, and so does the freshness
    check: costs read up to the night of the tick are not stale because the retry ran later."""
    monkeypatch.delenv("SCORECARD_AS_OF", raising=False)
    tick = datetime(2026, 1, 10, 2, tzinfo=UTC)
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd) VALUES "
            "('a1', 'aws_ce', '2026-01-09 00:00+00', '2026-01-10 00:00+00')"
        )
    results = checked(warehouse, "costs", {SCHEDULED_EXECUTION_TIME_TAG: tick.isoformat()})
    # aws_ce's newest charge started on 9 January, one day before the tick: fresh.
    assert results["source_freshness"].passed is True
