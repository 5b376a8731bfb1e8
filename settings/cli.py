"""`itsm-scorecard`: check the configuration, or serve the demo emulators for exploration."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from settings.preflight import preflight


def check_config(path: str | None) -> int:
    """Everything the nightly run would need, checked without calling a source; 2 on problems."""
    result = preflight(path)
    if not result.ok:
        print(result.report(), file=sys.stderr)
        return 2
    settings = result.settings
    assert settings is not None  # no problems means the definition loaded
    print(
        f"configuration OK: sources {', '.join(result.sources)}; calendar "
        f"{settings.calendar.timezone} (weeks start {settings.calendar.week_start}); schedule "
        f"'{settings.schedule.cron}' {settings.schedule_timezone}; "
        f"{len(settings.metrics)} metrics configured"
    )
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0


def serve_demo(workdir: str) -> int:
    from connectors.emulators.demo import running_demo

    with running_demo(Path(workdir)) as env:
        # Every value here belongs to the local emulators (fixed demo credentials included).
        for name, value in sorted(env.items()):
            print(f"export {name}={value}")
        print("demo emulators running; Ctrl-C to stop", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


def load_source(name: str, full_refresh: bool) -> int:
    """Progress shows as a bar on a terminal; a source error is one line, exit 1."""
    from connectors.http import SourceError
    from connectors.progress import show_progress_on_terminal
    from connectors.secrets import without_secrets
    from warehouse.load import load_source as land

    show_progress_on_terminal()
    try:
        result = land(name, full_refresh)
    except SourceError as exc:
        print(f"load failed: {without_secrets(str(exc), os.environ)}", file=sys.stderr)
        return 1
    print(f"{name}: {result.received} records received")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="itsm-scorecard")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-config", help="validate scorecard.yaml and the environment")
    check.add_argument(
        "path", nargs="?", help="config file (default: SCORECARD_CONFIG or scorecard.yaml)"
    )
    demo = commands.add_parser(
        "demo-emulators", help="serve the demo's source emulators on loopback"
    )
    demo.add_argument("--workdir", default="data/demo", help="folder for the demo's files")
    load = commands.add_parser(
        "load", help="land one configured source in the working warehouse, with progress"
    )
    load.add_argument("source", help="source name, e.g. servicenow")
    load.add_argument("--full-refresh", action="store_true", help="re-read everything")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return check_config(args.path)
    if args.command == "load":
        return load_source(args.source, args.full_refresh)
    return serve_demo(args.workdir)


if __name__ == "__main__":
    sys.exit(main())
