"""The emulated Table API over HTTP: paging headers, display values, errors, rate limits."""

from __future__ import annotations

import pytest
import requests

from connectors.emulators.servicenow import Credentials, RateLimit, serve
from connectors.emulators.servicenow_tables import MemoryTable

AUTH = ("tester", "s3cret-pass")


def incident(n: int, **fields: str) -> dict[str, str]:
    return {
        "sys_id": f"{n:032x}",
        "number": f"INC{n:07d}",
        "sys_updated_on": f"2024-01-01 10:00:{n:02d}",
        "opened_at": "2024-01-01 09:30:00",
        "state": "2",
        "priority": str(n % 5 + 1),
        "assignment_group": "g1" if n % 2 else "",
        **fields,
    }


@pytest.fixture
def instance():
    tables = {
        "incident": MemoryTable.of("incident", [incident(n) for n in range(1, 8)]),
        "sys_user_group": MemoryTable.of(
            "sys_user_group",
            [{"sys_id": "g1", "name": "Service Desk", "sys_updated_on": "2020-01-01 00:00:00"}],
        ),
    }
    with serve(tables, Credentials(*AUTH, token="tok"), rate_limit=RateLimit(limit=1000)) as s:
        yield s


def get(server, path: str, auth=AUTH, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, auth=auth, timeout=5)


def test_offset_paging_headers_and_the_negative_prev_link(instance):
    answer = get(instance, "/api/now/table/incident", sysparm_limit="3")
    assert answer.status_code == 200
    assert answer.headers["X-Total-Count"] == "7"
    assert [r["number"] for r in answer.json()["result"]] == [
        "INC0000001",
        "INC0000002",
        "INC0000003",
    ]
    links = answer.links
    assert set(links) == {"first", "prev", "next", "last"}
    assert "sysparm_offset=-1" in links["prev"]["url"]
    assert "sysparm_offset=3" in links["next"]["url"]
    assert "sysparm_offset=6" in links["last"]["url"]
    last = requests.get(links["last"]["url"], auth=AUTH, timeout=5)
    assert [r["number"] for r in last.json()["result"]] == ["INC0000007"]
    assert "next" not in last.links
    negative = requests.get(links["prev"]["url"], auth=AUTH, timeout=5)
    assert negative.status_code == 400
    assert negative.json() == {
        "error": {"message": "Negative offset", "detail": "sysparm_offset must not be negative"},
        "status": "failure",
    }


def test_values_are_strings_and_references_are_objects(instance):
    body = get(
        instance,
        "/api/now/table/incident",
        sysparm_fields="number,priority,assignment_group",
        sysparm_query="numberSTARTSWITHINC^ORDERBYDESCnumber",
        sysparm_limit="2",
    ).json()["result"]
    assert body[0] == {
        "number": "INC0000007",
        "priority": "3",
        "assignment_group": {
            "link": f"{instance.url}/api/now/table/sys_user_group/g1",
            "value": "g1",
        },
    }
    assert body[1]["assignment_group"] == ""  # an empty reference is an empty string


def test_display_value_modes(instance):
    def one(**params: str) -> dict:
        return get(
            instance,
            "/api/now/table/incident",
            sysparm_query="number=INC0000001",
            sysparm_fields="state,priority,assignment_group,opened_at",
            **params,
        ).json()["result"][0]

    assert one(sysparm_display_value="true", sysparm_exclude_reference_link="true") == {
        "state": "In Progress",
        "priority": "2 - High",
        "assignment_group": "Service Desk",
        "opened_at": "2024-01-01 01:30:00",  # the user's time zone (Los Angeles)
    }
    assert one(sysparm_display_value="all", sysparm_exclude_reference_link="true") == {
        "state": {"display_value": "In Progress", "value": "2"},
        "priority": {"display_value": "2 - High", "value": "2"},
        "assignment_group": {"display_value": "Service Desk", "value": "g1"},
        "opened_at": {"display_value": "2024-01-01 01:30:00", "value": "2024-01-01 09:30:00"},
    }
    assert one(sysparm_exclude_reference_link="true")["assignment_group"] == "g1"


def test_single_record_unknown_table_and_unknown_record(instance):
    found = get(instance, f"/api/now/v2/table/incident/{3:032x}", sysparm_fields="number")
    assert found.json() == {"result": {"number": "INC0000003"}}
    missing = get(instance, "/api/now/table/incident/ffff")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No Record found"
    assert get(instance, "/api/now/table/not_a_table").status_code == 400


def test_authentication(instance):
    refused = get(instance, "/api/now/table/incident", auth=("tester", "nope"))
    assert refused.status_code == 401
    assert refused.json() == {
        "error": {
            "message": "User Not Authenticated",
            "detail": "Required to provide Auth information",
        },
        "status": "failure",
    }
    bearer = requests.get(
        f"{instance.url}/api/now/table/incident",
        headers={"Authorization": "Bearer tok"},
        timeout=5,
    )
    assert bearer.status_code == 200


def test_rate_limit_headers_and_429_over_the_limit(instance):
    answer = get(instance, "/api/now/table/incident", sysparm_limit="1")
    assert answer.headers["X-RateLimit-Limit"] == "1000"
    assert int(answer.headers["X-RateLimit-Reset"]) % 3600 == 0
    assert answer.headers["X-RateLimit-Rule"]
    instance.api.rate_limit.limit = 1
    over = get(instance, "/api/now/table/incident", sysparm_limit="1")
    assert over.status_code == 429
    assert float(over.headers["Retry-After"]) >= 1
