"""The ServiceNow connector against the emulator over real HTTP, into a real DuckDB file."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from test_servicenow_support import FAST, source_for

from connectors.base import Page
from connectors.emulators.server import EmulatorServer, Faults
from connectors.emulators.servicenow import Churn, Credentials, ServiceNowApi, serve
from connectors.emulators.servicenow_bulk import bulk_tables
from connectors.emulators.servicenow_demo import demo_tables
from connectors.http import HttpClient, Request, RetryPolicy, SourceError, next_by_link_header
from connectors.servicenow import TABLE_FIELDS, Position, from_env
from warehouse.ingest import ingest
from warehouse.landing import land_page, read_cursor

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
USER = Credentials("tester", "s3cret-pass", token="t0ken-value")


@pytest.fixture
def tables():
    return demo_tables(AS_OF)


def loaded(con, table: str) -> dict[str, dict[str, str]]:
    """sys_id -> {field: raw value} of what landed in raw.servicenow_<table>."""
    rows = con.execute(f"SELECT record FROM raw.servicenow_{table}").fetchall()
    return {
        record["sys_id"]["value"]: {name: value["value"] for name, value in record.items()}
        for record in (json.loads(row[0]) for row in rows)
    }


def truth(tables, table: str) -> dict[str, dict[str, str]]:
    """What the emulated instance holds now, restricted to the fields the connector asks for."""
    return {
        record["sys_id"]: {name: record.get(name, "") for name in TABLE_FIELDS[table]}
        for record in tables[table].records()
    }


def test_loads_all_five_tables_and_a_second_run_reads_only_the_overlap(warehouse, tables):
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=250)
        first = ingest(con, source, run_id="first")
        for table in TABLE_FIELDS:
            assert loaded(con, table) == truth(tables, table), table
            assert first.streams[table].received == len(tables[table])
        cursors = {t: read_cursor(con, "servicenow", t) for t in TABLE_FIELDS}
        newest = tables["incident"].records()[-1]
        assert json.loads(cursors["incident"]) == {
            "sys_updated_on": newest["sys_updated_on"],
            "sys_id": newest["sys_id"],
        }
        snapshot = {t: loaded(con, t) for t in TABLE_FIELDS}

        second = ingest(con, source, run_id="second")

        for table in TABLE_FIELDS:
            last = tables[table].records()[-1]["sys_updated_on"]
            floor = datetime.strptime(last, "%Y-%m-%d %H:%M:%S") - source.overlap
            in_window = [
                r
                for r in tables[table].records()
                if r["sys_updated_on"] >= f"{floor:%Y-%m-%d %H:%M:%S}"
            ]
            assert second.streams[table].received == len(in_window), table
            assert second.streams[table].received < len(tables[table]) / 10
            assert loaded(con, table) == snapshot[table]
            assert read_cursor(con, "servicenow", table) == cursors[table]


def test_faults_and_updates_during_paging_lose_and_duplicate_nothing(warehouse, tables):
    faults = Faults(throttle_every=7, error_every=5, error_status=500, drop_every=11, delay=0.002)
    churn = Churn(every_pages=2, records=4, max_updates=80)
    with serve(tables, USER, faults=faults, churn=churn) as server, warehouse.connect() as con:
        ingest(con, source_for(server.url, page_size=200))
        assert server.faults_injected > 20
        assert churn.updates == 80
        for table in TABLE_FIELDS:
            assert loaded(con, table) == truth(tables, table), table
            count = con.execute(f"SELECT count(*) FROM raw.servicenow_{table}").fetchall()[0][0]
            assert count == len(tables[table])


def test_plain_offset_paging_over_the_same_churn_does_lose_records(tables):
    """Shows the emulator's churn is the real hazard the keyset paging guards against."""
    with serve(tables, USER, churn=Churn(every_pages=2, records=4, max_updates=80)) as server:
        client = HttpClient("servicenow", auth=("tester", "s3cret-pass"), policy=FAST)
        first = Request(
            "GET",
            f"{server.url}/api/now/table/incident",
            params={"sysparm_limit": "200", "sysparm_query": "ORDERBYsys_updated_on"},
        )
        seen = {
            record["sys_id"]
            for _, body in client.paginate(first, next_by_link_header)
            for record in body["result"]
        }
    assert len(seen) < len(tables["incident"])


def test_a_crash_between_pages_resumes_from_the_stored_cursor(warehouse, tables):
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=300)
        stream = next(s for s in source.streams() if s.name == "incident")
        pages = source.read(stream, None)
        for page in (next(pages), next(pages)):
            land_page(con, "servicenow", stream, page, "crashed")
        pages.close()  # the process died here
        stored = Position.decode(read_cursor(con, "servicenow", "incident"), "incident")
        assert stored == Position.of(tables["incident"].records()[599])

        ingest(con, source, run_id="resumed")
        assert loaded(con, "incident") == truth(tables, "incident")


