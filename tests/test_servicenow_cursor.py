"""ServiceNow's keyset cursor on answers real instances give: a record stamped in the future and a
page that repeats an earlier record out of order."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from test_servicenow_deletions import USER, instance
from test_servicenow_support import source_for

from connectors.emulators.server import Faults
from connectors.emulators.servicenow import serve
from connectors.http import SourceError
from warehouse.ingest import ingest

UPDATED = "inc" + "2".zfill(29)


def _state(con, key: str) -> str:
    return con.execute(
        "SELECT record ->> '$.state.value' FROM raw.servicenow_incident WHERE record_key = ?",
        [key],
    ).fetchone()[0]


def test_a_record_stamped_in_the_future_does_not_hold_back_later_updates(warehouse, caplog):
    """An import or a fix script run with autoSysFields(false) can stamp a record in 2099. The
    cursor stops at the instance's clock instead, so the next night still reads today's updates."""
    tables = instance()  # six incidents updated 2025-05-01 .. 2025-05-06
    tables["incident"].put(
        {
            "sys_id": "fut" + "0" * 29,
            "number": "INC9999999",
            "sys_updated_on": "2099-01-01 00:00:00",
            "opened_at": "2025-05-01 09:00:00",
            "state": "2",
            "priority": "3",
        }
    )
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url, page_size=2)
        with caplog.at_level(logging.WARNING, logger="connectors.servicenow"):
            ingest(con, source, "first")
        assert "record INC9999999" in caplog.text
        assert "after the instance's clock" in caplog.text
        record = dict(tables["incident"].get(UPDATED))
        record.update({"sys_updated_on": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")})
        record["state"] = "6"
        tables["incident"].put(record)
        ingest(con, source, "second")
        assert _state(con, UPDATED) == "6"
        # The future record is read again each night and stored once.
        assert (
            con.execute(
                "SELECT count(*) FROM raw.servicenow_incident WHERE record_key = ?",
                ["fut" + "0" * 29],
            ).fetchone()[0]
            == 1
        )


def test_a_page_repeating_an_earlier_record_after_a_new_one_is_refused(warehouse):
    """Repeats that lead an answer are skipped; one after a new record is out of paging order.
    Skipping it too would cut the page's record texts from the wrong place in the answer and
    store one incident under another's sys_id."""
    first_page: list[dict] = []

    def repeat_inside_second_page(body):
        result = body.get("result") if isinstance(body, dict) else None
        number = str(((result or [{}])[0].get("number") or {}).get("value", ""))
        if not number.startswith("INC"):
            return body
        if not first_page:
            first_page.extend(result)
        elif len(first_page) == 3:
            first_page.append("served")
            body["result"] = [result[0], first_page[0], *result[1:]]
        return body

    faults = Faults(rewrite=repeat_inside_second_page)
    with serve(instance(), USER, faults=faults) as server, warehouse.connect() as con:
        with pytest.raises(SourceError, match=r"out of \(sys_updated_on, sys_id\) order"):
            ingest(con, source_for(server.url, page_size=3), "first")
        stored = con.execute(
            "SELECT record_key, record ->> '$.sys_id.value' FROM raw.servicenow_incident"
        ).fetchall()
    assert [key for key, inner in stored if key != inner] == []
