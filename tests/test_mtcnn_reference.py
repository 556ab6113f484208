"""MTCNN still finds what it found before the speed work: same faces, landmarks within 0.5 px.

tests/fixtures/mtcnn_reference.json was written by `tools/mtcnn_reference.py --write`
at the commit it names (per-level torch pyramid and P-Net). The photos below cover
a weak second face (obama_1, obama_5_1080p, rose_leslie_2), the max_side downscale
(obama_5_1080p, obama_and_biden), several faces, a face cut by the border, a small
photo and an RGBA PNG. `tools/mtcnn_reference.py --check` runs all 24 shared photos.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.detection.mtcnn import MTCNNDetector
from core.photo import load_evidence

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "mtcnn_reference.json"
PHOTOS = (
    "identities/obama/obama_1.jpg",
    "identities/obama/obama_5_1080p.jpg",
    "identities/rose_leslie/rose_leslie_2.jpg",
    "identities/kit_harington/kit_harington_2.jpg",
    "multi_face/obama_and_biden.jpg",
    "edge_cases/obama_partial_face.jpg",
    "edge_cases/rgba_32bit.png",
)
LANDMARK_TOLERANCE_PX = 0.5
BOX_TOLERANCE_PX = 0.5
SCORE_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def detector():
    return MTCNNDetector()


@pytest.fixture(scope="module")
def reference():
    return json.loads(FIXTURE.read_text())["photos"]


@pytest.mark.parametrize("name", PHOTOS)
def test_same_faces_as_the_reference(detector, reference, faces_dir, name):
    expected = reference[name]
    rgb = load_evidence(faces_dir / name).rgb
    assert list(rgb.shape[:2]) == expected["shape"]
    found = detector.detect(rgb)
    assert len(found) == len(expected["faces"])
    for face, old in zip(found, expected["faces"], strict=True):
        np.testing.assert_allclose(face.box, old["box"], atol=BOX_TOLERANCE_PX)
        shift = np.linalg.norm(face.landmarks - np.array(old["landmarks"]), axis=1)
        assert shift.max() <= LANDMARK_TOLERANCE_PX
        assert abs(face.score - old["score"]) <= SCORE_TOLERANCE
