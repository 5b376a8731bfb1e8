"""Deterministic Freshservice tickets and changes for the emulator, over several months.

Most records are older than the API's default 30-day window, so a connector that forgets
`updated_since` on its first load visibly misses them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

CATEGORIES = ("Hardware", "Software", "Network", None)
# The agent groups the sample tickets name by group_id, as the demo's other sources name teams.
GROUPS = {1001: "Service Desk", 1002: "Network Ops"}


def sample_tickets(as_of: datetime, count: int, seed: int = 5, days: int = 120) -> list[dict]:
    """Incidents and service requests created over the `days` before `as_of`."""
    rng = random.Random(seed)
    tickets = []
    for n in range(1, count + 1):
        created = as_of - timedelta(seconds=rng.randrange(3600, days * 86400))
        status = rng.choice((2, 3, 4, 4, 5, 5, 5))
        resolved = created + timedelta(minutes=rng.randrange(5, 5000)) if status >= 4 else None
        resolved = min(resolved, as_of) if resolved else None
        closed = min(as_of, resolved + timedelta(hours=24)) if status == 5 and resolved else None
        updated = max(x for x in (created, resolved, closed) if x is not None)
        tickets.append(
            {
                "id": n,
                "subject": f"Ticket {n}",
                "type": rng.choice(("Incident", "Incident", "Service Request")),
                "status": status,
                "priority": rng.randint(1, 4),
                "source": rng.choice((1, 2, 3, 4, 9, 10)),
                "category": rng.choice(CATEGORIES),
                "group_id": rng.choice((None, 1001, 1002)),
                "created_at": created,
                "updated_at": updated,
                "due_by": created + timedelta(hours=8),
                "fr_due_by": created + timedelta(hours=1),
                "resolved_at": resolved,
                "closed_at": closed,
                "first_responded_at": created + timedelta(minutes=rng.randrange(1, 120)),
            }
        )
    return tickets


def sample_changes(as_of: datetime, count: int, seed: int = 6, days: int = 120) -> list[dict]:
    """Changes of every type, risk and status created over the `days` before `as_of`."""
    rng = random.Random(seed)
    changes: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        created = as_of - timedelta(seconds=rng.randrange(3600, days * 86400))
        start = created + timedelta(days=rng.randrange(1, 10))
        changes.append(
            {
                "id": n,
                "subject": f"Change {n}",
                "status": rng.randint(1, 6),
                "change_type": rng.randint(1, 4),
                "risk": rng.randint(1, 4),
                "impact": rng.randint(1, 3),
                "created_at": created,
                "updated_at": min(as_of, created + timedelta(hours=rng.randrange(0, 48))),
                "planned_start_date": start,
                "planned_end_date": start + timedelta(hours=rng.randrange(1, 8)),
            }
        )
    return changes


def sample_groups(as_of: datetime) -> list[dict]:
    """The agent groups of GROUPS, as /api/v2/groups lists them."""
    created = as_of - timedelta(days=800)
    return [
        {
            "id": group_id,
            "name": name,
            "description": f"{name} agents",
            "unassigned_for": "30m",
            "business_hours_id": None,
            "escalate_to": None,
            "agent_ids": [],
            "restricted": False,
            "approval_required": False,
            "auto_ticket_assign": False,
            "created_at": created,
            "updated_at": created + timedelta(days=1),
        }
        for group_id, name in GROUPS.items()
    ]
