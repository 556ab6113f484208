"""Choose a face detector: the bundled MTCNN or a local insightface pack."""

from __future__ import annotations

import os
import threading

from core.detection.detected_face import Detector
from core.errors import DetectorUnavailableError, UsageError

KINDS = ("auto", "mtcnn", "insightface")

_mtcnn_cache: dict[str, object] = {}
_mtcnn_lock = threading.Lock()


def _mtcnn(device) -> Detector:
    """One MTCNNDetector per device, so the weights are read only once."""
    from core.detection.mtcnn import MTCNNDetector

    key = str(device) if device is not None else "cpu"
    with _mtcnn_lock:
        det = _mtcnn_cache.get(key)
        if det is None:
            det = MTCNNDetector(device=device)
            _mtcnn_cache[key] = det
        return det


def make_detector(
    kind: str = "auto",
    pack_dir: str | os.PathLike | None = None,
    device=None,
) -> Detector:
    """Return a detector.

    kind "mtcnn": the bundled MTCNN (cached per device).
    kind "insightface": the detection model of a local pack found by
    ``find_insightface_pack(pack_dir)``; DetectorUnavailableError, naming
    every place looked, when there is none or it does not load.
    kind "auto": insightface when a pack is found, else MTCNN. A pack named
    explicitly with ``pack_dir`` must work (no silent fallback), and so must
    a pack that is found but broken: the error says to choose
    ``--detector mtcnn`` instead.
    """
    from core.detection.insightface_detector import (
        InsightFaceDetector,
        find_insightface_pack,
        pack_search_description,
    )

    if kind not in KINDS:
        raise UsageError(f"unknown detector {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "mtcnn":
        return _mtcnn(device)

    pack = find_insightface_pack(pack_dir)
    if pack is None:
        if kind == "insightface" or pack_dir:
            raise DetectorUnavailableError(
                "no insightface model pack (a folder with .onnx files) found; looked in: "
                + pack_search_description(pack_dir)
            )
        return _mtcnn(device)
    try:
        return InsightFaceDetector(pack, device=device)
    except DetectorUnavailableError as exc:
        if kind == "auto":
            raise DetectorUnavailableError(
                f"{exc} (use --detector mtcnn to use the bundled detector)"
            ) from exc
        raise
