"""Stage one core table in its own process and SIGKILL it just before its transaction commits.

`python -m tests.faults.stager WAREHOUSE SOURCE TABLE` opens the warehouse, runs the real
transforms/staging.py `stage`, and kills itself at the moment warehouse/transaction.py is about
to send COMMIT: the restaged rows and the new fingerprint are written but not committed, as
when the machine dies at the worst time. It prints "committing" first, so the test knows the
restage itself ran.
"""

from __future__ import annotations

import inspect
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from transforms.staging import stage
from warehouse import Warehouse
from warehouse.transaction import transaction


def _commit_line() -> int:
    lines, first = inspect.getsourcelines(transaction.__wrapped__)
    return first + next(n for n, line in enumerate(lines) if '"COMMIT"' in line)


def kill_before_commit() -> None:
    """From now on, the first COMMIT a transaction block sends kills this process instead."""
    code, line = transaction.__wrapped__.__code__, _commit_line()

    def at_line(frame: FrameType, event: str, arg: Any) -> Callable | None:
        if event == "line" and frame.f_lineno == line:
            print("committing", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return at_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Callable | None:
        return at_line if frame.f_code is code else None

    sys.settrace(on_call)


def main() -> None:
    path, source, table = sys.argv[1:4]
    with Warehouse.at(path).connect() as con:
        kill_before_commit()
        stage(con, source, table)
    print("committed", flush=True)


if __name__ == "__main__":
    main()
