"""The one colour language for signed maps and terms: the GUI, the CLI overlays and the PDF.

A signed value is a share of the score (a pair term, a cell's marginal, an
explainer's attribution). It is drawn on a diverging scale centred on 0 and
symmetric (-limit .. +limit, limit = the largest |value| unless given):

    red   = raises the score (makes the two faces more similar)
    white = 0 (no effect)
    blue  = lowers the score (makes them less similar)

The default table is Kovesi's CET-D1 (blue-white-red, perceptually uniform);
CET-CBD1 (blue-white-yellow, for red-green colour blindness) keeps the
meaning with yellow for "raises". Both tables are read from the CSV files that
pyqtgraph (a pinned dependency) ships, without importing pyqtgraph or Qt.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

DEFAULT_TABLE = "CET-D1"
TABLES = {
    "CET-D1": "blue-white-red (CET-D1)",
    "CET-CBD1": "colour-blind safe, blue-white-yellow (CET-CBD1)",
}
MEANING = "red raises the score (more similar), blue lowers it, white is 0"
MEANING_BY_TABLE = {
    "CET-D1": MEANING,
    "CET-CBD1": "yellow raises the score (more similar), blue lowers it, white is 0",
}


@cache
def table(name: str = DEFAULT_TABLE) -> np.ndarray:
    """256 x 3 uint8 RGB from the lowest (most negative) to the highest value; read-only."""
    if name not in TABLES:
        raise ValueError(f"unknown signed colour map {name!r}; choose from {', '.join(TABLES)}")
    spec = importlib.util.find_spec("pyqtgraph")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("pyqtgraph (a pinned dependency) is not installed")
    csv = Path(next(iter(spec.submodule_search_locations))) / "colors" / "maps" / f"{name}.csv"
    values = np.loadtxt(csv, delimiter=",", dtype=np.float64)
    rgb = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    rgb.setflags(write=False)
    return rgb


def symmetric_limit(values) -> float:
    """Half-range of the 0-centred scale: the largest finite |value| (1.0 when all are 0)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    limit = float(np.abs(finite).max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def signed_rgb(values, limit: float | None = None, name: str = DEFAULT_TABLE) -> np.ndarray:
    """values -> ... x 3 uint8: -limit the first colour, 0 the middle, +limit the last."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    limit = symmetric_limit(values) if limit is None else limit
    colours = table(name)
    scaled = np.clip((values / limit + 1.0) / 2.0, 0.0, 1.0)
    return colours[np.rint(scaled * (len(colours) - 1)).astype(int)]


def signed_rgba(
    values, opacity: float, limit: float | None = None, name: str = DEFAULT_TABLE
) -> np.ndarray:
    """H x W x 4 uint8 for laying over a face: opacity grows with |value| (so neutral
    regions leave the face visible); NaN is transparent."""
    raw = np.asarray(values, dtype=np.float64)
    limit = symmetric_limit(raw) if limit is None else limit
    rgba = np.empty((*raw.shape, 4), np.uint8)
    rgba[..., :3] = signed_rgb(raw, limit, name)
    strength = np.clip(np.abs(np.nan_to_num(raw)) / limit, 0.0, 1.0)
    rgba[..., 3] = np.where(np.isfinite(raw), np.round(255 * opacity * strength), 0)
    return rgba


def blend(
    face_rgb: np.ndarray,
    values,
    opacity: float = 0.6,
    limit: float | None = None,
    name: str = DEFAULT_TABLE,
) -> np.ndarray:
    """RGB uint8: `values` (same H x W as the face) blended onto it as signed_rgba lays them."""
    rgba = signed_rgba(values, opacity, limit, name).astype(np.float64)
    alpha = rgba[..., 3:] / 255.0
    out = np.asarray(face_rgb, np.float64) * (1 - alpha) + rgba[..., :3] * alpha
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
