"""Demo cloud costs: one deterministic daily cost generator, and FOCUS files for the demo.

Each provider's spend appears in exactly one demo source so nothing is counted twice: AWS through
the Cost Explorer emulator, Azure through the Cost Management emulator, Google Cloud through the
FOCUS files written here. Every provider has cost lines tagged with a catalogue service, some
untagged lines (so allocation coverage stays below 100%) and one credit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.emulators.catalogue import SERVICES, history_start, seasonal_load


@dataclass(frozen=True)
class CostLine:
    """A provider service billed every day, tagged with a catalogue service or untagged (None)."""

    cloud_service: str
    business_service: str | None
    daily_base: float


@dataclass(frozen=True)
class DailyCost:
    day: date
    cloud_service: str
    business_service: str | None
    amount: Decimal


def _business(name: str) -> str:
    if name not in {s.name for s in SERVICES}:
        raise ValueError(f"{name!r} is not a catalogue service")
    return name


AWS_LINES = (
    CostLine("Amazon Elastic Compute Cloud - Compute", _business("Customer Portal"), 180.0),
    CostLine("Amazon Simple Storage Service", _business("Customer Portal"), 35.0),
    CostLine("Amazon Relational Database Service", _business("Payroll"), 60.0),
    CostLine("AWS Lambda", _business("Identity"), 12.0),
    CostLine("Amazon Elastic Compute Cloud - Compute", None, 40.0),
)
AZURE_LINES = (
    CostLine("Virtual Machines", _business("VPN"), 55.0),
    CostLine("Azure Active Directory", _business("Identity"), 20.0),
    CostLine("Storage", _business("Email"), 25.0),
    CostLine("Bandwidth", None, 9.0),
)
GCP_LINES = (
    CostLine("BigQuery", _business("Data Warehouse"), 90.0),
    CostLine("Cloud Storage", _business("Data Warehouse"), 22.0),
    CostLine("Compute Engine", None, 15.0),
)
CREDIT_DAY_OF_MONTH = 15
CREDIT = Decimal("250.00")


def daily_cloud_costs(lines: tuple[CostLine, ...], as_of: datetime, seed: str) -> list[DailyCost]:
    """Cents-exact daily costs from history_start to the day before as_of, plus one credit."""
    first = history_start(as_of).date()
    last = as_of.date()
    costs = []
    day = first
    while day < last:
        for index, line in enumerate(lines):
            digest = hashlib.sha256(f"{seed}|{day}|{index}".encode()).digest()
            noise = 0.85 + 0.3 * (digest[0] / 255)
            weight = 0.6 + 0.4 * seasonal_load(day)
            amount = Decimal(str(round(line.daily_base * weight * noise, 2)))
            costs.append(DailyCost(day, line.cloud_service, line.business_service, amount))
        day += timedelta(days=1)
    credit_day = _credit_day(first, last)
    credited = lines[0]
    costs.append(DailyCost(credit_day, credited.cloud_service, credited.business_service, -CREDIT))
    return costs


def _credit_day(first: date, last: date) -> date:
    """The 15th of the month before last's month: inside the history, never today."""
    month_start = date(last.year, last.month, 1) - timedelta(days=1)
    candidate = date(month_start.year, month_start.month, CREDIT_DAY_OF_MONTH)
    return max(candidate, first)


def merge_by_day(costs: list[DailyCost]) -> dict[tuple[date, str, str | None], Decimal]:
    """Sum lines that share day, cloud service and tag (APIs report them as one group)."""
    merged: dict[tuple[date, str, str | None], Decimal] = {}
    for cost in costs:
        key = (cost.day, cost.cloud_service, cost.business_service)
        merged[key] = merged.get(key, Decimal("0")) + cost.amount
    return merged


