"""dlib's 150 px face chip, rebuilt from the detector's five landmarks.

dlib (`get_face_chip_details(shape, 150, 0.25)`) maps its 5-point shape predictor's
points (two corners of each eye and the base of the nose) onto fixed reference points by
a least-squares similarity transform. Patchwise's detectors give different points (eye
centres, nose tip, mouth corners: MTCNN's and insightface's order). So the chip is rebuilt
with a template for THOSE points in dlib's chip: `MTCNN_POINTS_IN_DLIB_CHIP`, the mean
position of MTCNN's landmarks after mapping each photo through dlib's own chip transform
(fitted by `tools/check_dlib_port.py --fit-template` on LFW development photos; the
fit's figures are in docs/models.md).

Differences from dlib's chip, documented rather than hidden: the points (and so the
transform) differ photo by photo; dlib samples with bilinear interpolation after an image
pyramid when it shrinks a face a lot, Patchwise halves the photo with cv2.pyrDown while
the face would shrink more than 2x, then warps bilinearly.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
from skimage.transform import SimilarityTransform

from core.alignment import AlignedFace

CHIP_SIZE = 150
CHIP_PADDING = 0.25
TEMPLATE_LABEL = "dlib 5-point face chip (150 px, padding 0.25), from the detector's landmarks"

# dlib's reference points for its 5-point shape (dlib/image_transforms/interpolation.h),
# in units of the unpadded face box; chip position = (padding + p) / (1 + 2 padding) * size.
DLIB_5POINT_REFERENCE = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750393467, 0.2137274526434],
        [0.3340850613171, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ]
)

# MTCNN-order landmarks (left eye, right eye, nose tip, left and right mouth corner) in
# dlib's 150 px chip: fitted on 298 LFW development photos
# (per-point spread 1.8-1.9 px for the eyes, 4-6 px for nose and mouth), see the docstring.
MTCNN_POINTS_IN_DLIB_CHIP = np.array(
    [
        [48.4861, 46.5171],
        [102.1293, 46.2656],
        [74.9891, 77.5799],
        [51.3649, 105.0152],
        [99.1148, 104.8024],
    ]
)


def dlib_reference_points(size: int = CHIP_SIZE, padding: float = CHIP_PADDING) -> np.ndarray:
    """Where dlib puts its 5 shape points in a chip of `size` px with `padding`."""
    return (padding + DLIB_5POINT_REFERENCE) / (1 + 2 * padding) * size


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The least-squares similarity transform (Umeyama) source -> target, as a 2x3 matrix."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        transform = SimilarityTransform.from_estimate(
            np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
        )
    return np.asarray(transform.params[:2], dtype=np.float64)


def warp_chip(rgb: np.ndarray, matrix: np.ndarray, size: int = CHIP_SIZE) -> np.ndarray:
    """Warp `rgb` by `matrix` (photo -> chip) to size x size; pyramid first if shrinking > 2x."""
    matrix = np.asarray(matrix, dtype=np.float64).copy()
    image = rgb
    while np.sqrt(abs(np.linalg.det(matrix[:, :2]))) < 0.5 and min(image.shape[:2]) > 2 * size:
        image = cv2.pyrDown(image)
        matrix[:, :2] *= 2.0  # the halved photo's pixel (x, y) is the original's (2x, 2y)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)


def align_dlib_chip(rgb: np.ndarray, landmarks: np.ndarray) -> AlignedFace:
    """The 150 px dlib-style chip of the face with these 5 (MTCNN-order) landmarks."""
    matrix = similarity(np.asarray(landmarks).reshape(5, 2), MTCNN_POINTS_IN_DLIB_CHIP)
    return AlignedFace(
        image=warp_chip(rgb, matrix), transform=matrix, size=CHIP_SIZE, template=TEMPLATE_LABEL
    )
