"""Deterministic PagerDuty incidents and services for the emulator: an on-call rota's weeks.

Incidents older than a few hours are resolved; the newest are still triggered or acknowledged,
as on a real account. Priorities are set on some incidents only (many accounts never use them).
`merge` merges one incident into another as an on-call engineer would.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from connectors.emulators.catalogue import SERVICES as CATALOGUE_SERVICES
from connectors.emulators.catalogue import TEAMS

SERVICES = [
    {"id": "PSVC001", "name": "Checkout API", "team": ("PTEAM01", "Payments")},
    {"id": "PSVC002", "name": "Email", "team": ("PTEAM02", "Messaging")},
    {"id": "PSVC003", "name": "VPN", "team": ("PTEAM03", "Network")},
]
OPEN_HOURS = 3


def sample_services(services: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Services as `/services` lists them."""
    return [
        {
            "id": s["id"],
            "type": "service",
            "name": s["name"],
            "summary": s["name"],
            "status": "active",
            "teams": [{"id": s["team"][0], "type": "team_reference", "summary": s["team"][1]}],
        }
        for s in services or SERVICES
    ]


def demo_services() -> list[dict[str, Any]]:
    """The demo organisation's services (connectors/emulators/catalogue.py) as PagerDuty has
    them, so on-call incidents and ServiceNow tickets meet on the same service names."""
    teams = {team: f"PTDEMO{n:02d}" for n, team in enumerate(TEAMS, 1)}
    return [
        {"id": f"PDEMO{n:03d}", "name": s.name, "team": (teams[s.team], s.team)}
        for n, s in enumerate(CATALOGUE_SERVICES, 1)
    ]


def sample_incidents(
    as_of: datetime,
    count: int,
    seed: int = 11,
    days: float = 30,
    services: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """`count` incidents created over the `days` before `as_of` (UTC datetimes), on `services`
    (default the sample account's SERVICES)."""
    services = services or SERVICES
    rng = random.Random(seed)
    span = int(days * 86400)
    incidents = []
    for n in range(1, count + 1):
        created = as_of - timedelta(seconds=rng.randrange(1, span))
        service = rng.choice(services)
        if as_of - created < timedelta(hours=OPEN_HOURS):
            status = rng.choice(("triggered", "acknowledged", "resolved"))
        else:
            status = "resolved"
        resolved = None
        if status == "resolved":
            resolved = min(as_of, created + timedelta(minutes=rng.randrange(1, 600)))
        changed = resolved or min(as_of, created + timedelta(minutes=rng.randrange(0, 30)))
        incidents.append(
            {
                "id": f"Q{n:07d}",
                "number": n,
                "title": f"{service['name']} alert {n}",
                "status": status,
                "urgency": rng.choice(("high", "high", "low")),
                "priority": rng.choice((None, None, 1, 2, 3, 4, 5)),
                "created_at": created,
                "updated_at": changed,
                "last_status_change_at": changed,
                "resolved_at": resolved,
                "service": {"id": service["id"], "name": service["name"]},
                "teams": [{"id": service["team"][0], "name": service["team"][1]}],
            }
        )
    return incidents


def merge(incident: dict[str, Any], into: dict[str, Any], at: datetime) -> None:
    """Merge `incident` into `into` at `at` as PagerDuty does: `incident` is resolved then and
    names `into` (`merged_into`); `into`, which now holds its alerts, is left as it was."""
    incident.update(
        status="resolved",
        resolved_at=at,
        updated_at=at,
        last_status_change_at=at,
        merged_into=into["id"],
    )
