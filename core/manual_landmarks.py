"""Landmarks placed by the examiner when detection fails or misfires.

Five points in the photo's pixel coordinates, in the order of the alignment
template (left eye, right eye, nose tip, left mouth corner, right mouth corner;
"left" as seen in the photo). They replace the detector's for alignment; the
face they define is marked `placed_by_hand`, framed by a box around them, and
recorded as such in the comparison, the case and the report.
"""

from __future__ import annotations

import hashlib

import numpy as np

from core.detection.detected_face import DetectedFace
from core.errors import UsageError

POINT_NAMES = ("left eye", "right eye", "nose tip", "left mouth corner", "right mouth corner")
BOX_MARGIN = 0.6  # the frame extends this share of the landmarks' span on each side


def parse_landmarks(text: str) -> np.ndarray:
    """'x1,y1,...,x5,y5' (ten numbers) -> 5 x 2 float64; UsageError names what is wrong."""
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UsageError(f"landmarks {text!r}: give ten numbers x1,y1,...,x5,y5") from None
    if len(values) != 10 or not np.all(np.isfinite(values)):
        raise UsageError(
            f"landmarks {text!r}: give ten finite numbers x1,y1,...,x5,y5 "
            f"({', '.join(POINT_NAMES)})"
        )
    return np.asarray(values, dtype=np.float64).reshape(5, 2)


def manual_face(landmarks: np.ndarray, width: int, height: int) -> DetectedFace:
    """The face the examiner's five points define, inside a `width` x `height` photo."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    if np.any(points < 0) or np.any(points[:, 0] > width) or np.any(points[:, 1] > height):
        raise UsageError(f"landmarks lie outside the {width}x{height} photo")
    low, high = points.min(axis=0), points.max(axis=0)
    margin = BOX_MARGIN * max(float((high - low).max()), 1.0)
    x1, y1 = np.maximum(low - margin, 0.0)
    x2, y2 = np.minimum(high + margin, (width, height))
    box = (float(x1), float(y1), float(x2), float(y2))
    return DetectedFace(box=box, score=1.0, landmarks=points, placed_by_hand=True)


def landmarks_key(landmarks: np.ndarray) -> str:
    """A short digest of the points, so caches never mix two placements."""
    data = np.asarray(landmarks, dtype=np.float64).round(3).tobytes()
    return hashlib.sha256(data).hexdigest()[:12]
