"""Rendering signed maps on faces and photos (cv2 + numpy only; no Qt in core).

- render_overlay: a signed map scaled symmetrically by its largest |value|.
  "diverging" (default) is the workbench's one signed colour map
  (core/signed_colormap.py: red raises the score, blue lowers it) with
  opacity proportional to |value|, so neutral regions show the face; any cv2
  colormap name ("jet", "turbo", "viridis", ...) maps [-1, 1] to the full
  colormap with uniform opacity.
- hls_blend: X-Maps Alg. 2: luminance from the photo, hue from HLS(coloured
  map), saturation from HSV(coloured map).
- map_to_photo / overlay_on_photo: the aligned-face map warped back onto the
  original photo with the inverse of the alignment transform.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.errors import UsageError
from core.signed_colormap import signed_rgb

CV2_COLORMAPS = {
    name[len("COLORMAP_") :].lower(): getattr(cv2, name)
    for name in dir(cv2)
    if name.startswith("COLORMAP_")
}
COLORMAPS = ("diverging", *sorted(CV2_COLORMAPS))


def _unit(signed_map: np.ndarray) -> np.ndarray:
    m = np.nan_to_num(np.asarray(signed_map, dtype=np.float64))
    peak = float(np.abs(m).max())
    return m / peak if peak > 0 else m


def colorize(signed_map: np.ndarray, colormap: str = "diverging") -> tuple[np.ndarray, np.ndarray]:
    """(H x W x 3 float RGB 0..255, H x W alpha 0..1) for a signed map."""
    m = _unit(signed_map)
    if colormap == "diverging":
        return signed_rgb(m, 1.0).astype(np.float64), np.abs(m)
    if colormap not in CV2_COLORMAPS:
        raise UsageError(f"unknown colormap '{colormap}'; choose from {', '.join(COLORMAPS)}")
    index = np.clip((m + 1.0) * 127.5, 0, 255).astype(np.uint8)
    bgr = cv2.applyColorMap(index, CV2_COLORMAPS[colormap])
    return bgr[..., ::-1].astype(np.float64), np.ones(m.shape)


def render_overlay(
    face_rgb: np.ndarray,
    signed_map: np.ndarray,
    colormap: str = "diverging",
    opacity: float = 0.6,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """RGB uint8: the map blended onto the face (same H x W). `region` limits it (0..1)."""
    if face_rgb.shape[:2] != np.shape(signed_map):
        raise ValueError("the map and the image must have the same height and width")
    color, alpha = colorize(signed_map, colormap)
    alpha = np.clip(opacity, 0.0, 1.0) * alpha
    if region is not None:
        alpha = alpha * region
    out = face_rgb.astype(np.float64) * (1 - alpha[..., None]) + color * alpha[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def hls_blend(face_rgb: np.ndarray, signed_map: np.ndarray, colormap: str = "diverging"):
    """X-Maps Alg. 2: HLS(h from map, l from image, s from HSV(map)) -> RGB uint8."""
    color, alpha = colorize(signed_map, colormap)
    if colormap == "diverging":  # fade to gray where the map is ~0 so saturation follows |m|
        color = color * alpha[..., None] + 128.0 * (1 - alpha[..., None])
    color8 = np.clip(color, 0, 255).astype(np.uint8)
    hue = cv2.cvtColor(color8, cv2.COLOR_RGB2HLS)[..., 0]
    sat = cv2.cvtColor(color8, cv2.COLOR_RGB2HSV)[..., 1]
    lum = cv2.cvtColor(face_rgb.astype(np.uint8), cv2.COLOR_RGB2HLS)[..., 1]
    return cv2.cvtColor(np.dstack([hue, lum, sat]), cv2.COLOR_HLS2RGB)


def map_to_photo(signed_map: np.ndarray, transform: np.ndarray, photo_shape) -> tuple:
    """(map on the photo, 0..1 coverage) via the inverse of the 2x3 photo -> aligned transform."""
    h, w = photo_shape[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(np.asarray(signed_map, np.float32), transform, (w, h), flags=flags)
    ones = np.ones(np.shape(signed_map), np.float32)
    coverage = cv2.warpAffine(ones, transform, (w, h), flags=flags)
    return warped, coverage


def overlay_on_photo(
    photo_rgb: np.ndarray,
    signed_map: np.ndarray,
    transform: np.ndarray,
    colormap: str = "diverging",
    opacity: float = 0.6,
) -> np.ndarray:
    """The aligned-face map drawn onto the original photo (outside the face: unchanged)."""
    warped, coverage = map_to_photo(signed_map, transform, photo_rgb.shape)
    return render_overlay(photo_rgb, warped, colormap, opacity, region=coverage)


def encode_png(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()
