"""The signed colour maps as pyqtgraph ColorMaps, from core/signed_colormap.py's tables.

The names shown in the map panel map to core's tables, so the grid, the
overlays, the CLI's overlays and the PDF draw a value in the same colour.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core.signed_colormap import DEFAULT_TABLE, TABLES, signed_rgba, symmetric_limit, table

# name shown -> core.signed_colormap table
DIVERGING = {shown: name for name, shown in TABLES.items()}
DEFAULT_DIVERGING = TABLES[DEFAULT_TABLE]

__all__ = ["DEFAULT_DIVERGING", "DIVERGING", "colormap", "overlay_rgba", "symmetric_limit"]


def table_name(name: str) -> str:
    return DIVERGING.get(name, DEFAULT_TABLE)


def colormap(name: str) -> pg.ColorMap:
    """core's table as a pyqtgraph ColorMap (256 stops, exactly the same colours)."""
    colours = table(table_name(name))
    return pg.ColorMap(np.linspace(0.0, 1.0, len(colours)), colours)


def overlay_rgba(values: np.ndarray, name: str, opacity: float, limit=None) -> np.ndarray:
    """H x W x 4 uint8: `values` on the 0-centred scale, alpha ~ |value|; NaN transparent."""
    return np.ascontiguousarray(signed_rgba(values, opacity, limit, table_name(name)))


def sign_colours(name: str) -> tuple:
    """(positive, negative) colours of a diverging map, for bars beside the heatmap."""
    cmap = colormap(name)
    return cmap.map(0.9, mode="qcolor"), cmap.map(0.1, mode="qcolor")
