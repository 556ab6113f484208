"""Colour maps for signed terms: diverging, centred on 0, with a colour-blind-safe choice."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

# name shown -> pyqtgraph's bundled CET map (Kovesi's perceptually uniform maps).
DIVERGING = {
    "blue-white-red (CET-D1)": "CET-D1",
    "colour-blind safe (CET-CBD1)": "CET-CBD1",
}
DEFAULT_DIVERGING = "blue-white-red (CET-D1)"


def colormap(name: str) -> pg.ColorMap:
    return pg.colormap.get(DIVERGING.get(name, DIVERGING[DEFAULT_DIVERGING]))


def symmetric_limit(values) -> float:
    """The half-range of levels centred on 0, so 0 is always the map's middle colour."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    limit = float(np.abs(finite).max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def overlay_rgba(values: np.ndarray, name: str, opacity: float, limit=None) -> np.ndarray:
    """HxWx4 uint8: `values` coloured on a 0-centred scale, alpha ~ |value|; NaN transparent."""
    limit = symmetric_limit(values) if limit is None else limit
    scaled = np.clip((np.nan_to_num(values) / limit + 1.0) / 2.0, 0.0, 1.0)
    rgba = colormap(name).map(scaled.ravel(), mode="byte").reshape(*values.shape, 4)
    # Opacity grows with |value|, so neutral regions leave the face visible.
    strength = np.clip(np.abs(np.nan_to_num(values)) / limit, 0.0, 1.0)
    rgba[..., 3] = np.where(np.isfinite(values), np.round(255 * opacity * strength), 0)
    return np.ascontiguousarray(rgba.astype(np.uint8))


def sign_colours(name: str) -> tuple:
    """(positive, negative) colours of a diverging map, for bars beside the heatmap."""
    cmap = colormap(name)
    return cmap.map(0.9, mode="qcolor"), cmap.map(0.1, mode="qcolor")
