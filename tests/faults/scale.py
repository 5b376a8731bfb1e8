"""How hard the fault suite pushes: `small` in every test run, `full` for a long soak.

SCORECARD_FAULT_SCALE=full (or `benchmarks/run --faults`) turns the same tests into an
enterprise-sized run; nothing else about them changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultScale:
    name: str
    # A burst of records updated within `burst_seconds`, read by keyset paging: at small scale
    # all in one second (the hardest case for paging), at full scale a million in one day.
    burst_records: int
    burst_seconds: int
    # Peak resident memory the loading process may reach while reading them: DuckDB's 512MB
    # cache plus the pages in flight (read-ahead holds up to three pages of 10,000: one landing,
    # one waiting, one being read), whatever the number of records.
    loader_rss_limit_mb: int
    # Records per page of the killed loads: smaller pages, more places to be killed.
    kill_page_size: int


SCALES = {
    "small": FaultScale("small", 20_000, 1, 1_500, 50),
    "full": FaultScale("full", 1_000_000, 86_400, 1_500, 200),
}


def fault_scale() -> FaultScale:
    """The scale named by SCORECARD_FAULT_SCALE (default small); an unknown name is an error."""
    name = os.environ.get("SCORECARD_FAULT_SCALE", "small").strip().lower() or "small"
    if name not in SCALES:
        raise ValueError(f"SCORECARD_FAULT_SCALE={name!r} must be one of {', '.join(SCALES)}")
    return SCALES[name]
