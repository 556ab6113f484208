"""The command-line interface: `python main.py <command> ...`.

Each command lives in core/cli/<name>.py. Exit codes (docs/cli.md):
0 success, 1 internal error, 2 bad usage, 3 unreadable image, 4 image too
large, 5 no face found, 6 face index out of range, 7 model not found or
broken, 8 detector unavailable, 9 case file fails verification or its signature,
10 calibration unusable (unreadable, wrong model, too few pairs), 11 cluster
unreachable or a chunk failed after retries, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from core import __version__
from core.errors import PatchwiseError

COMMAND_MODULES = (
    "core.cli.compare",
    "core.cli.evaluate",
    "core.cli.explain",
    "core.cli.explain_bench",
    "core.cli.models",
    "core.cli.train",
    "core.cli.distill",
    "core.cli.report",
    "core.cli.calibrate",
    "core.cli.validate",
    "core.cli.verify",
    "core.cli.keys",
    "core.cli.search",
    "core.cli.gui",
    "core.cli.notices",
)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Patchwise: forensic face comparison with exact explanations."
    )
    parser.add_argument("--version", action="version", version=f"Patchwise {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    runners = {}
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        before = set(commands.choices)
        module.register(commands)
        for name in set(commands.choices) - before:
            runners[name] = module.run
    return parser, runners


def main(argv: list[str] | None = None) -> int:
    parser, runners = build_parser()
    args = parser.parse_args(argv)
    try:
        return runners[args.command](args)
    except PatchwiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - last resort: report, never hide
        traceback.print_exc()
        print("error: internal error (a bug in Patchwise); the traceback is above", file=sys.stderr)
        return 1
