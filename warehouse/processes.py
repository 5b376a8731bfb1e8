"""Whether a process still runs, told apart from a later process that got its pid."""

from __future__ import annotations

import os
from pathlib import Path


def process_identity(pid: int) -> str:
    """`pid:start time` where /proc tells the start time, so a reused pid is not mistaken."""
    started = _start_time(pid)
    return f"{pid}:{started}" if started else str(pid)


def is_running(identity: str) -> bool:
    pid_text, _, started = identity.partition(":")
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    if _is_zombie(pid):
        return False
    return not started or _start_time(pid) == started


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    return text[text.rindex(")") + 2 :].split()


def _start_time(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields else None


def _is_zombie(pid: int) -> bool:
    fields = _proc_stat(pid)
    return bool(fields) and fields[0] == "Z"
