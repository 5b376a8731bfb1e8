"""Monthly KPIs on the real ServiceNow incident log (UCI dataset 498), checked against pandas.

The test loads the log into core.incidents itself (latest event per incident = highest
sys_mod_count; '?' = NULL; dates day/month/year, read as UTC), computes the KPIs in SQL and compares
them with an independent pandas calculation of the same definitions.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest

from transforms.kpis import compute_metrics

LOAD_INCIDENTS = """
INSERT INTO core.incidents BY NAME
WITH events AS (
    SELECT * FROM read_csv(?, all_varchar = true, header = true, nullstr = '?')
),
latest_events AS (
    SELECT * FROM events
    QUALIFY row_number() OVER (
        PARTITION BY number ORDER BY CAST(sys_mod_count AS INTEGER) DESC,
            strptime(sys_updated_at, '%d/%m/%Y %H:%M') DESC
    ) = 1
)
SELECT
    'uci:' || number AS incident_id,
    'servicenow' AS source,
    number,
    strptime(opened_at, '%d/%m/%Y %H:%M') AT TIME ZONE 'UTC' AS opened_at,
    strptime(resolved_at, '%d/%m/%Y %H:%M') AT TIME ZONE 'UTC' AS resolved_at,
    strptime(closed_at, '%d/%m/%Y %H:%M') AT TIME ZONE 'UTC' AS closed_at,
    CAST(split_part(priority, ' ', 1) AS INTEGER) AS priority,
    CASE
        WHEN incident_state = 'New' THEN 'new'
        WHEN incident_state = 'Active' THEN 'in_progress'
        WHEN incident_state LIKE 'Awaiting%' THEN 'on_hold'
        WHEN incident_state = 'Resolved' THEN 'resolved'
        WHEN incident_state = 'Closed' THEN 'closed'
    END AS state,
    assignment_group,
    category,
    lower(contact_type) AS channel,
    CAST(reopen_count AS INTEGER) AS reopen_count,
    CAST(reassignment_count AS INTEGER) AS reassignment_count,
    CAST(made_sla AS BOOLEAN) AS made_sla,
    caused_by AS caused_by_change_id,
    rfc AS related_change_id
FROM latest_events
"""


def pandas_monthly(csv_path) -> dict[str, dict[str, float]]:
    """The same three KPIs, computed independently with pandas."""
    events = pd.read_csv(csv_path, na_values="?", keep_default_na=False, dtype=str)
    events["sys_mod_count"] = events["sys_mod_count"].astype(int)
    events["updated"] = pd.to_datetime(events["sys_updated_at"], format="%d/%m/%Y %H:%M")
    latest = events.sort_values(["sys_mod_count", "updated"]).groupby("number").tail(1)
    for column in ("opened_at", "resolved_at", "closed_at"):
        latest[column] = pd.to_datetime(latest[column], format="%d/%m/%Y %H:%M")

    resolved = latest[latest["resolved_at"].notna() & latest["opened_at"].notna()]
    resolved = resolved[resolved["resolved_at"] >= resolved["opened_at"]]
    hours = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    month = resolved["resolved_at"].dt.strftime("%Y-%m")
    median_hours = hours.groupby(month).median()

    all_resolved = latest[latest["resolved_at"].notna()]
    reopened = all_resolved["reopen_count"].astype(int) > 0
    reopen = reopened.groupby(all_resolved["resolved_at"].dt.strftime("%Y-%m")).mean() * 100

    completed = latest[latest["resolved_at"].notna() | latest["closed_at"].notna()].copy()
    completed["at"] = completed["resolved_at"].fillna(completed["closed_at"])
    completed = completed[completed["made_sla"].notna()]
    made = completed["made_sla"] == "true"
    sla = made.groupby(completed["at"].dt.strftime("%Y-%m")).mean() * 100
    return {
        "incident_resolution_time": median_hours.to_dict(),
        "reopen_rate": reopen.to_dict(),
        "sla_attainment": sla.to_dict(),
    }


@pytest.mark.slow
def test_monthly_kpis_match_pandas(warehouse, shared_data, tmp_path):
    with zipfile.ZipFile(shared_data / "servicenow-uci" / "incident_event_log.zip") as archive:
        csv_path = archive.extract("incident_event_log.csv", tmp_path)
    expected = pandas_monthly(csv_path)
    with warehouse.connect() as con:
        con.execute(LOAD_INCIDENTS, [str(csv_path)])
        assert con.execute("SELECT count(*) FROM core.incidents").fetchall() == [(24918,)]
        compute_metrics(con, min_n=1, as_of=datetime(2020, 1, 1, tzinfo=UTC))
        rows = con.execute(
            "SELECT metric_id, strftime(period_start, '%Y-%m'), value FROM kpi.metric_values "
            "WHERE grain = 'month' AND dimension = 'all' AND value IS NOT NULL AND metric_id IN "
            "('incident_resolution_time', 'reopen_rate', 'sla_attainment')"
        ).fetchall()
    actual: dict[str, dict[str, float]] = {}
    for metric_id, month, value in rows:
        actual.setdefault(metric_id, {})[month] = value
    for metric_id, by_month in expected.items():
        assert actual[metric_id] == pytest.approx(by_month), metric_id
    # The figures of the busiest months, as the pandas calculation gives them.
    assert actual["incident_resolution_time"]["2016-03"] == pytest.approx(44.125, abs=1e-3)
    assert actual["incident_resolution_time"]["2016-04"] == pytest.approx(5.933, abs=1e-3)
    assert actual["sla_attainment"]["2016-03"] == pytest.approx(44.326, abs=1e-3)
    assert actual["sla_attainment"]["2016-04"] == pytest.approx(74.759, abs=1e-3)
    assert actual["reopen_rate"]["2016-03"] == pytest.approx(1.25, abs=1e-3)
    assert actual["reopen_rate"]["2016-04"] == pytest.approx(1.091, abs=1e-3)
