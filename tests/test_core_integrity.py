"""The rules behind the core tables' asset checks find exactly the records that break them."""

from datetime import UTC, datetime

from transforms.staging import CORE_TABLES
from warehouse.integrity import RULES, null_keys, stale_sources, times_out_of_order


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
