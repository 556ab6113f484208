"""The command-line interface: argparse, printing and one module per command.

`entry.py` builds the parser from COMMAND_MODULES; each command module has
`register(subparsers)` and `run(args) -> int`. This package is the only one
that imports argparse (an import-linter contract checks it).
"""

from core.cli.entry import build_parser, main

__all__ = ["build_parser", "main"]
