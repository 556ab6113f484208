"""MTCNN's second pass: it finds a face the first pass missed, says so, and adds no boxes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.detection.mtcnn import MTCNNDetector
from core.photo import load_evidence


@pytest.fixture(scope="module")
def detectors():
    return MTCNNDetector(retry=False), MTCNNDetector()


def _iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


def test_a_tiny_face_missed_by_the_first_pass_is_found_and_marked(detectors, faces_dir):
    first, retrying = detectors
    rgb = load_evidence(faces_dir / "identities/obama/obama_1.jpg").rgb
    truth = np.array(first.detect(rgb)[0].box)
    scale = 8.0 / (truth[2] - truth[0])  # the face becomes 8 px wide
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    tiny = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    assert first.detect(tiny) == []
    (found,) = retrying.detect(tiny)
    assert _iou(found.box, truth * scale) > 0.5
    assert "second pass" in found.retry and found.to_json()["retry"] == found.retry
    assert retrying.describe()["retry_when_none_found"]["thresholds"] == [0.5, 0.6, 0.6]


def test_the_second_pass_adds_no_box_to_a_photo_with_faces(detectors, faces_dir):
    first, retrying = detectors
    rgb = load_evidence(faces_dir / "multi_face/obama_and_biden.jpg").rgb
    without, with_retry = first.detect(rgb), retrying.detect(rgb)
    assert [f.box for f in with_retry] == [f.box for f in without]
    assert all(f.retry is None for f in with_retry)
