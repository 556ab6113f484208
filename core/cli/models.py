"""`models`: list the recognition models and detectors with their provenance."""

from __future__ import annotations

from core.atomic_write import write_json_atomically
from core.cli.runtime_options import add_runtime_options


def register(commands) -> None:
    parser = commands.add_parser("models", help="list models and detectors with provenance")
    parser.add_argument("--json", metavar="OUT", help="also write the listing as JSON")
    add_runtime_options(parser)


def run(args) -> int:
    from core.cli.printing import print_models
    from core.inventory import inventory

    listing = inventory(args)
    print_models(listing)
    if args.json:
        write_json_atomically(args.json, listing)
    return 0
