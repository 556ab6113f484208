"""`gui [Q] [K]`: open the examiner's workbench (PySide6, imported only when run)."""

from __future__ import annotations

from core.cli.runtime_options import add_runtime_options


def register(commands) -> None:
    parser = commands.add_parser("gui", help="open the workbench (the default without arguments)")
    parser.add_argument("q", nargs="?", help="questioned photo (Q)")
    parser.add_argument("k", nargs="?", help="reference photo (K)")
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument(
        "--calibration",
        metavar="none|demo|FILE",
        default=None,
        help="evidence calibration: none, the bundled DEMO one, or a lab calibration file "
        "(default: the last choice made in the window)",
    )
    parser.add_argument("--screenshot", metavar="PNG", help="save the window once it is ready")
    parser.add_argument(
        "--quit-after-ready", action="store_true", help="exit once the pair is shown"
    )
    add_runtime_options(parser)


def run(args) -> int:
    from gui.app import run_gui

    return run_gui(args)
