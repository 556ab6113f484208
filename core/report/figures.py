"""Report figures as PNG bytes, drawn from the engine's result objects (no Qt).

Every figure reads the same `Comparison` / `Decomposition` / `AlignedFace`
the GUI shows, and signed values use the one signed colour map of
core/signed_colormap.py (CET-D1: red raises the score, blue lowers it, white
is 0), the same table the GUI and the CLI overlays use.
Text inside figures uses the bundled DejaVu font.
"""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from core.report.fonts import pil_font
from core.signed_colormap import signed_rgb, symmetric_limit

CHOSEN = (255, 196, 0)
OTHER = (200, 200, 200)
OUTLINE = (20, 20, 20)
MAX_PHOTO_SIDE = 900


def png_bytes(rgb: np.ndarray | Image.Image) -> bytes:
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(np.asarray(rgb, np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # reportlab re-compresses it anyway
    return buffer.getvalue()


# -- photos and faces ---------------------------------------------------------------


def original_photo(side) -> bytes:
    """The original photo with every detected face boxed; the compared face highlighted."""
    rgb = side.prepared.evidence.rgb
    scale = min(1.0, MAX_PHOTO_SIDE / max(rgb.shape[:2]))
    image = Image.fromarray(rgb)
    if scale < 1.0:
        image = image.resize(
            (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), Image.LANCZOS
        )
    draw = ImageDraw.Draw(image)
    width = max(2, round(max(image.size) / 250))
    font = pil_font(max(12, round(max(image.size) / 40)), bold=True)
    faces = side.prepared.faces
    for index in sorted(range(len(faces)), key=lambda n: n == side.index):
        box = [v * scale for v in faces[index].box]
        chosen = index == side.index
        colour = CHOSEN if chosen else OTHER
        draw.rectangle(box, outline=OUTLINE, width=width + 2)
        draw.rectangle(box, outline=colour, width=width)
        label = f"face {index + 1}" + (" (compared)" if chosen else "")  # 1-based, as the GUI
        top = max(0, box[1] - font.size - 2 * width)
        draw.text((box[0], top), label, font=font, fill=colour, stroke_width=2, stroke_fill=OUTLINE)
    return png_bytes(image)


def _enlarged(image: np.ndarray, size: int) -> Image.Image:
    return Image.fromarray(image).resize((size, size), Image.LANCZOS)


def aligned_face(side, layout, size: int = 336) -> bytes:
    """The aligned face the model saw, with the grid drawn when cells tile the face."""
    image = _enlarged(side.aligned.image, size)
    if layout.kind == "grid":
        draw = ImageDraw.Draw(image)
        factor = size / layout.input_size
        for x1, y1, x2, y2 in layout.boxes:
            draw.rectangle(
                [x1 * factor, y1 * factor, x2 * factor, y2 * factor],
                outline=(255, 255, 255),
                width=1,
            )
    return png_bytes(image)


def cell_values_map(layout, values: np.ndarray) -> np.ndarray:
    """S x S map: each pixel holds the mean value of the cells whose box covers it.

    Grid cells tile the face, so this is the cell's own value; restricted
    patches overlap, so a pixel shows the mean over the patches covering it
    (a display choice; the terms themselves are per patch).
    """
    size = layout.input_size
    total = np.zeros((size, size))
    count = np.zeros((size, size))
    for (x1, y1, x2, y2), value in zip(layout.boxes, values, strict=True):
        xs = slice(max(0, int(round(x1))), min(size, int(round(x2))))
        ys = slice(max(0, int(round(y1))), min(size, int(round(y2))))
        total[ys, xs] += value
        count[ys, xs] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def contribution_overlay(
    side, layout, values: np.ndarray, limit: float, size: int = 336, opacity: float = 0.6
) -> bytes:
    """Per-cell contributions coloured over the aligned face (RRFNet Fig. 2, bottom row)."""
    face = _enlarged(side.aligned.image, size)
    return png_bytes(_blend(np.asarray(face), cell_values_map(layout, values), limit, opacity))


def _blend(face: np.ndarray, values: np.ndarray, limit: float | None, opacity: float):
    size = face.shape[0]
    limit = symmetric_limit(values) if limit is None else limit
    resized = cv2.resize(np.nan_to_num(values), (size, size), interpolation=cv2.INTER_NEAREST)
    mask = cv2.resize(
        np.isfinite(values).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST
    )
    colour = signed_rgb(resized, limit).astype(np.float64)
    alpha = opacity * mask[..., None]
    return np.rint(face * (1 - alpha) + colour * alpha).astype(np.uint8)


# -- the pair grid and its colour bar -------------------------------------------------


def pair_grid(pair_matrix: np.ndarray, side_px: int = 720) -> tuple[bytes, float]:
    """(PNG of the K x K pair terms with axes and a colour bar, the colour scale's limit)."""
    matrix = np.asarray(pair_matrix, dtype=np.float64)
    k = matrix.shape[0]
    limit = symmetric_limit(matrix)
    cell = max(1, side_px // k)
    grid = np.repeat(np.repeat(signed_rgb(matrix, limit), cell, axis=0), cell, axis=1)
    font = pil_font(18)
    left, top, bar_gap, bar_w, right = 70, 20, 30, 28, 120
    n = k * cell
    canvas = Image.new("RGB", (left + n + bar_gap + bar_w + right, top + n + 70), "white")
    canvas.paste(Image.fromarray(grid), (left, top))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([left - 1, top - 1, left + n, top + n], outline=(0, 0, 0))
    for index in _tick_indices(k):
        centre = (index + 0.5) * cell
        draw.text((left - 8, top + centre), str(index), font=font, fill="black", anchor="rm")
        draw.text((left + centre, top + n + 8), str(index), font=font, fill="black", anchor="mt")
    draw.text((left + n / 2, top + n + 40), "cell j of B", font=font, fill="black", anchor="mt")
    label = Image.new("RGB", (n, 26), "white")
    ImageDraw.Draw(label).text((n / 2, 0), "cell i of A", font=font, fill="black", anchor="mt")
    canvas.paste(label.rotate(90, expand=True), (4, top))
    _colour_bar(draw, (left + n + bar_gap, top, bar_w, n), limit, font)
    return png_bytes(canvas), limit


def _tick_indices(k: int) -> list[int]:
    """Every index for small grids, else every 5th or 10th plus the last (never crowded)."""
    step = 1 if k <= 10 else 5 if k <= 60 else 10
    ticks = [t for t in range(0, k, step) if k - 1 - t >= step / 2 or t == k - 1]
    return sorted({*ticks, k - 1})


def _colour_bar(draw: ImageDraw.ImageDraw, rect, limit: float, font) -> None:
    x, y, w, h = rect
    for row in range(h):
        value = limit * (1 - 2 * row / max(h - 1, 1))
        draw.line(
            [x, y + row, x + w, y + row], fill=tuple(int(c) for c in signed_rgb(value, limit))
        )
    draw.rectangle([x, y, x + w, y + h], outline=(0, 0, 0))
    for fraction in (1.0, 0.5, 0.0, -0.5, -1.0):
        row = y + (1 - fraction) / 2 * (h - 1)
        draw.line([x + w, row, x + w + 6, row], fill="black")
        draw.text(
            (x + w + 10, row), f"{fraction * limit:+.4f}", font=font, fill="black", anchor="lm"
        )


# -- top pairs ------------------------------------------------------------------------


def pair_thumbnail(comparison, i: int, j: int, height: int = 110) -> bytes:
    """Face A with cell i boxed, cell i enlarged, cell j enlarged, face B with cell j boxed."""
    layout = comparison.decomposition.layout
    tiles = [
        _face_with_box(comparison.a.aligned.image, layout.boxes[i], height),
        _crop(comparison.a.aligned.image, layout.boxes[i], height),
        _crop(comparison.b.aligned.image, layout.boxes[j], height),
        _face_with_box(comparison.b.aligned.image, layout.boxes[j], height),
    ]
    gap = 8
    strip = Image.new("RGB", (4 * height + 3 * gap, height), "white")
    for n, tile in enumerate(tiles):
        strip.paste(tile, (n * (height + gap), 0))
    return png_bytes(strip)


def _face_with_box(face: np.ndarray, box, height: int) -> Image.Image:
    image = _enlarged(face, height)
    factor = height / face.shape[0]
    draw = ImageDraw.Draw(image)
    scaled = [v * factor for v in box]
    draw.rectangle(scaled, outline=OUTLINE, width=3)
    draw.rectangle(scaled, outline=CHOSEN, width=2)
    return image


def _crop(face: np.ndarray, box, height: int) -> Image.Image:
    size = face.shape[0]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1 = max(0, x1), max(0, y1)
    x2, y2 = min(size, max(x2, x1 + 1)), min(size, max(y2, y1 + 1))
    return Image.fromarray(np.ascontiguousarray(face[y1:y2, x1:x2])).resize(
        (height, height), Image.LANCZOS
    )


# -- the gauge ------------------------------------------------------------------------


def gauge(
    score: float,
    low: float = -1.0,
    high: float = 1.0,
    threshold: float | None = None,
    label: str = "cosine",
    width: int = 600,
) -> bytes:
    """A half-dial from `low` to `high` with a needle at `score` and the threshold, if any."""
    height = int(width * 0.66)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    cx, cy, radius, thick = width / 2, height - 70, width * 0.4, width * 0.07
    limit = max(abs(low), abs(high))
    steps = 180
    for step in range(steps):
        value = low + (high - low) * (step + 0.5) / steps
        start = 180 + 180 * step / steps
        colour = tuple(int(c) for c in signed_rgb(value, limit))
        draw.arc(
            [cx - radius, cy - radius, cx + radius, cy + radius],
            start,
            start + 180 / steps + 0.6,
            fill=colour,
            width=int(thick),
        )
    font = pil_font(26)
    for value in np.linspace(low, high, 5):
        angle = _angle(value, low, high)
        outer = (cx + (radius + 8) * math.cos(angle), cy - (radius + 8) * math.sin(angle))
        draw.text(outer, f"{value:g}", font=font, fill="black", anchor=_anchor(angle))
    if threshold is not None:
        angle = _angle(threshold, low, high)
        inner = radius - thick - 4
        points = [
            (cx + inner * math.cos(angle), cy - inner * math.sin(angle)),
            (cx + (radius + 4) * math.cos(angle), cy - (radius + 4) * math.sin(angle)),
        ]
        draw.line(points, fill="black", width=4)
    clipped = min(max(score, low), high)
    angle = _angle(clipped, low, high)
    tip = (cx + (radius - thick / 2) * math.cos(angle), cy - (radius - thick / 2) * math.sin(angle))
    draw.line([(cx, cy), tip], fill=OUTLINE, width=6)
    draw.ellipse([cx - 10, cy - 10, cx + 10, cy + 10], fill=OUTLINE)
    text = f"{label} {score:+.4f}"
    draw.text((cx, cy + 18), text, font=pil_font(34, bold=True), fill="black", anchor="mt")
    return png_bytes(image)


def _angle(value: float, low: float, high: float) -> float:
    return math.pi * (1 - (value - low) / (high - low))


def _anchor(angle: float) -> str:
    if angle > 2.2:
        return "rm"
    if angle < 0.95:
        return "lm"
    return "mb"


def colour_bar(limit: float, width: int = 600, label: str = "") -> bytes:
    """A horizontal CET-D1 bar from -limit to +limit with five labelled ticks."""
    font = pil_font(16)
    height, bar_h, pad = (70 if label else 48), 18, 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    span = width - 2 * pad
    for col in range(span):
        value = limit * (2 * col / max(span - 1, 1) - 1)
        colour = tuple(int(c) for c in signed_rgb(value, limit))
        draw.line([pad + col, 4, pad + col, 4 + bar_h], fill=colour)
    draw.rectangle([pad, 4, pad + span, 4 + bar_h], outline=(0, 0, 0))
    for fraction in (-1.0, -0.5, 0.0, 0.5, 1.0):
        x = pad + (fraction + 1) / 2 * (span - 1)
        draw.line([x, 4 + bar_h, x, 10 + bar_h], fill="black")
        draw.text((x, 12 + bar_h), f"{fraction * limit:+.4f}", font=font, fill="black", anchor="mt")
    if label:
        draw.text((width / 2, height - 1), label, font=font, fill="black", anchor="mb")
    return png_bytes(image)
