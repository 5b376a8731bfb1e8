"""Large instances computed on demand, for benchmarks; run one as its own process.

`python -m connectors.emulators.servicenow_bulk COUNT [SEED]` serves an enterprise-shaped
instance of COUNT incidents on loopback, prints its URL on the first line of stdout and runs
until stdin closes, so the benchmark measures the client's memory, not the emulator's. A line
`change FRACTION` on stdin updates that fraction of the incidents (as a day's work would) and
answers `changed N`.

`bulk_tables` is the older, uniform shape (a few records a second from 2024-01-01) that tests
use to pack many records into one second.
"""

from __future__ import annotations

import bisect
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.emulators.catalogue import SERVICES, TEAMS
from connectors.emulators.servicenow import Credentials, serve
from connectors.emulators.servicenow_demo import sys_id
from connectors.emulators.servicenow_tables import (
    SCHEMAS,
    TIME_FORMAT,
    GeneratedTable,
    MemoryTable,
    Record,
    TableSchema,
    updated_bound,
)

CREDENTIALS = Credentials("bench", "bench-only-password")
_CREATED = "2020-01-01 00:00:00"
ENTERPRISE_SEED = 13
ENTERPRISE_SERVICES = 5_000
ENTERPRISE_GROUPS = 500
HISTORY_START = datetime(2023, 1, 1, tzinfo=UTC)
HISTORY = timedelta(days=3 * 365)
# Service ranks weigh 1 / rank^SKEW: with 5,000 services the top 50 get about half the tickets.
SKEW = 1.1


