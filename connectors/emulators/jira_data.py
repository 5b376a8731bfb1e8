"""Deterministic Jira Service Management issues for the emulator: a service desk's recent weeks.

Incidents, service requests and changes (and a few software tasks that are none of them), in
every status category, with SLA cycles met, breached and still running. Times are UTC inside;
the emulator renders them in the account's zone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
COMPONENTS = ("Email", "VPN", "Payroll", "Laptops", "")
# (status, category, resolution) an issue of each type can end up in.
OUTCOMES = {
    "Incident": [
        ("Open", "new", None),
        ("In Progress", "indeterminate", None),
        ("Pending", "indeterminate", None),
        ("Resolved", "done", "Done"),
        ("Closed", "done", "Done"),
        ("Canceled", "done", "Won't Do"),
    ],
    "Service Request": [
        ("Waiting for support", "new", None),
        ("In Progress", "indeterminate", None),
        ("Resolved", "done", "Done"),
        ("Closed", "done", "Done"),
        ("Declined", "done", "Declined"),
    ],
    "Change": [
        ("Planning", "new", None),
        ("Implementing", "indeterminate", None),
        ("Completed", "done", "Done"),
        ("Completed", "done", "Failed"),
        ("Completed", "done", "Backed out"),
        ("Canceled", "done", "Declined"),
    ],
    "Task": [("To Do", "new", None), ("Done", "done", "Done")],
}
SLA_GOALS = {
    "Incident": (("Time to first response", 1), ("Time to resolution", 8)),
    "Service Request": (("Time to resolution", 24),),
}


def sample_issues(as_of: datetime, count: int, seed: int = 7, days: int = 60) -> list[dict]:
    """`count` issues created over the `days` before `as_of`, all updated by `as_of`."""
    rng = random.Random(seed)
    issues = []
    types = ("Incident",) * 5 + ("Service Request",) * 3 + ("Change",) * 2 + ("Task",)
    for n in range(1, count + 1):
        kind = rng.choice(types)
        created = as_of - timedelta(days=days) + timedelta(seconds=rng.randrange(days * 86400))
        created = created.replace(microsecond=rng.randrange(1000) * 1000)
        status, category, resolution = rng.choice(OUTCOMES[kind])
        resolved = None
        if category == "done":
            resolved = min(as_of, created + timedelta(minutes=rng.randrange(10, 3000)))
        updated = min(as_of, (resolved or created) + timedelta(minutes=rng.randrange(0, 600)))
        issue: dict[str, Any] = {
            "id": str(10000 + n),
            "key": f"ITSM-{n}",
            "project": "ITSM",
            "type": kind,
            "created": created,
            "updated": updated,
            "resolved": resolved,
            "priority": rng.choice(PRIORITIES),
            "status": status,
            "category": category,
            "resolution": resolution,
            "components": [c for c in (rng.choice(COMPONENTS),) if c],
        }
        if kind != "Task":  # a service desk request, with SLAs or none; a task is not one
            issue["slas"] = [
                _sla(name, created, resolved, timedelta(hours=hours), rng)
                for name, hours in SLA_GOALS.get(kind, ())
            ]
        issues.append(issue)
    return issues


def _sla(
    name: str, start: datetime, stop: datetime | None, goal: timedelta, rng: random.Random
) -> dict[str, Any]:
    """One SLA with a completed cycle once the issue is done, else a running one."""
    if stop is None:
        return {"name": name, "completed": [], "ongoing": {"start": start, "goal": goal}}
    cycle = {"start": start, "stop": stop, "goal": goal, "breached": stop - start > goal}
    return (
        {"name": name, "completed": [cycle], "ongoing": None}
        if rng.random() < 0.95
        else {
            "name": name,
            "completed": [],
            "ongoing": {"start": start, "goal": goal, "paused": True},
        }
    )
