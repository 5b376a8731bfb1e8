"""Demo data: deterministic per as_of, stable from day to day, realistic enough, and usable
end to end through start_demo, the registry's connector and staging."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from test_servicenow_support import stage

from connectors.emulators.catalogue import history_start
from connectors.emulators.servicenow import start_demo
from connectors.emulators.servicenow_demo import demo_records
from connectors.registry import source_from_env
from warehouse.ingest import ingest

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


def by_number(records):
    return {r.get("number") or r["sys_id"]: r for r in records}


def test_same_as_of_gives_the_same_records():
    assert demo_records(AS_OF) == demo_records(AS_OF)


def test_history_is_stable_from_one_day_to_the_next():
    today, tomorrow = demo_records(AS_OF), demo_records(AS_OF + timedelta(days=1))
    for table in ("incident", "change_request", "sc_req_item", "cmdb_ci_outage"):
        before, after = by_number(today[table]), by_number(tomorrow[table])
        # Records of days well inside both windows are identical (closed long ago).
        settled = [
            n
            for n, r in before.items()
            if "2025-01-01" <= r["sys_updated_on"] < "2025-05-01" and n in after
        ]
        assert len(settled) > (5 if table == "cmdb_ci_outage" else 50), table
        assert all(before[n] == after[n] for n in settled), table
        # Only the day that slid out of the window drops.
        first_day = f"{history_start(AS_OF):%Y-%m-%d}"
        assert {before[n]["sys_created_on"][:10] for n in set(before) - set(after)} <= {first_day}


def test_volumes_and_shapes_are_plausible():
    records = demo_records(AS_OF)
    incidents, changes = records["incident"], records["change_request"]
    assert 2000 <= len(incidents) <= 5000
    priorities = Counter(r["priority"] for r in incidents)
    assert priorities["3"] + priorities["4"] > 0.6 * len(incidents)
    assert {r["type"] for r in changes} == {"normal", "standard", "emergency"}
    failed = {r["sys_id"] for r in changes if r["close_code"] == "unsuccessful"}
    caused = {r["caused_by"] for r in incidents if r["caused_by"]}
    assert 0.05 < len(failed | caused) / len(changes) < 0.2
    assert any(r["state"] == "4" for r in changes)  # some canceled
    assert {r["contact_type"] for r in records["sc_req_item"]} == {
        "self-service",
        "email",
        "phone",
        "chat",
    }
    assert any(r["has_breached"] == "true" for r in records["task_sla"])
    assert {r["type"] for r in records["cmdb_ci_outage"]} == {"outage", "degradation", "planned"}
    assert max(r["sys_updated_on"] for r in incidents) < "2025-06-01 00:00:00"


def test_start_demo_serves_the_connector_end_to_end(warehouse, tmp_path):
    env, stop = start_demo(AS_OF, tmp_path)
    try:
        assert set(env) == {"SERVICENOW_INSTANCE_URL", "SERVICENOW_USERNAME", "SERVICENOW_PASSWORD"}
        with warehouse.connect() as con:
            load = ingest(con, source_from_env("servicenow", env))
            stage(con)
            expected = demo_records(AS_OF)
            counts = {
                "incidents": "incident",
                "changes": "change_request",
                "requests": "sc_req_item",
                "sla_records": "task_sla",
                "outages": "cmdb_ci_outage",
            }
            for core, table in counts.items():
                staged = con.execute(f"SELECT count(*) FROM core.{core}").fetchall()[0][0]
                assert staged == len(expected[table]) == load.streams[table].received
            services = {
                r[0] for r in con.execute("SELECT DISTINCT service FROM core.incidents").fetchall()
            }
            assert services == {
                "Email",
                "Payroll",
                "Customer Portal",
                "Data Warehouse",
                "VPN",
                "Identity",
            }
            problems = {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT problem FROM scorecard.data_quality"
                    " WHERE source = 'servicenow'"
                ).fetchall()
            }
            assert {
                "unparseable date",
                "unknown state code",
                "resolved before opened (resolved_at left empty)",
            } <= problems
            linked = con.execute(
                "SELECT count(*) FROM core.incidents AS i JOIN core.changes AS c"
                " ON c.change_id = i.caused_by_change_id"
            ).fetchall()[0][0]
            assert linked > 20
    finally:
        stop()
