"""One module per CLI subcommand. Each has `register(subparsers)` and `run(args) -> int`.

core/cli.py lists them in COMMAND_MODULES; a new command is a new module plus one
line there.
"""
