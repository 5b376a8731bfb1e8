"""The pandas anchor of benchmarks/kpi_compute.py: our KPIs as an analyst would write them.

The naive way: pull the core tables out of the warehouse into DataFrames, filter them by each
metric's rules (docs/metrics.md; the same population as benchmarks/kpi_reference.sql: state
filters, the as_of cut-off, the local day in the calendar's time zone, weeks from Monday), then
group by period and dimension value with pandas' vectorised groupby, once per grain and
dimension. No stored facts, evidence, period grid or minimum n, as in the DuckDB reference.
Manual inputs are read as the benchmark's data enters them, one per whole month, rather than
with every span rule of ours (a week's input, inputs over the same days).

`compare` then checks every value (and its sample size n, where the SQL counts the same records)
against kpi.metric_values, so a faster pandas cannot come from computing something else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd
from pandas.api.typing import DataFrameGroupBy

GRAINS = ("week", "month", "quarter")
UNKNOWN = "(unknown)"
# The catalogue's defaults (transforms/metrics/catalogue.yaml), as the benchmark's settings use them.
CANCELLED_STATES = ("canceled", "cancelled")
REQUEST_CANCELLED_STATES = ("canceled", "cancelled", "closed_incomplete", "closed_cancelled")
RESOLVED_STATES = ("resolved", "closed")
SECURITY_CATEGORIES = ("security", "security incident")
SLA_STOPPED_STAGES = ("completed", "achieved", "breached")
SELF_SERVICE_CHANNELS = (
    "portal",
    "self-service",
    "self_service",
    "chat",
    "virtual agent",
    "virtual_agent",
    "web",
    "slack",
    "catalog",
)
TICKET_CANCELLED_STATES = ("canceled", "cancelled", "closed_cancelled")
SURVEY_TOP_BOX_POINTS = 2
PLANNED_TYPES = ("planned",)
DOWNTIME_TYPES = ("outage",)
OWNER_TAG_KEYS = ("cost_centre", "cost-center", "costcenter", "service", "application", "owner")

INCIDENT_DIMENSIONS = ("service", "assignment_group", "priority", "source")
SLA_DIMENSIONS = ("service", "priority", "source")
TICKET_DIMENSIONS = ("service", "source")
REQUEST_DIMENSIONS = ("service", "assignment_group", "source")
CHANGE_DIMENSIONS = ("service", "assignment_group", "source")
SPEND_DIMENSIONS = ("provider", "service", "service_category", "source")
ALLOCATION_DIMENSIONS = ("provider", "service_category", "source")

# What the analyst pulls out of the warehouse: whole ticket tables, and of core.costs (every FOCUS
# column, 10M rows at full scale) only the columns the two cost KPIs read.
QUERIES = {
    "incidents": "SELECT * FROM core.incidents",
    "requests": "SELECT * FROM core.requests",
    "changes": "SELECT * FROM core.changes",
    "sla_records": "SELECT * FROM core.sla_records",
    "costs": (
        "SELECT ChargePeriodStart, ChargeCategory, CAST(EffectiveCost AS DOUBLE) AS cost, "
        "ProviderName, ServiceCategory, service, cost_centre, application, Tags, source "
        "FROM core.costs"
    ),
    "outages": "SELECT * FROM core.outages",
    "measures": "SELECT * FROM core.measures",
    "survey_responses": "SELECT * FROM core.survey_responses",
}

# The KPIs compute() returns: every metric of the catalogue but project_roi, which has no inputs
# in the benchmark's data. benchmarks/kpi_compute.py also times our step on these alone.
KPIS = (
    "automation_coverage",
    "certifications",
    "change_failure_rate",
    "change_lead_time",
    "change_lead_time_p90",
    "cloud_spend",
    "cost_allocation_coverage",
    "cost_per_ticket",
    "critical_vulnerability_remediation_time",
    "csat",
    "deployment_days_per_week",
    "deployment_frequency",
    "employee_engagement",
    "first_contact_resolution",
    "incident_resolution_time",
    "incident_resolution_time_p90",
    "it_spend_pct_revenue",
    "mean_time_to_restore",
    "mean_time_to_restore_p90",
    "reopen_rate",
    "request_fulfillment_time",
    "request_fulfillment_time_p90",
    "retention_rate",
    "security_incident_resolution_time",
    "self_service_adoption",
    "service_availability",
    "service_availability_worst",
    "sla_attainment",
    "training_hours_per_fte",
)
KEY = ["metric_id", "grain", "period_start", "dimension", "dimension_value"]
Statistic = Callable[[DataFrameGroupBy], pd.Series]


def load_tables(con) -> dict[str, pd.DataFrame]:
    """The core tables as DataFrames: the part of the pandas time spent leaving the warehouse."""
    return {name: con.execute(query).df() for name, query in QUERIES.items()}


def _local_days(instants: pd.Series, timezone: str) -> pd.Series:
    """Midnight of each instant's day in the calendar's time zone (naive local timestamps)."""
    return instants.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()


def _period_starts(days: pd.Series, grain: str) -> pd.Series:
    if grain == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days.dt.to_period("M" if grain == "month" else "Q").dt.start_time


def _period_ends(starts: pd.Series, grain: str) -> pd.Series:
    if grain == "week":
        return starts + pd.Timedelta(days=7)
    return (starts.dt.to_period("M" if grain == "month" else "Q") + 1).dt.start_time


def _per_elapsed_week(values: pd.DataFrame, as_of_local: pd.Timestamp) -> pd.DataFrame:
    """Each value divided by the weeks of its period that had elapsed by as_of (the running
    period counts only that far)."""
    ends = pd.concat(
        _period_ends(values.loc[values["grain"] == grain, "period_start"], grain)
        for grain in GRAINS
    )
    weeks = (ends.clip(upper=as_of_local) - values["period_start"]).dt.total_seconds() / (7 * 86400)
    return values.assign(value=values["value"] / weeks)


def _filled(column: pd.Series) -> pd.Series:
    return column.fillna(UNKNOWN)


def _aggregate(
    frame: pd.DataFrame,
    dimensions: tuple[str, ...],
    statistics: dict[str, Statistic],
    n: Statistic,
) -> pd.DataFrame:
    """Each statistic and the sample size n by period and dimension value, at every grain."""
    results = []
    for grain in GRAINS:
        by_period = frame.assign(period_start=_period_starts(frame["local_day"], grain))
        for dimension in ("all", *dimensions):
            keys = ["period_start"] if dimension == "all" else ["period_start", dimension]
            grouped = by_period.groupby(keys, observed=True)
            counts = n(grouped)
            for metric_id, statistic in statistics.items():
                values = pd.DataFrame({"value": statistic(grouped), "n": counts}).reset_index()
                values = values.rename(columns={dimension: "dimension_value"})
                if dimension == "all":
                    values["dimension_value"] = "all"
                results.append(values.assign(metric_id=metric_id, grain=grain, dimension=dimension))
    return pd.concat(results, ignore_index=True)


def _size(grouped: DataFrameGroupBy) -> pd.Series:
    return grouped.size()


def _median(column: str) -> Statistic:
    return lambda grouped: grouped[column].median()


def _p90(column: str) -> Statistic:
    return lambda grouped: grouped[column].quantile(0.9)


def _mean(column: str) -> Statistic:
    return lambda grouped: grouped[column].mean()


def _incident_kpis(incidents: pd.DataFrame, as_of: pd.Timestamp, timezone: str) -> list:
    """Resolution times, restore and security resolution times, reopen rate, first contact."""
    incidents = incidents.assign(
        priority_level=incidents["priority"],
        priority=_filled(incidents["priority"].astype("Int64").astype("string")),
        service=_filled(incidents["service"]),
        assignment_group=_filled(incidents["assignment_group"]),
    )
    # Resolved: state resolved or closed (an open incident with a resolved_at is not), by as_of.
    resolved = incidents[
        incidents["state"].str.lower().isin(RESOLVED_STATES)
        & incidents["resolved_at"].notna()
        & (incidents["resolved_at"] <= as_of)
    ].copy()
    resolved["local_day"] = _local_days(resolved["resolved_at"], timezone)
    resolved["hours"] = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    # Reopened, over the incidents whose reopen count is known (NaN is left out of the mean).
    resolved["reopened"] = (resolved["reopen_count"] > 0) * 100.0
    resolved.loc[resolved["reopen_count"].isna(), "reopened"] = float("nan")
    # Not reassigned, over the incidents whose reassignments are known (NaN is left out of the mean).
    resolved["first_contact"] = (resolved["reassignment_count"] == 0) * 100.0
    resolved.loc[resolved["reassignment_count"].isna(), "first_contact"] = float("nan")
    # A duration needs an opening before the resolution (NaN hours fail the comparison too).
    timed = resolved[resolved["hours"] >= 0]
    restored = timed[timed["priority_level"].isin([1, 2]) | timed["caused_by_change_id"].notna()]
    security = timed[
        timed["is_security"].fillna(False).astype(bool)
        | timed["category"].str.lower().isin(SECURITY_CATEGORIES)
    ]
    return [
        _aggregate(
            timed,
            INCIDENT_DIMENSIONS,
            {
                "incident_resolution_time": _median("hours"),
                "incident_resolution_time_p90": _p90("hours"),
            },
            _size,
        ),
        _aggregate(
            restored,
            INCIDENT_DIMENSIONS,
            {
                "mean_time_to_restore": _median("hours"),
                "mean_time_to_restore_p90": _p90("hours"),
            },
            _size,
        ),
        _aggregate(
            security,
            INCIDENT_DIMENSIONS,
            {"security_incident_resolution_time": _median("hours")},
            _size,
        ),
        _aggregate(
            resolved,
            INCIDENT_DIMENSIONS,
            {"reopen_rate": _mean("reopened")},
            lambda grouped: grouped["reopen_count"].count(),
        ),
        _aggregate(
            resolved,
            INCIDENT_DIMENSIONS,
            {"first_contact_resolution": _mean("first_contact")},
            lambda grouped: grouped["reassignment_count"].count(),
        ),
    ]


def _sla_attainment(
    sla_records: pd.DataFrame, incidents: pd.DataFrame, as_of: pd.Timestamp, timezone: str
) -> pd.DataFrame:
    """Stopped SLA clocks met, of those whose outcome is known; incidents of sources without
    clocks by their made_sla."""
    stage = sla_records["stage"].str.lower()
    known = sla_records["breached"].notna() | (stage == "breached")
    clocks = sla_records[sla_records["end_time"].notna() & stage.isin(SLA_STOPPED_STAGES) & known]
    clocks = pd.DataFrame(
        {
            "completed_at": clocks["end_time"],
            "service": clocks["service"],
            "priority": clocks["priority"].astype("Int64").astype("string"),
            "source": clocks["source"],
            "met": ~clocks["breached"].fillna(stage[clocks.index] == "breached").astype(bool),
        }
    )
    without_clocks = incidents[
        ~incidents["source"].isin(sla_records["source"].unique())
        & incidents["state"].str.lower().isin(RESOLVED_STATES)
        & incidents["made_sla"].notna()
    ]
    judged = pd.DataFrame(
        {
            "completed_at": without_clocks["resolved_at"].fillna(without_clocks["closed_at"]),
            "service": without_clocks["service"],
            "priority": without_clocks["priority"].astype("Int64").astype("string"),
            "source": without_clocks["source"],
            "met": without_clocks["made_sla"].astype(bool),
        }
    )
    outcomes = pd.concat([clocks, judged], ignore_index=True)
    outcomes = outcomes[outcomes["completed_at"] <= as_of].copy()
    outcomes["service"] = _filled(outcomes["service"])
    outcomes["priority"] = _filled(outcomes["priority"])
    outcomes["local_day"] = _local_days(outcomes["completed_at"], timezone)
    outcomes["met"] = outcomes["met"] * 100.0
    return _aggregate(outcomes, SLA_DIMENSIONS, {"sla_attainment": _mean("met")}, _size)


def _self_service_adoption(
    incidents: pd.DataFrame, requests: pd.DataFrame, as_of: pd.Timestamp, timezone: str
) -> pd.DataFrame:
    """Tickets opened through a self-service channel, of the tickets whose channel is known."""
    columns = ["opened_at", "channel", "service", "source"]
    tickets = pd.concat([incidents[columns], requests[columns]], ignore_index=True)
    tickets = tickets[tickets["channel"].notna() & (tickets["opened_at"] <= as_of)].copy()
    tickets["service"] = _filled(tickets["service"])
    tickets["local_day"] = _local_days(tickets["opened_at"], timezone)
    tickets["self_service"] = tickets["channel"].str.lower().isin(SELF_SERVICE_CHANNELS) * 100.0
    return _aggregate(
        tickets, TICKET_DIMENSIONS, {"self_service_adoption": _mean("self_service")}, _size
    )


def _request_fulfillment_time(
    requests: pd.DataFrame, as_of: pd.Timestamp, timezone: str
) -> pd.DataFrame:
    requests = requests.assign(
        hours=(requests["fulfilled_at"] - requests["opened_at"]).dt.total_seconds() / 3600
    )
    fulfilled = requests[
        ~requests["state"].str.lower().isin(REQUEST_CANCELLED_STATES)
        & (requests["hours"] >= 0)
        & (requests["fulfilled_at"] <= as_of)
    ].copy()
    fulfilled["service"] = _filled(fulfilled["service"])
    fulfilled["assignment_group"] = _filled(fulfilled["assignment_group"])
    fulfilled["local_day"] = _local_days(fulfilled["fulfilled_at"], timezone)
    return _aggregate(
        fulfilled,
        REQUEST_DIMENSIONS,
        {
            "request_fulfillment_time": _median("hours"),
            "request_fulfillment_time_p90": _p90("hours"),
        },
        _size,
    )


def _change_kpis(
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    as_of: pd.Timestamp,
    as_of_local: pd.Timestamp,
    timezone: str,
) -> list:
    """Change failure rate, deployment frequency and lead time over one population: deployments."""
    changes = changes.assign(completed_at=changes["actual_end"].fillna(changes["closed_at"]))
    # Production changes (true or unknown), not cancelled, completed by as_of.
    deployments = changes[
        changes["is_production"].fillna(True).astype(bool)
        & ~changes["state"].str.lower().isin(CANCELLED_STATES)
        & (changes["completed_at"] <= as_of)
    ].copy()
    deployments["service"] = _filled(deployments["service"])
    deployments["assignment_group"] = _filled(deployments["assignment_group"])
    deployments["local_day"] = _local_days(deployments["completed_at"], timezone)
    # A cancelled incident marks no change failed, nor does one opened after as_of.
    live = ~incidents["state"].str.lower().isin(CANCELLED_STATES) & (
        incidents["opened_at"] <= as_of
    )
    caused = incidents.loc[live, "caused_by_change_id"].dropna().unique()
    deployments["failed"] = (
        (deployments["outcome"].str.lower() == "unsuccessful")
        | deployments["backed_out"].fillna(False).astype(bool)
        | deployments["change_id"].isin(caused)
    ) * 100.0
    deployments["lead_hours"] = (
        deployments["actual_end"] - deployments["opened_at"]
    ).dt.total_seconds() / 3600
    implemented = deployments[deployments["lead_hours"] >= 0]

    frequency = _aggregate(deployments, CHANGE_DIMENSIONS, {"deployment_frequency": _size}, _size)
    active_days = _aggregate(
        deployments,
        CHANGE_DIMENSIONS,
        {"deployment_days_per_week": lambda grouped: grouped["local_day"].nunique()},
        _size,
    )
    return [
        _aggregate(deployments, CHANGE_DIMENSIONS, {"change_failure_rate": _mean("failed")}, _size),
        _per_elapsed_week(frequency, as_of_local),
        _per_elapsed_week(active_days, as_of_local),
        _aggregate(
            implemented,
            CHANGE_DIMENSIONS,
            {"change_lead_time": _median("lead_hours"), "change_lead_time_p90": _p90("lead_hours")},
            _size,
        ),
    ]


def _cost_kpis(costs: pd.DataFrame, as_of: pd.Timestamp, timezone: str) -> list:
    """Cloud spend (credits netted in) and allocation coverage (of charges, credits left out)."""
    costs = costs[costs["ChargePeriodStart"] <= as_of].copy()
    # Allocated: a cost centre, service or application, or an owner key among the tags. The tag
    # strings repeat, so each distinct one is parsed once.
    owner_tagged = {
        tags: isinstance(parsed := json.loads(tags), dict)
        and any(key.lower() in OWNER_TAG_KEYS for key in parsed)
        for tags in costs["Tags"].dropna().unique()
    }
    costs["allocated"] = (
        costs["cost_centre"].fillna("").str.strip().ne("")
        | costs["service"].fillna("").str.strip().ne("")
        | costs["application"].fillna("").str.strip().ne("")
        | costs["Tags"].map(owner_tagged).fillna(False).astype(bool)
    )
    costs["credit"] = costs["ChargeCategory"].str.lower().eq("credit") | (costs["cost"] < 0)
    costs["provider"] = _filled(costs["ProviderName"])
    costs["service_category"] = _filled(costs["ServiceCategory"])
    costs["service"] = _filled(costs["service"])
    costs["local_day"] = _local_days(costs["ChargePeriodStart"], timezone)
    charges = costs[~costs["credit"]].copy()
    charges["allocated_cost"] = charges["cost"].where(charges["allocated"], 0.0)
    return [
        _aggregate(costs, SPEND_DIMENSIONS, {"cloud_spend": lambda g: g["cost"].sum()}, _size),
        _aggregate(
            charges,
            ALLOCATION_DIMENSIONS,
            {
                "cost_allocation_coverage": lambda g: (
                    g["allocated_cost"].sum() / g["cost"].sum() * 100
                )
            },
            _size,
        ),
    ]


def _survey_kpis(responses: pd.DataFrame, as_of: pd.Timestamp, timezone: str) -> list:
    """CSAT (top two points of each answer's own scale) and engagement (score as % of its scale),
    over the answers whose score lies on their scale."""
    responses = responses[
        (responses["responded_at"] <= as_of)
        & (responses["score"] >= 0)
        & (responses["score"] <= responses["scale_max"])
    ].copy()
    # A spreadsheet answer dated without a time counts on that date in any time zone, so its date
    # may lie after as_of's local day though its responded_at does not pass as_of.
    responses["local_day"] = pd.to_datetime(responses["answered_on"]).fillna(
        _local_days(responses["responded_at"], timezone)
    )
    as_of_day = as_of.tz_convert(timezone).tz_localize(None).normalize()
    responses = responses[responses["local_day"] <= as_of_day].copy()
    responses["service"] = _filled(responses["service"])
    survey = responses["survey"].str.lower()
    csat = responses[(survey == "csat") & (responses["scale_max"] >= SURVEY_TOP_BOX_POINTS)].copy()
    csat["satisfied"] = (csat["score"] >= csat["scale_max"] - SURVEY_TOP_BOX_POINTS + 1) * 100.0
    engagement = responses[(survey == "engagement") & (responses["scale_max"] > 0)].copy()
    engagement["percent"] = engagement["score"] / engagement["scale_max"] * 100
    return [
        _aggregate(csat, ("service", "source"), {"csat": _mean("satisfied")}, _size),
        _aggregate(engagement, (), {"employee_engagement": _mean("percent")}, _size),
    ]


def _monthly_inputs(measures: pd.DataFrame, metric_id: str) -> pd.Series:
    """One manual input per whole month, as the benchmark's data enters them, by month start."""
    rows = measures[(measures["metric_id"] == metric_id) & (measures["dimension"] == "all")]
    return rows.groupby(pd.to_datetime(rows["period_start"]))["value"].sum()


def _by_month_and_quarter(
    inputs: pd.DataFrame,
    value: Callable[[pd.DataFrame], pd.Series],
    metric_id: str,
    counted: str,
    whole_quarters: bool = True,
    quarters: bool = True,
) -> pd.DataFrame:
    """A value per month from that month's inputs, and per quarter from its months' inputs:
    monthly inputs give no weekly value. With whole_quarters, a quarter needs each input the value
    reads in all three of its months (a month not entered yet is not zero), else it reads the
    months that have one. n counts the months with the `counted` input, as ours counts its inputs.
    """
    results = [
        pd.DataFrame(
            {
                "period_start": inputs.index,
                "value": value(inputs).values,
                "n": inputs[counted].notna().astype(int).values,
                "grain": "month",
            }
        )
    ]
    if quarters:
        grouped = inputs.groupby(inputs.index.to_period("Q").start_time)
        # min_count: a sum over fewer months is NaN rather than pandas' partial sum (or 0).
        sums = grouped.sum(min_count=3 if whole_quarters else 1)
        results.append(
            pd.DataFrame(
                {
                    "period_start": sums.index,
                    "value": value(sums).values,
                    "n": grouped[counted].count().values,
                    "grain": "quarter",
                }
            )
        )
    # A month or quarter without one of the inputs has no value.
    return (
        pd.concat(results, ignore_index=True)
        .dropna(subset=["value"])
        .assign(metric_id=metric_id, dimension="all", dimension_value="all")
    )


def _measure_kpis(measures: pd.DataFrame) -> list:
    """The KPIs of manual inputs, the naive way for whole-month inputs: ratios of the months'
    sums; headcount and automation coverage are stocks, averaged over the days they cover."""
    inputs = pd.DataFrame(
        {
            name: _monthly_inputs(measures, name)
            for name in (
                "revenue",
                "it_spend",
                "service_desk_cost",
                "headcount_fte",
                "training_hours",
                "certifications",
                "automation_coverage",
                "staff_start",
                "staff_retained",
                "critical_vulns_remediated",
                "critical_vuln_remediation_days",
            )
        }
    )
    days = pd.Series(inputs.index.days_in_month, index=inputs.index, dtype=float)
    # Remediation days and their count describe the same vulnerabilities: one counts only beside
    # the other of the same month.
    vulns, vuln_days = inputs["critical_vulns_remediated"], inputs["critical_vuln_remediation_days"]
    paired = vulns.notna() & vuln_days.notna()
    # Stocks weighted by the days they hold, so a quarter's value is the months' average.
    weighted = inputs.assign(
        days=days,
        headcount_days=inputs["headcount_fte"] * days,
        coverage_days=inputs["automation_coverage"] * days,
        # Coverage averages over the days its inputs hold, not the whole quarter.
        covered_days=days.where(inputs["automation_coverage"].notna()),
        paired_vulns=vulns.where(paired),
        paired_vuln_days=vuln_days.where(paired),
    )
    return [
        _by_month_and_quarter(
            weighted,
            lambda i: i["it_spend"] / i["revenue"] * 100,
            "it_spend_pct_revenue",
            counted="revenue",
        ),
        _by_month_and_quarter(
            weighted,
            lambda i: i["training_hours"] / (i["headcount_days"] / i["days"]),
            "training_hours_per_fte",
            counted="headcount_fte",
        ),
        _by_month_and_quarter(
            weighted, lambda i: i["certifications"], "certifications", counted="certifications"
        ),
        _by_month_and_quarter(
            weighted,
            lambda i: i["coverage_days"] / i["covered_days"],
            "automation_coverage",
            counted="automation_coverage",
            whole_quarters=False,
        ),
        # A cohort counts only at the grain it spans exactly: monthly inputs, monthly values.
        _by_month_and_quarter(
            weighted,
            lambda i: i["staff_retained"] / i["staff_start"] * 100,
            "retention_rate",
            counted="staff_start",
            quarters=False,
        ),
        _by_month_and_quarter(
            weighted,
            lambda i: i["paired_vuln_days"] / i["paired_vulns"],
            "critical_vulnerability_remediation_time",
            counted="paired_vulns",
            whole_quarters=False,
        ),
    ]


def _cost_per_ticket(
    measures: pd.DataFrame,
    incidents: pd.DataFrame,
    requests: pd.DataFrame,
    as_of: pd.Timestamp,
    timezone: str,
) -> pd.DataFrame:
    """Service-desk cost inputs over the tickets handled (incidents resolved or closed, requests
    fulfilled or closed, neither cancelled), at month and quarter: monthly costs, whole quarters."""
    handled = pd.concat(
        [
            incidents.loc[
                incidents["state"].str.lower().isin(RESOLVED_STATES),
                "resolved_at",
            ].fillna(incidents["closed_at"]),
            requests.loc[
                ~requests["state"].str.lower().isin(TICKET_CANCELLED_STATES), "fulfilled_at"
            ].fillna(requests["closed_at"]),
        ],
        ignore_index=True,
    )
    handled = handled[handled.notna() & (handled <= as_of)]
    days = _local_days(handled, timezone)
    costs = _monthly_inputs(measures, "service_desk_cost")
    results = []
    for grain in ("month", "quarter"):
        tickets = days.groupby(_period_starts(days, grain)).size()
        starts = costs.index.to_period("M" if grain == "month" else "Q").start_time
        cost = costs.groupby(starts).agg(["sum", "size"])
        if grain == "quarter":
            cost = cost[cost["size"] == 3]
        joined = cost.join(tickets.rename("n"), how="inner")
        results.append(
            pd.DataFrame(
                {
                    "period_start": joined.index,
                    "value": (joined["sum"] / joined["n"]).values,
                    "n": joined["n"].values,
                    "grain": grain,
                }
            )
        )
    return pd.concat(results, ignore_index=True).assign(
        metric_id="cost_per_ticket", dimension="all", dimension_value="all"
    )


def _service_days(
    outages: pd.DataFrame, incidents: pd.DataFrame, as_of: pd.Timestamp, timezone: str
) -> pd.DataFrame:
    """Every local day of each committed service (one with outage records, even without a begin)
    from its first record (outage or incident) to as_of, with its bounds: 23 or 25 hours on a DST
    day, as_of's day only up to as_of."""
    committed = outages["service"].dropna().unique()
    sightings = pd.concat(
        [
            outages[["service", "begin_at"]].rename(columns={"begin_at": "seen_at"}),
            incidents[["service", "opened_at"]].rename(columns={"opened_at": "seen_at"}),
        ],
        ignore_index=True,
    )
    sightings = sightings[sightings["service"].isin(committed) & sightings["seen_at"].notna()]
    first_at = sightings.groupby("service")["seen_at"].min()
    first_day = _local_days(first_at, timezone)
    last_day = as_of.tz_convert(timezone).tz_localize(None).normalize()
    lengths = ((last_day - first_day).dt.days + 1).clip(lower=0)
    days = pd.DataFrame(
        {
            "service": np.repeat(first_at.index.values, lengths),
            "local_day": np.repeat(first_day.values, lengths),
        }
    )
    days["local_day"] += pd.to_timedelta(days.groupby("service").cumcount(), unit="D")
    unique_days = pd.Series(days["local_day"].unique())
    bounds = pd.DataFrame(
        {
            "local_day": unique_days,
            "day_begin": unique_days.dt.tz_localize(timezone, nonexistent="shift_forward"),
            "day_end": (unique_days + pd.Timedelta(days=1))
            .dt.tz_localize(timezone, nonexistent="shift_forward")
            .clip(upper=as_of),
        }
    )
    days = days.merge(bounds, on="local_day")
    return days[days["day_begin"] < days["day_end"]]


def _earlier(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.where(a <= b, b)


def _later(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.where(a >= b, b)


def _outage_pieces(
    outages: pd.DataFrame, days: pd.DataFrame, as_of: pd.Timestamp, timezone: str
) -> pd.DataFrame:
    """Planned and unplanned minutes per outage and local day: overlapping records of one kind
    counted once, unplanned time within planned maintenance counted as planned."""
    kind = outages["type"].str.lower()
    outages = outages.assign(
        kind=np.where(kind.isin(PLANNED_TYPES), "planned", None),
        end_at=outages["end_at"].fillna(as_of).clip(upper=as_of),
    )
    outages.loc[kind.isin(DOWNTIME_TYPES) & outages["kind"].isna(), "kind"] = "unplanned"
    outages = outages[outages["kind"].notna()].sort_values(
        ["service", "kind", "begin_at", "outage_id"]
    )
    by_kind = outages.groupby(["service", "kind"])
    earlier_end = by_kind["end_at"].cummax().groupby([outages["service"], outages["kind"]]).shift()
    outages["counted_from"] = outages["begin_at"].where(
        earlier_end.isna() | (earlier_end < outages["begin_at"]), earlier_end
    )
    counted = outages[outages["counted_from"] < outages["end_at"]]
    first = _local_days(counted["counted_from"], timezone)
    spans = (_local_days(counted["end_at"], timezone) - first).dt.days + 1
    pieces = counted.loc[counted.index.repeat(spans)].assign(
        local_day=first.repeat(spans.values).values
    )
    pieces["local_day"] += pd.to_timedelta(pieces.groupby(level=0).cumcount().values, unit="D")
    pieces = pieces.merge(days[["service", "local_day", "day_begin", "day_end"]])
    pieces["piece_begin"] = _later(pieces["counted_from"], pieces["day_begin"])
    pieces["piece_end"] = _earlier(pieces["end_at"], pieces["day_end"])
    pieces = pieces[pieces["piece_begin"] < pieces["piece_end"]]
    # The seconds of each unplanned piece that planned maintenance of its service covers.
    planned = counted.loc[counted["kind"] == "planned", ["service", "counted_from", "end_at"]]
    unplanned = pieces[pieces["kind"] == "unplanned"].reset_index(drop=True)
    pairs = unplanned.reset_index().merge(planned, on="service", suffixes=("", "_planned"))
    pairs = pairs[
        (pairs["counted_from_planned"] < pairs["piece_end"])
        & (pairs["end_at_planned"] > pairs["piece_begin"])
    ]
    overlap = (
        _earlier(pairs["piece_end"], pairs["end_at_planned"])
        - _later(pairs["piece_begin"], pairs["counted_from_planned"])
    ).dt.total_seconds()
    covered = overlap.groupby(pairs["index"]).sum()
    unplanned_seconds = (unplanned["piece_end"] - unplanned["piece_begin"]).dt.total_seconds()
    unplanned["minutes"] = (unplanned_seconds - covered.reindex(unplanned.index).fillna(0)) / 60
    planned_pieces = pieces[pieces["kind"] == "planned"].assign(
        minutes=lambda p: (p["piece_end"] - p["piece_begin"]).dt.total_seconds() / 60
    )
    minutes = pd.concat([planned_pieces, unplanned], ignore_index=True)
    return minutes[minutes["minutes"] > 0]


def _service_availability(
    outages: pd.DataFrame, incidents: pd.DataFrame, as_of: pd.Timestamp, timezone: str
) -> list:
    """Available over agreed minutes (less planned maintenance) of the committed services, and the
    lowest service of each period."""
    days = _service_days(outages, incidents, as_of, timezone)
    outages = outages[outages["service"].notna() & outages["begin_at"].notna()]
    pieces = _outage_pieces(outages, days, as_of, timezone)
    agreed = (days["day_end"] - days["day_begin"]).dt.total_seconds() / 60
    planned = pieces["kind"] == "planned"
    minutes = pd.concat(
        [
            pd.DataFrame(
                {
                    "service": days["service"],
                    "local_day": days["local_day"],
                    "num": agreed,
                    "den": agreed,
                    "service_day": 1,
                }
            ),
            pd.DataFrame(
                {
                    "service": pieces["service"],
                    "local_day": pieces["local_day"],
                    "num": -pieces["minutes"],
                    "den": -pieces["minutes"].where(planned, 0.0),
                    "service_day": 0,
                }
            ),
        ],
        ignore_index=True,
    )
    availability = _aggregate(
        minutes,
        ("service",),
        {"service_availability": lambda grouped: grouped["num"].sum() / grouped["den"].sum() * 100},
        lambda grouped: grouped["service_day"].sum(),
    )
    by_service = availability[availability["dimension"] == "service"]
    by_period = by_service.groupby(["grain", "period_start"])["value"]
    # n: the services compared, as ours counts them (not one whose time was all maintenance).
    worst = pd.DataFrame({"value": by_period.min(), "n": by_period.count()}).reset_index()
    worst = worst.assign(
        metric_id="service_availability_worst", dimension="all", dimension_value="all"
    )
    return [availability, worst]


def compute(tables: dict[str, pd.DataFrame], as_of: datetime, timezone: str) -> pd.DataFrame:
    """Every KPI of the reference as one long frame: KEY columns, value, n."""
    as_of = pd.Timestamp(as_of)
    as_of_local = as_of.tz_convert(timezone).tz_localize(None)
    # An instant at or before as_of is never on a later local day, so this one cut-off suffices
    # (but for a survey answer's date, which _survey_kpis also cuts at as_of's day).
    incidents, requests = tables["incidents"], tables["requests"]
    frames = [
        *_incident_kpis(incidents, as_of, timezone),
        _sla_attainment(tables["sla_records"], incidents, as_of, timezone),
        _self_service_adoption(incidents, requests, as_of, timezone),
        _request_fulfillment_time(requests, as_of, timezone),
        *_change_kpis(tables["changes"], incidents, as_of, as_of_local, timezone),
        *_cost_kpis(tables["costs"], as_of, timezone),
        _cost_per_ticket(tables["measures"], incidents, requests, as_of, timezone),
        *_measure_kpis(tables["measures"]),
        *_survey_kpis(tables["survey_responses"], as_of, timezone),
        *_service_availability(tables["outages"], incidents, as_of, timezone),
    ]
    return pd.concat(frames, ignore_index=True)[[*KEY, "value", "n"]]


def sql_values(con, metric_ids: list[str]) -> pd.DataFrame:
    """kpi.metric_values of these metrics, NULL values (with their reason) included."""
    placeholders = ", ".join("?" for _ in metric_ids)
    return con.execute(
        f"SELECT {', '.join(KEY)}, value, n FROM kpi.metric_values "
        f"WHERE metric_id IN ({placeholders})",
        metric_ids,
    ).df()


def _near(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).abs() <= 1e-6 * b.abs().clip(lower=1)


def compare(ours: pd.DataFrame, sql: pd.DataFrame) -> dict[str, dict]:
    """Per metric: values (and n) compared with kpi.metric_values, and the keys one side lacks.

    A SQL value is NULL below its minimum n, or where its inputs do not cover the period (the
    running period of a KPI of manual inputs); those keys are counted, not compared. SQL's
    dimension 'all' has a row for every period, also those without records, which pandas never
    sees: those are `sql_only`.
    """
    ours = ours.assign(period_start=pd.to_datetime(ours["period_start"]).astype("datetime64[ns]"))
    sql = sql.assign(period_start=pd.to_datetime(sql["period_start"]).astype("datetime64[ns]"))
    joined = ours.merge(sql, on=KEY, how="outer", suffixes=("", "_sql"), indicator=True)
    checks = {}
    for metric_id, rows in joined.groupby("metric_id"):
        both = rows[(rows["_merge"] == "both") & rows["value_sql"].notna()]
        value_diff = (both["value"] - both["value_sql"]).abs()
        n_diff = (both["n"] - both["n_sql"]).abs()
        checks[metric_id] = {
            "compared": len(both),
            "equal": int(_near(both["value"], both["value_sql"]).sum()),
            "max_abs_diff": float(value_diff.max()) if len(both) else None,
            "n_equal": int((n_diff == 0).sum()),
            "n_max_abs_diff": float(n_diff.max()) if len(both) else None,
            "sql_null": int(((rows["_merge"] == "both") & rows["value_sql"].isna()).sum()),
            "pandas_only": int((rows["_merge"] == "left_only").sum()),
            "sql_only": int(((rows["_merge"] == "right_only") & rows["value_sql"].notna()).sum()),
        }
    return checks
