"""Where the bundled resources (models, fonts, calibrations, configs) are.

From source they sit in `resources/` at the repository root; in the desktop
bundle built by packaging/build_app.sh, PyInstaller unpacks them under
`sys._MEIPASS/resources` (docs/packaging.md). Every module that reads a bundled
file takes its path from `RESOURCES_DIR`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def application_root() -> Path:
    """The folder holding `resources/`: the bundle's data folder when frozen, else the repo."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else Path(__file__).resolve().parents[1]


def is_frozen() -> bool:
    """True inside the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


RESOURCES_DIR = application_root() / "resources"
