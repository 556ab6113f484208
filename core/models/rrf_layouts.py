"""The restricted-receptive-field patch layouts of RRFNet (Ozturk et al., Fig. 3, Table IV).

Positions are top-left (x, y) corners in a 112 x 112 aligned face.

- RRFNet-56: the five 56 px patches the paper chose (Table IV, last row):
  (0,28), (28,0), (56,28), (28,56), (28,28).
- RRFNet-28: 28 px patches on a stride-14 grid (7 x 7 = 49 positions, Table II),
  minus the corners, giving the paper's 33 patches. The paper says only that
  "the patches at the corners are excluded"; 49 - 33 = 16 fixes that as a 2 x 2
  block of positions (x, y in {0, 14} or {70, 84}) at each of the four corners.
  That reading is ours and is recorded here.
"""

from __future__ import annotations

from core.models.face_model import CellLayout

REFERENCE_SIZE = 112

RRF56_POSITIONS: tuple[tuple[int, int], ...] = ((0, 28), (28, 0), (56, 28), (28, 56), (28, 28))

_EDGE = {0, 14}
_FAR_EDGE = {70, 84}


def _rrf28_positions() -> tuple[tuple[int, int], ...]:
    grid = range(0, REFERENCE_SIZE - 28 + 1, 14)
    kept = []
    for y in grid:
        for x in grid:
            in_corner_x = x in _EDGE or x in _FAR_EDGE
            in_corner_y = y in _EDGE or y in _FAR_EDGE
            if not (in_corner_x and in_corner_y):
                kept.append((x, y))
    return tuple(kept)


RRF28_POSITIONS = _rrf28_positions()

PATCH_SIZES = {"rrf56": 56, "rrf28": 28}
POSITIONS = {"rrf56": RRF56_POSITIONS, "rrf28": RRF28_POSITIONS}


def rrf_layout(name: str, input_size: int, label: str) -> CellLayout:
    """The layout `name` ('rrf56' or 'rrf28') scaled to a model input of `input_size` px."""
    scale = input_size / REFERENCE_SIZE
    size = PATCH_SIZES[name] * scale
    boxes = tuple(
        (x * scale, y * scale, x * scale + size, y * scale + size) for x, y in POSITIONS[name]
    )
    return CellLayout(kind="restricted", label=label, boxes=boxes, input_size=input_size)