def groups_between(
    costs: dict[tuple[date, str, str | None], Decimal], first: date, end: date
) -> list[tuple[date, str, str | None, Decimal]]:
    """The merged costs of days [first, end) in the order the cost APIs page them: by day,
    then cloud service, then tag (untagged first)."""
    return sorted(
        (
            (day, service, business, amount)
            for (day, service, business), amount in costs.items()
            if first <= day < end
        ),
        key=lambda group: (group[0], group[1], group[2] or ""),
    )


def _cost_centre(service: str | None) -> str | None:
    return next((s.cost_centre for s in SERVICES if s.name == service), None)


def focus_table(costs: list[DailyCost]) -> pa.Table:
    """FOCUS 1.0 columns for Google Cloud line items (credits as ChargeCategory Credit)."""
    rows: dict[str, list] = {name: [] for name in _FOCUS_FIELDS}
    for cost in costs:
        month = date(cost.day.year, cost.day.month, 1)
        next_month = (month + timedelta(days=32)).replace(day=1)
        tags = None
        if cost.business_service:
            tags = json.dumps(
                {
                    "service": cost.business_service,
                    "cost_centre": _cost_centre(cost.business_service),
                }
            )
        category = "Credit" if cost.amount < 0 else "Usage"
        values = {
            "BilledCost": str(cost.amount),
            "EffectiveCost": str(cost.amount),
            "ListCost": str(cost.amount),
            "ContractedCost": str(cost.amount),
            "BillingPeriodStart": f"{month} 00:00:00",
            "BillingPeriodEnd": f"{next_month} 00:00:00",
            "ChargePeriodStart": f"{cost.day} 00:00:00",
            "ChargePeriodEnd": f"{cost.day + timedelta(days=1)} 00:00:00",
            "BillingCurrency": "USD",
            "BillingAccountId": "demo-billing-0001",
            "BillingAccountName": "Demo Organisation",
            "ChargeCategory": category,
            "ChargeDescription": f"{cost.cloud_service} daily charge",
            "ServiceCategory": _GCP_CATEGORIES[cost.cloud_service],
            "ServiceName": cost.cloud_service,
            "ProviderName": "Google Cloud",
            "PublisherName": "Google Cloud",
            "InvoiceIssuerName": "Google Cloud",
            "SubAccountId": "demo-project",
            "RegionId": "europe-west1",
            "Tags": tags,
        }
        for name in _FOCUS_FIELDS:
            rows[name].append(values[name])
    return pa.table({name: pa.array(values, pa.string()) for name, values in rows.items()})


_GCP_CATEGORIES = {"BigQuery": "Analytics", "Cloud Storage": "Storage", "Compute Engine": "Compute"}
_FOCUS_FIELDS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BillingCurrency",
    "BillingAccountId",
    "BillingAccountName",
    "ChargeCategory",
    "ChargeDescription",
    "ServiceCategory",
    "ServiceName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "SubAccountId",
    "RegionId",
    "Tags",
)


def write_focus_files(costs: list[DailyCost], folder: Path) -> list[Path]:
    """One gzipped FOCUS CSV per billing month, as providers export them."""
    folder.mkdir(parents=True, exist_ok=True)
    table = focus_table(costs)
    con = duckdb.connect()
    try:
        con.register("demo_focus", table)
        months = con.execute(
            "SELECT DISTINCT left(BillingPeriodStart, 7) FROM demo_focus ORDER BY 1"
        ).fetchall()
        paths = []
        for (month,) in months:
            path = folder / f"gcp-focus-{month}.csv.gz"
            target = str(path).replace("'", "''")
            con.execute(
                f"COPY (SELECT * FROM demo_focus WHERE left(BillingPeriodStart, 7) = '{month}') "
                f"TO '{target}' (HEADER, COMPRESSION gzip)"
            )
            paths.append(path)
        return paths
    finally:
        con.close()


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Write the Google Cloud FOCUS files for the demo; nothing runs, so stop does nothing."""
    folder = Path(workdir) / "focus"
    write_focus_files(daily_cloud_costs(GCP_LINES, as_of, "gcp"), folder)
    return {"FOCUS_PATHS": str(folder / "*.csv.gz")}, lambda: None