def test_retry_exhaustion_names_table_and_offset(warehouse, tables):
    with serve(tables, USER) as server:
        source = source_for(server.url, page_size=500, policy=RetryPolicy(3, 0.01, 0.05))
        stream = next(s for s in source.streams() if s.name == "incident")
        # Every request after the first page fails. Set before reading: the connector asks for
        # the next page while the current one is being stored.
        server.faults = Faults(error_every=1, error_status=503, start_after=1)
        pages = source.read(stream, None)
        first: Page = next(pages)
        with pytest.raises(SourceError) as caught:
            next(pages)
    message = str(caught.value)
    last = first.records[-1]
    assert message.startswith("servicenow: gave up reading table incident at offset 500 ")
    assert f"sys_id {last['sys_id']['value']}" in message
    assert "after 3 attempts (last: HTTP 503)" in message


def test_wrong_password_gives_a_clear_error_without_the_secret(tables):
    with serve(tables, USER) as server:
        source = source_for(server.url, password="wrong-Pa55word")
        stream = source.streams()[0]
        with pytest.raises(SourceError) as caught:
            list(source.read(stream, None))
    message = str(caught.value)
    assert "HTTP 401" in message and "User Not Authenticated" in message
    assert "table incident" in message
    assert "wrong-Pa55word" not in message and "s3cret-pass" not in message


def test_bearer_token_from_env(warehouse, tables):
    with serve(tables, USER) as server, warehouse.connect() as con:
        env = {"SERVICENOW_INSTANCE_URL": server.url, "SERVICENOW_TOKEN": "t0ken-value"}
        source = from_env(env)
        ingest(con, source)
        assert len(loaded(con, "cmdb_ci_outage")) == len(tables["cmdb_ci_outage"])
        bad = from_env({**env, "SERVICENOW_TOKEN": "expired-t0ken"})
        with pytest.raises(SourceError, match="HTTP 401") as caught:
            list(bad.read(bad.streams()[0], None))
        assert "expired-t0ken" not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "SERVICENOW_INSTANCE_URL is not set"),
        ({"SERVICENOW_INSTANCE_URL": "https://x.service-now.com"}, "SERVICENOW_USERNAME"),
        (
            {"SERVICENOW_INSTANCE_URL": "https://x.service-now.com", "SERVICENOW_USERNAME": "u"},
            "SERVICENOW_PASSWORD",
        ),
        (
            {"SERVICENOW_INSTANCE_URL": "http://x.service-now.com", "SERVICENOW_TOKEN": "t"},
            "refusing plain-http",
        ),
        (
            {
                "SERVICENOW_INSTANCE_URL": "https://x.service-now.com",
                "SERVICENOW_TOKEN": "t",
                "SERVICENOW_PAGE_SIZE": "0",
            },
            "SERVICENOW_PAGE_SIZE",
        ),
    ],
)
def test_from_env_names_what_is_missing_or_wrong(env, problem):
    with pytest.raises(SourceError, match=problem):
        from_env(env)


def test_from_env_reads_the_optional_settings():
    source = from_env(
        {
            "SERVICENOW_INSTANCE_URL": "https://acme.service-now.com/",
            "SERVICENOW_USERNAME": "u",
            "SERVICENOW_PASSWORD": "p",
            "SERVICENOW_PAGE_SIZE": "500",
            "SERVICENOW_OVERLAP_MINUTES": "30",
        }
    )
    assert source.instance_url == "https://acme.service-now.com"
    assert source.page_size == 500
    assert source.overlap.total_seconds() == 1800


class _IgnoresTieBreak(ServiceNowApi):
    """An instance that drops the `sys_id>` part, as one does with a query part it rejects."""

    def handle(self, call):
        query = call.query.get("sysparm_query", [""])[-1]
        call.query["sysparm_query"] = [re.sub(r"\^sys_id>[0-9a-f]+", "", query)]
        return super().handle(call)


class _IgnoresOrder(ServiceNowApi):
    def handle(self, call):
        query = call.query.get("sysparm_query", [""])[-1]
        call.query["sysparm_query"] = [query.replace("ORDERBY", "ORDERBYDESC")]
        return super().handle(call)


def test_an_instance_ignoring_the_tie_break_still_loads_everything_once(warehouse):
    tables = bulk_tables(500)  # three records share each sys_updated_on second
    with (
        EmulatorServer(_IgnoresTieBreak(tables, USER)) as server,
        warehouse.connect() as con,
    ):
        load = ingest(con, source_for(server.url, page_size=10))
        assert load.streams["incident"].received == 500
        assert len(loaded(con, "incident")) == 500


def test_an_instance_ignoring_the_tie_break_with_pages_too_small_stops_with_advice():
    tables = bulk_tables(30)
    with EmulatorServer(_IgnoresTieBreak(tables, USER)) as server:
        source = source_for(server.url, page_size=2)
        with pytest.raises(SourceError, match="raise SERVICENOW_PAGE_SIZE"):
            list(source.read(source.streams()[0], None))


def test_an_instance_ignoring_the_order_is_refused_not_trusted():
    with EmulatorServer(_IgnoresOrder(bulk_tables(30), USER)) as server:
        source = source_for(server.url, page_size=5)
        with pytest.raises(SourceError, match="did not honour ORDERBY"):
            list(source.read(source.streams()[0], None))
