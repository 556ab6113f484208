"""The verbal scale that turns a likelihood ratio into words (ENFSI 2015 guideline).

The scale lives in a versioned JSON file (resources/config/verbal_scale.json) that
a lab may replace; its `version` is recorded with every statement made from it.
Bands are classified on log10(LR) so that the edges (powers of ten) are exact.
An LR below 1 is mirrored: 1/LR is classified and the statement supports Hd.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from core.errors import UsageError
from core.resource_paths import RESOURCES_DIR
from core.safe_read import read_regular_file
from core.schemas.common import validated
from core.schemas.verbal_scale import VerbalScaleModel
from core.strict_json import parse_json

DEFAULT_SCALE_PATH = RESOURCES_DIR / "config" / "verbal_scale.json"
SCHEMA = "patchwise.verbal_scale/1"
MAX_SCALE_BYTES = 1 << 20


@dataclass(frozen=True)
class VerbalScale:
    name: str
    version: str
    source: str
    hp: str
    hd: str
    neutral_statement: str
    statement: str
    bands: tuple[tuple[float, float | None, str], ...]  # (lower LR, upper LR or None, category)
    path: str

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "file": self.path,
        }


@dataclass(frozen=True)
class VerbalCategory:
    category: str  # e.g. "moderate"
    supports: str  # "hp", "hd" or "neither"
    statement: str
    scale_version: str

    def to_json(self) -> dict:
        return {
            "category": self.category,
            "supports": self.supports,
            "statement": self.statement,
            "scale_version": self.scale_version,
        }


def _check_bands(bands: list[dict], path: Path) -> tuple[tuple[float, float | None, str], ...]:
    if not bands or bands[0]["lower"] != 1:
        raise UsageError(f"{path}: the first band must start at LR 1")
    for before, after in zip(bands, bands[1:], strict=False):
        if before["upper"] != after["lower"]:
            raise UsageError(f"{path}: bands must be contiguous ({before} then {after})")
    if bands[-1]["upper"] is not None:
        raise UsageError(f"{path}: the last band must be open-ended (upper: null)")
    return tuple((float(b["lower"]), b["upper"], str(b["category"])) for b in bands)


def load_verbal_scale(path: str | Path | None = None) -> VerbalScale:
    """Read and check a verbal-scale file (default: the bundled ENFSI scale)."""
    scale_path = Path(path) if path else DEFAULT_SCALE_PATH
    raw = read_regular_file(scale_path, MAX_SCALE_BYTES, UsageError, "verbal scale")
    data = parse_json(raw, f"{scale_path}: cannot read verbal scale", UsageError)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(f"{scale_path}: not a verbal scale (schema must be {SCHEMA})")
    validated(VerbalScaleModel, data, str(scale_path), UsageError)
    try:
        return VerbalScale(
            name=data["name"],
            version=data["version"],
            source=data.get("source", ""),
            hp=data["propositions"]["hp"],
            hd=data["propositions"]["hd"],
            neutral_statement=data["neutral"]["statement"],
            statement=data["statement"],
            bands=_check_bands(data["bands"], scale_path),
            path=str(scale_path),
        )
    except (KeyError, TypeError) as exc:
        raise UsageError(f"{scale_path}: verbal scale lacks field {exc}") from exc


def verbal_category(log10_lr: float, scale: VerbalScale) -> VerbalCategory:
    """The band of |log10 LR| and its statement; LR < 1 supports Hd (the mirror)."""
    if log10_lr == 0:
        text = scale.neutral_statement.format(hp=scale.hp, hd=scale.hd)
        return VerbalCategory("neutral", "neither", text, scale.version)
    magnitude = abs(log10_lr)
    category = scale.bands[-1][2]
    for lower, upper, name in scale.bands:
        if upper is not None and math.log10(lower) <= magnitude < math.log10(upper):
            category = name
            break
    favoured, other, supports = (
        (scale.hp, scale.hd, "hp") if log10_lr > 0 else (scale.hd, scale.hp, "hd")
    )
    text = scale.statement.format(category=category, favoured=favoured, other=other)
    return VerbalCategory(category, supports, text, scale.version)
