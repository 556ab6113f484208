"""Patchwise entry point. No arguments opens the workbench GUI; subcommands run the CLI
(see `python main.py --help`)."""

import sys

from core.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["gui"]))
