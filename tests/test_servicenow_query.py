"""Encoded queries as the emulated Table API reads them."""

from __future__ import annotations

import pytest

from connectors.emulators.servicenow_query import Condition, Query, parse

FIELDS = {"number", "state", "priority", "sys_updated_on", "sys_id", "category"}
NUMERIC = {"state", "priority"}


def q(text: str) -> Query:
    return parse(text, known=FIELDS.__contains__, numeric=NUMERIC.__contains__)


RECORDS = [
    {
        "number": "INC001",
        "state": "2",
        "priority": "10",
        "sys_updated_on": "2024-01-01 10:00:00",
        "sys_id": "a",
        "category": "Network",
    },
    {
        "number": "INC002",
        "state": "6",
        "priority": "3",
        "sys_updated_on": "2024-01-01 10:00:00",
        "sys_id": "b",
        "category": "software",
    },
    {
        "number": "CHG003",
        "state": "7",
        "priority": "",
        "sys_updated_on": "2024-01-02 00:00:00",
        "sys_id": "c",
        "category": "",
    },
]


def numbers(text: str) -> list[str]:
    query = q(text)
    return [r["number"] for r in RECORDS if query.matches(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["INC001", "INC002", "CHG003"]),
        ("state=2", ["INC001"]),
        ("state!=2", ["INC002", "CHG003"]),
        ("priority>5", ["INC001"]),  # numbers compare as numbers, not text
        ("priority<=3", ["INC002"]),  # an empty value is neither above nor below
        ("sys_updated_on>=2024-01-01 10:00:00", ["INC001", "INC002", "CHG003"]),
        ("sys_updated_on>2024-01-01 10:00:00", ["CHG003"]),
        ("sys_updated_on<2024-01-02 00:00:00", ["INC001", "INC002"]),
        ("numberSTARTSWITHinc", ["INC001", "INC002"]),
        ("numberENDSWITH3", ["CHG003"]),
        ("categoryLIKEwork", ["INC001"]),
        ("stateIN6,7", ["INC002", "CHG003"]),
        ("stateNOT IN6,7", ["INC001"]),
        ("categoryISEMPTY", ["CHG003"]),
        ("categoryISNOTEMPTY^state=2", ["INC001"]),
        ("category=network", ["INC001"]),  # string equality ignores case
        ("state=2^ORstate=7", ["INC001", "CHG003"]),
        ("numberSTARTSWITHINC^state=6^ORstate=2", ["INC001", "INC002"]),
        ("state=2^NQstate=7", ["INC001", "CHG003"]),
        # keyset paging: after (2024-01-01 10:00:00, a) in (sys_updated_on, sys_id) order
        (
            "sys_updated_on=2024-01-01 10:00:00^sys_id>a^NQsys_updated_on>2024-01-01 10:00:00",
            ["INC002", "CHG003"],
        ),
        # an unknown field or an unparseable part is ignored; the rest still filters
        ("no_such_field=1^state=6", ["INC002"]),
        ("garbage^state=6", ["INC002"]),
        ("no_such_field=1", ["INC001", "INC002", "CHG003"]),
        ("state=6^ORno_such_field=1", ["INC002"]),
    ],
)
def test_filters(text, expected):
    assert numbers(text) == expected


def test_order_by_anywhere_in_the_query_and_unknown_order_fields_ignored():
    query = q("state=2^ORDERBYDESCsys_updated_on^NQstate=7^ORDERBYsys_id^ORDERBYbogus")
    assert query.order == (("sys_updated_on", True), ("sys_id", False))
    assert len(query.clauses) == 2


def test_structure_of_or_and_nq():
    query = q("state=2^ORpriority=3^category=x")
    assert query.clauses == (
        (
            (Condition("state", "=", "2", True), Condition("priority", "=", "3", True)),
            (Condition("category", "=", "x"),),
        ),
    )


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("sys_updated_on>=2024-01-01 00:00:00^ORDERBYsys_id", "2024-01-01 00:00:00"),
        (
            "sys_updated_on=2024-01-05 00:00:00^sys_id>x^NQsys_updated_on>2024-01-05 00:00:00",
            "2024-01-05 00:00:00",
        ),
        ("sys_updated_on>2024-01-05 00:00:00^NQstate=2", None),  # one clause has no bound
        ("sys_updated_on<2024-01-05 00:00:00", None),
        ("", None),
    ],
)
def test_lower_bound_lets_a_sorted_store_skip_ahead(text, bound):
    assert q(text).lower_bound("sys_updated_on") == bound
