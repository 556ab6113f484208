"""The bundled DejaVu fonts (resources/fonts/), registered with reportlab and used by figures.

Bundled rather than taken from the system so that every name renders (DejaVu
covers Latin, Greek and Cyrillic in full) and a report looks the same on any
machine. See resources/fonts/README.md for their origin and license.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# Imported with this module rather than on first use, so that a report worker does not load
# native code (FreeType) while the GUI thread waits for the GIL (tests/test_gui_heartbeat.py).
from PIL import ImageFont
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from core.resource_paths import RESOURCES_DIR

FONTS_DIR = RESOURCES_DIR / "fonts"
FONT_FILES = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSansMono": "DejaVuSansMono.ttf",
}
REGULAR, BOLD, MONO = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"


def font_path(name: str) -> Path:
    path = FONTS_DIR / FONT_FILES[name]
    if not path.is_file():
        raise FileNotFoundError(f"bundled font missing: {path} (reinstall Patchwise)")
    return path


@cache
def register_fonts() -> None:
    """Register the three fonts (and the Sans family's bold) with reportlab, once."""

    for name in FONT_FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)


@cache
def pil_font(size: int, bold: bool = False):
    """A PIL TrueType font for text drawn inside figures."""

    return ImageFont.truetype(str(font_path(BOLD if bold else REGULAR)), size)
