"""Five-point face alignment with insightface's ArcFace template.

The similarity transform comes from `insightface.utils.face_align.estimate_norm`
(the same call `norm_crop` makes); we keep the 2x3 matrix so that anything
drawn on the aligned face (a patch, a heatmap) can be mapped back onto the
original photo with `to_original`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from insightface.utils import face_align


@dataclass(frozen=True)
class AlignedFace:
    """An aligned face crop and the transform original-photo -> crop."""

    image: np.ndarray  # size x size x 3 uint8 RGB
    transform: np.ndarray  # 2x3, maps original (x, y, 1) to aligned pixels
    size: int

    def __post_init__(self):
        self.image.setflags(write=False)
        self.transform.setflags(write=False)

    def to_original(self, points: np.ndarray) -> np.ndarray:
        """Map Nx2 aligned-face points back to original-photo coordinates."""
        inverse = cv2.invertAffineTransform(self.transform)
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return pts @ inverse[:, :2].T + inverse[:, 2]

    def box_to_original(self, box) -> np.ndarray:
        """The four corners (4x2) on the original photo of an aligned-face box x1,y1,x2,y2."""
        x1, y1, x2, y2 = box
        return self.to_original(np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]]))


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int) -> AlignedFace:
    """Warp the face to the ArcFace 5-point template at `size` (a multiple of 112)."""
    lmk = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    with warnings.catch_warnings():
        # scikit-image 0.26 deprecates the estimate() call insightface makes.
        warnings.simplefilter("ignore", FutureWarning)
        matrix = face_align.estimate_norm(lmk, image_size=size)
    image = cv2.warpAffine(rgb, matrix, (size, size), borderValue=0.0)
    return AlignedFace(image=image, transform=np.asarray(matrix, dtype=np.float64), size=size)
