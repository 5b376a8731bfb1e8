"""What must hold in every core table, whatever the source: the rules behind the UI's asset checks.

Each table names its key, the pairs of times that cannot run backwards, and the column that says
how recent a source's data is, with how old it may get before someone should look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb


@dataclass(frozen=True)
class TableRules:
    key: tuple[str, ...]
    # (earlier, later): a record whose later time precedes its earlier one is wrong.
    time_order: tuple[tuple[str, str], ...]
    freshness_column: str
    max_age: timedelta
    # Tickets and changes are worked on weekdays: a quiet weekend does not age them.
    weekends_count: bool = True
    # The freshness column is when this pipeline landed the row, not a time the source wrote:
    # one after the as-of was landed by the run itself (a scheduled run judges as of its tick,
    # before it starts), not dated in the future.
    stamped_on_landing: bool = False


WEEKDAY_AGE_DAYS = 15

RULES = {
    "incidents": TableRules(
        ("incident_id",),
        (("opened_at", "resolved_at"), ("opened_at", "closed_at")),
        "updated_at",
        timedelta(days=3),
        weekends_count=False,
    ),
    "changes": TableRules(
        ("change_id",),
        (("planned_start", "planned_end"), ("actual_start", "actual_end")),
        "updated_at",
        timedelta(days=3),
        weekends_count=False,
    ),
    "requests": TableRules(
        ("request_id",),
        (("opened_at", "fulfilled_at"), ("opened_at", "closed_at")),
        "updated_at",
        timedelta(days=3),
        weekends_count=False,
    ),
    "sla_records": TableRules(
        ("sla_record_id",),
        (("start_time", "end_time"),),
        "updated_at",
        timedelta(days=3),
        weekends_count=False,
    ),
    "outages": TableRules(("outage_id",), (("begin_at", "end_at"),), "updated_at", timedelta(7)),
    # Cloud bills lag a day or two behind usage. Freshness goes by when a charge starts: a
    # monthly charge ends with the month, and would hide a stalled export for weeks.
    "costs": TableRules(
        ("cost_id",),
        (("ChargePeriodStart", "ChargePeriodEnd"),),
        "ChargePeriodStart",
        timedelta(days=5),
    ),
    # Spreadsheets arrive monthly.
    "measures": TableRules(
        ("metric_id", "period_start", "dimension", "dimension_value"),
        (("period_start", "period_end"),),
        "loaded_at",
        timedelta(days=45),
        stamped_on_landing=True,
    ),
    "survey_responses": TableRules(("response_id",), (), "responded_at", timedelta(days=35)),
}


def duplicate_keys(con: duckdb.DuckDBPyConnection, table: str) -> int:
    key = ", ".join(RULES[table].key)
    return con.execute(
        f"SELECT coalesce(sum(n - 1), 0) FROM "
        f"(SELECT count(*) AS n FROM core.{table} GROUP BY {key} HAVING n > 1)"
    ).fetchall()[0][0]


def null_keys(con: duckdb.DuckDBPyConnection, table: str) -> int:
    nulls = " OR ".join(f"{column} IS NULL" for column in (*RULES[table].key, "source"))
    return con.execute(f"SELECT count(*) FROM core.{table} WHERE {nulls}").fetchall()[0][0]


def times_out_of_order(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """Records per pair whose later time precedes the earlier one (NULL is open, not wrong)."""
    found = {}
    for earlier, later in RULES[table].time_order:
        found[f"{later} >= {earlier}"] = con.execute(
            f"SELECT count(*) FROM core.{table} WHERE {later} < {earlier}"
        ).fetchall()[0][0]
    return found


def weekday_age(newest: datetime, as_of: datetime, timezone: str) -> timedelta:
    """The time from `newest` to `as_of` without the Saturdays and Sundays between (local days).

    Counted day by day for at most two weeks: an age beyond that is stale whatever it skips.
    """
    zone = ZoneInfo(timezone)
    start, end = newest.astimezone(zone), as_of.astimezone(zone)
    age = end - start
    day = start.date()
    for _ in range(WEEKDAY_AGE_DAYS):
        if day > end.date():
            break
        if day.weekday() >= 5:  # Saturday, Sunday
            midnight = datetime.combine(day, time(), zone)
            following = datetime.combine(day + timedelta(days=1), time(), zone)
            age -= max(timedelta(0), min(end, following) - max(start, midnight))
        day += timedelta(days=1)
    return age


def stale_sources(
    con: duckdb.DuckDBPyConnection, table: str, as_of: datetime, timezone: str = "UTC"
) -> dict[str, tuple[datetime | None, bool]]:
    """Per source: its newest record's time and whether that is older than the table allows
    (for tickets and changes, in weekdays of the calendar's time zone).

    Times after as_of are left out: one record dated in the future (a 9999-12-31 end, a skewed
    clock) must not make a source that stopped delivering look fresh for ever.
    """
    rules = RULES[table]
    column = rules.freshness_column
    latest = con.execute(
        f"SELECT source, max({column}) FILTER (WHERE {column} <= ? OR ?) FROM core.{table} "
        "GROUP BY source",
        [as_of, rules.stamped_on_landing],
    ).fetchall()

    def age(newest: datetime) -> timedelta:
        return as_of - newest if rules.weekends_count else weekday_age(newest, as_of, timezone)

    return {
        source: (newest, newest is None or age(newest) > rules.max_age) for source, newest in latest
    }