def bulk_tables(count: int) -> dict[str, GeneratedTable | MemoryTable]:
    """`count` incidents made on request, their groups and services, and empty other tables."""
    groups = [sys_id("group", team) for team in TEAMS]
    services = [sys_id("service", service.name) for service in SERVICES]
    incidents = GeneratedTable(SCHEMAS["incident"], count, make=lambda index: {})

    def make(index: int) -> Record:
        updated = incidents.updated_on(index)
        opened = incidents.start + timedelta(seconds=index // incidents.per_second - 86400)
        priority = 1 + index * 7 % 5
        return {
            "sys_id": f"{index:032x}",
            "number": f"INC{index:09d}",
            "sys_updated_on": updated,
            "sys_created_on": opened.strftime(TIME_FORMAT),
            "state": "7" if index % 10 else "2",
            "priority": str(priority),
            "opened_at": opened.strftime(TIME_FORMAT),
            "resolved_at": (opened + timedelta(hours=priority * 5)).strftime(TIME_FORMAT),
            "closed_at": updated if index % 10 else "",
            "category": "software",
            "assignment_group": groups[index % len(groups)],
            "business_service": services[index % len(services)],
            "cmdb_ci": "",
            "contact_type": ("phone", "email", "self-service")[index % 3],
            "caused_by": "",
            "rfc": "",
            "reopen_count": "0",
            "reassignment_count": str(index % 3),
            "made_sla": "true" if index % 7 else "false",
            "close_code": "Solved (Permanently)",
        }

    incidents.make = make
    base = {"sys_created_on": _CREATED, "sys_updated_on": _CREATED}
    return {
        "incident": incidents,
        "sys_user_group": MemoryTable.of(
            "sys_user_group",
            [{**base, "sys_id": sys_id("group", t), "name": t} for t in TEAMS],
        ),
        "cmdb_ci_service": MemoryTable.of(
            "cmdb_ci_service",
            [{**base, "sys_id": sys_id("service", s.name), "name": s.name} for s in SERVICES],
        ),
        **_empty_task_tables(),
    }


def _empty_task_tables() -> dict[str, MemoryTable]:
    return {
        name: MemoryTable.of(name)
        for name in ("change_request", "sc_req_item", "task_sla", "cmdb_ci_outage")
    }


def _mix(*numbers: int) -> int:
    """A well-spread 64-bit hash of integers (splitmix64 steps): the same inputs, the same value."""
    value = 0x9E3779B97F4A7C15
    for number in numbers:
        value = (value ^ number) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        value = (value ^ (value >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        value ^= value >> 31
    return value


def _skewed_ranks(count: int) -> list[float]:
    """Cumulative weights of `count` ranks weighing 1 / rank^SKEW, ending at 1.0."""
    cumulative, total = [], 0.0
    for rank in range(1, count + 1):
        total += rank**-SKEW
        cumulative.append(total)
    return [c / total for c in cumulative]


@dataclass
class EnterpriseIncidents:
    """`count` incidents over three years, on skewed services and groups, made on request.

    Incident i was last updated at HISTORY_START + i x HISTORY / count, so the natural
    (sys_updated_on, sys_id) order is the index order and a scan from any time starts at its
    page. Incidents changed since (`change`) move to the end of that order, at the change time.
    """

    count: int
    seed: int
    services: list[str]
    groups: list[str]
    schema: TableSchema = field(default_factory=lambda: SCHEMAS["incident"])
    changed: dict[int, Record] = field(default_factory=dict)
    _service_weights: list[float] = field(default_factory=list)
    _group_weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._service_weights = _skewed_ranks(len(self.services))
        self._group_weights = _skewed_ranks(len(self.groups))
        self._step = HISTORY.total_seconds() / max(self.count, 1)

    def updated_on(self, index: int) -> str:
        return (HISTORY_START + timedelta(seconds=int(index * self._step))).strftime(TIME_FORMAT)

    def make(self, index: int) -> Record:
        draw = _mix(self.seed, index)
        service = bisect.bisect_left(self._service_weights, (draw & 0xFFFFFF) / 0x1000000)
        group = bisect.bisect_left(self._group_weights, (draw >> 24 & 0xFFFFFF) / 0x1000000)
        priority = 1 + (draw >> 48) % 5
        updated = HISTORY_START + timedelta(seconds=int(index * self._step))
        opened = updated - timedelta(hours=1 + (draw >> 52) % 240)
        open_now = (draw >> 8) % 20 == 0
        return {
            "sys_id": f"{index:032x}",
            "number": f"INC{index:09d}",
            "sys_updated_on": updated.strftime(TIME_FORMAT),
            "sys_created_on": opened.strftime(TIME_FORMAT),
            "sys_mod_count": "3",
            "state": "2" if open_now else "7",
            "priority": str(priority),
            "opened_at": opened.strftime(TIME_FORMAT),
            "resolved_at": "" if open_now else updated.strftime(TIME_FORMAT),
            "closed_at": "" if open_now else updated.strftime(TIME_FORMAT),
            "category": ("software", "hardware", "network", "access")[draw % 4],
            "assignment_group": self.groups[min(group, len(self.groups) - 1)],
            "business_service": self.services[min(service, len(self.services) - 1)],
            "cmdb_ci": self.services[min(service, len(self.services) - 1)],
            "contact_type": ("phone", "email", "self-service", "chat")[(draw >> 4) % 4],
            "caused_by": "",
            "rfc": "",
            "reopen_count": "1" if draw % 50 == 0 else "0",
            "reassignment_count": str((draw >> 12) % 4),
            "made_sla": "false" if draw % 9 == 0 else "true",
            "close_code": "" if open_now else "Solved (Permanently)",
        }

    def get(self, sys_id: str) -> Record | None:
        try:
            index = int(sys_id, 16)
        except ValueError:
            return None
        if index in self.changed:
            return self.changed[index]
        return self.make(index) if 0 <= index < self.count else None

    def scan(self, updated_from: str | None = None) -> Iterator[Record]:
        first = 0
        if updated_from:
            bound = updated_bound(updated_from, HISTORY_START)
            # One record early: the index -> time mapping rounds down.
            first = max(0, int((bound - HISTORY_START).total_seconds() / self._step) - 1)
        for index in range(first, self.count):
            if index not in self.changed:
                yield self.make(index)
        changed = sorted(self.changed.values(), key=lambda r: (r["sys_updated_on"], r["sys_id"]))
        yield from changed

    def change(self, fraction: float, now: datetime | None = None) -> int:
        """Update `fraction` of the incidents (seeded choice): reassigned once more, at `now`."""
        end = HISTORY_START + HISTORY
        moment = max(now or datetime.now(UTC), end + timedelta(seconds=1))
        stamp = moment.strftime(TIME_FORMAT)
        picked = random.Random(self.seed).sample(range(self.count), round(self.count * fraction))
        for index in picked:
            record = dict(self.changed.get(index) or self.make(index))
            record["reassignment_count"] = str(int(record["reassignment_count"]) + 1)
            record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)
            record["sys_updated_on"] = stamp
            self.changed[index] = record
        return len(picked)

    def __len__(self) -> int:
        return self.count


def enterprise_tables(
    count: int, seed: int = ENTERPRISE_SEED
) -> dict[str, EnterpriseIncidents | MemoryTable]:
    """An instance shaped like a large enterprise's: `count` incidents over three years, on
    5,000 services and 500 assignment groups where a few services get most tickets."""
    base = {"sys_created_on": _CREATED, "sys_updated_on": _CREATED}
    names = [f"Service {n:04d}" for n in range(ENTERPRISE_SERVICES)]
    teams = [f"Group {n:03d}" for n in range(ENTERPRISE_GROUPS)]
    # Ranks are shuffled by seed, so the busiest services are not the first ids.
    random.Random(seed).shuffle(names)
    random.Random(seed + 1).shuffle(teams)
    services = [sys_id("service", n) for n in names]
    groups = [sys_id("group", t) for t in teams]
    return {
        "incident": EnterpriseIncidents(count, seed, services, groups),
        "sys_user_group": MemoryTable.of(
            "sys_user_group",
            [{**base, "sys_id": sys_id("group", t), "name": t} for t in teams],
        ),
        "cmdb_ci_service": MemoryTable.of(
            "cmdb_ci_service",
            [{**base, "sys_id": sys_id("service", n), "name": n} for n in names],
        ),
        **_empty_task_tables(),
    }


@dataclass
class EmulatorProcess:
    """An enterprise instance served by its own process (see the module docstring)."""

    url: str
    process: subprocess.Popen

    def change(self, fraction: float) -> int:
        """Update that fraction of the incidents; returns how many changed."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"change {fraction}\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline().split()[1])


@contextmanager
def emulator_process(count: int) -> Iterator[EmulatorProcess]:
    """Serve `count` incidents from a child process until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, str(count)],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        yield EmulatorProcess(process.stdout.readline().strip(), process)
    finally:
        process.stdin.close()
        process.wait(timeout=60)


def main(argv: list[str]) -> None:
    seed = int(argv[1]) if len(argv) > 1 else ENTERPRISE_SEED
    tables = enterprise_tables(int(argv[0]), seed)
    server = serve(tables, CREDENTIALS)
    print(server.url, flush=True)
    for line in sys.stdin:
        command, _, value = line.strip().partition(" ")
        if command == "change":
            with server.api.lock:
                changed = tables["incident"].change(float(value))
            print(f"changed {changed}", flush=True)
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
