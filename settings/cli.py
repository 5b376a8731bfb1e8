"""`itsm-scorecard`: check the configuration, or serve the demo emulators for exploration."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from settings.config import ConfigError, enabled_sources, load_settings


def check_config(path: str | None) -> int:
    try:
        settings = load_settings(path)
        sources = enabled_sources(settings)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    print(
        f"configuration OK: sources {', '.join(sources)}; calendar {settings.calendar.timezone} "
        f"(weeks start {settings.calendar.week_start}); schedule '{settings.schedule.cron}' "
        f"{settings.schedule_timezone}; {len(settings.metrics)} metrics configured"
    )
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
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return check_config(args.path)
    return serve_demo(args.workdir)


if __name__ == "__main__":
    sys.exit(main())
