"""The detector protocol and its result type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class DetectedFace:
    """One face found in an RGB photo, in that photo's pixel coordinates.

    box: (x1, y1, x2, y2) floats; score: detector confidence in [0, 1];
    landmarks: 5x2 float array, order left eye, right eye, nose, left mouth
    corner, right mouth corner (the order of insightface's arcface template).
    placed_by_hand: the examiner placed the landmarks (core/manual_landmarks.py);
    the box then only frames them and the score is not a detector's.
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    placed_by_hand: bool = False
    retry: str | None = None  # how a second detection pass found it, if one did

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    def to_json(self) -> dict:
        return {
            "box": [float(v) for v in self.box],
            "score": float(self.score),
            "landmarks": np.asarray(self.landmarks, dtype=float).round(3).tolist(),
            "placed_by_hand": self.placed_by_hand,
            **({"retry": self.retry} if self.retry else {}),
        }


class Detector(Protocol):
    """Anything that finds faces. `detect` returns faces sorted by box area, largest first."""

    id: str

    def describe(self) -> dict:
        """Provenance for reports: id, kind, weights files and their SHA-256."""
        ...

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """Find every face in an HxWx3 uint8 RGB image."""
        ...


def sort_by_size(faces: list[DetectedFace]) -> list[DetectedFace]:
    """Largest face first (ties keep the detector's order)."""
    return sorted(faces, key=lambda f: -f.area)
