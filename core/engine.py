"""The comparison engine: photo -> faces -> aligned face -> cell features -> decomposed score.

One direction only (docs/ARCHITECTURE.md). Each stage is timed. Detections and
cell features are cached per (image SHA-256, detector, face, model), so the GUI,
`evaluate` and the explainers never compute the same thing twice.

The caches are plain dicts: a caller that drives one Engine from several
threads (the GUI's workers) holds `engine.lock` around each call.
`make_engine` builds the engine every front end uses from plain settings.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from core import __version__
from core.alignment import AlignedFace, align_face
from core.decomposition import Decomposition, cosine, decompose
from core.descriptors import DetectorDescriptor, ModelDescriptor
from core.detection.detected_face import DetectedFace, Detector
from core.errors import FaceIndexError, NoFaceError, UsageError
from core.forward_check import forward_score
from core.manual_landmarks import landmarks_key, manual_face
from core.models.face_model import CellFeatures, FaceModel
from core.models.fused import FusedFeatures
from core.models.registry import load_model
from core.photo import EvidenceImage, load_evidence
from core.stage_timer import StageTimer


def score_features(model: FaceModel, a: CellFeatures, b: CellFeatures) -> Decomposition:
    """The decomposed score of two faces: the model's own `score_pair` when its kind scores
    pairs (xCos, whose score is not the cosine of two embeddings), else the exact cosine split."""
    if model.kind.scores_pairs:
        return model.score_pair(a, b)
    return decompose(a, b, model.layout)


def pair_score(model: FaceModel, a: CellFeatures, b: CellFeatures) -> float:
    """The model's comparison score of two faces (cosine of embeddings, or xCos)."""
    if model.kind.scores_pairs:
        return model.score_pair(a, b).cosine
    return cosine(a.embedding, b.embedding)


@dataclass(frozen=True)
class PreparedImage:
    """A loaded evidence photo and every face the detector found in it (largest first)."""

    evidence: EvidenceImage
    faces: tuple[DetectedFace, ...]
    detector_id: str

    def with_landmarks(self, landmarks: np.ndarray) -> PreparedImage:
        """This photo with one face only: the one the examiner's five points define."""
        face = manual_face(landmarks, self.evidence.width, self.evidence.height)
        detector_id = f"manual:{landmarks_key(landmarks)}"  # caches keyed by the placement
        return PreparedImage(self.evidence, (face,), detector_id)

    def face(self, index: int) -> DetectedFace:
        if not self.faces:
            raise NoFaceError(f"{self.evidence.name}: no face found (detector {self.detector_id})")
        if not 0 <= index < len(self.faces):
            raise FaceIndexError(
                f"{self.evidence.name}: face index {index} is out of range; "
                f"{len(self.faces)} face(s) found, valid indices 0..{len(self.faces) - 1}"
            )
        return self.faces[index]


@dataclass(frozen=True)
class FaceSide:
    """One side of a comparison: the photo, the chosen face and its alignment."""

    prepared: PreparedImage
    index: int
    aligned: AlignedFace
    features: CellFeatures

    def to_json(self) -> dict:
        return {
            "image": self.prepared.evidence.to_json(),
            "faces_found": len(self.prepared.faces),
            "faces": [{"index": i, **f.to_json()} for i, f in enumerate(self.prepared.faces)],
            "chosen_face": self.index,
            "alignment": {
                "size": self.aligned.size,
                "transform": self.aligned.transform.tolist(),
                "template": self.aligned.template,
            },
        }


@dataclass(frozen=True)
class Comparison:
    """The result of comparing two faces with one model."""

    a: FaceSide
    b: FaceSide
    model: ModelDescriptor
    detector: DetectorDescriptor
    decomposition: Decomposition
    device: str
    timings_ms: dict = field(default_factory=dict)
    forward_score: float | None = None  # core/forward_check.py; None: not computed

    @property
    def cosine(self) -> float:
        return self.decomposition.cosine

    @property
    def forward_residual(self) -> float | None:
        """|score of the model's own forward pass - sum of the terms| (independent check)."""
        if self.forward_score is None:
            return None
        return abs(self.forward_score - self.decomposition.total)

    def to_json(self) -> dict:
        return {
            "schema": "patchwise.comparison/1",
            "app_version": __version__,
            "torch_version": torch.__version__,
            "device": self.device,
            "detector": self.detector.to_json(),
            "model": self.model.to_json(),
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "score": {"cosine": self.cosine, "kind": self.model.score_kind},
            "decomposition": self.decomposition.to_json()
            | {
                "forward_score": self.forward_score,
                "forward_residual": self.forward_residual,
            },
            "timings_ms": self.timings_ms,
        }


class Engine:
    """Loads, detects, aligns, embeds and compares, with caches at every costly stage."""

    def __init__(
        self,
        detector: Detector,
        device: torch.device,
        max_pixels: int | None = None,
        cache_size: int = 256,
    ):
        self.detector = detector
        self.device = device
        self.max_pixels = max_pixels
        self._prepared: OrderedDict[str, PreparedImage] = OrderedDict()
        self._features: OrderedDict[tuple, tuple[AlignedFace, CellFeatures]] = OrderedDict()
        self._cache_size = cache_size
        self.lock = threading.RLock()  # serialises work on the caches across threads

    def model(self, model_id: str) -> FaceModel:
        return load_model(model_id, self.device)

    def prepare(
        self, source, name: str | None = None, timer: StageTimer | None = None
    ) -> PreparedImage:
        """Load a photo and detect its faces (cached by the file's SHA-256)."""
        timer = timer or StageTimer()
        with timer.stage("load"):
            evidence = load_evidence(source, name=name, max_pixels=self.max_pixels)
        cached = self._prepared.get(evidence.sha256)
        if cached is not None:
            return PreparedImage(evidence, cached.faces, cached.detector_id)
        with timer.stage("detect"):
            faces = tuple(self.detector.detect(evidence.rgb))
        prepared = PreparedImage(evidence, faces, self.detector.id)
        self._remember(self._prepared, evidence.sha256, prepared)
        return prepared

    def aligned_faces(
        self, items: list[tuple[PreparedImage, int]], model: FaceModel
    ) -> list[AlignedFace]:
        """Each (image, face index) aligned the way `model` takes it (not cached)."""
        align = getattr(model, "align", None) or (
            lambda rgb, landmarks: align_face(rgb, landmarks, model.input_size)
        )
        return [align(p.evidence.rgb, p.face(i).landmarks) for p, i in items]

    def side_features(
        self,
        items: list[tuple[PreparedImage, int]],
        model: FaceModel,
        timer: StageTimer | None = None,
    ) -> list[tuple[AlignedFace, CellFeatures]]:
        """Aligned faces and cell features for several (image, face index); one batched pass."""
        timer = timer or StageTimer()
        if hasattr(model, "members"):  # a fused model: every member aligns and embeds its own
            per_member = [self.side_features(items, m, timer) for m in model.members]
            return [
                (per_member[0][n][0], FusedFeatures(tuple(side[n][1] for side in per_member)))
                for n in range(len(items))
            ]
        keys = [(p.evidence.sha256, p.detector_id, i, model.id) for p, i in items]
        missing = [n for n, key in enumerate(keys) if key not in self._features]
        if missing:
            with timer.stage("align"):
                aligned = self.aligned_faces([items[n] for n in missing], model)
            with timer.stage("embed"):
                features = model.cell_features(np.stack([a.image for a in aligned]))
            for n, a, f in zip(missing, aligned, features, strict=True):
                self._remember(self._features, keys[n], (a, f))
        return [self._features[key] for key in keys]

    def compare(
        self,
        source_a,
        source_b,
        model_id: str,
        face_a: int = 0,
        face_b: int = 0,
        landmarks_a: np.ndarray | None = None,
        landmarks_b: np.ndarray | None = None,
    ) -> Comparison:
        """Compare face `face_a` of photo A with face `face_b` of photo B.

        `landmarks_a` / `landmarks_b` (5 x 2, placed by the examiner) replace the
        detected faces of that photo (core/manual_landmarks.py).
        """
        timer = StageTimer()
        self.model(model_id)  # fail early on an unknown model
        prepared = []
        for source, face, landmarks in (
            (source_a, face_a, landmarks_a),
            (source_b, face_b, landmarks_b),
        ):
            prep = self.prepare(source, timer=timer)
            if landmarks is not None:
                if face != 0:
                    raise UsageError("give either a face index or landmarks for a photo, not both")
                prep = prep.with_landmarks(landmarks)
            prepared.append(prep)
        return self.compare_prepared(*prepared, model_id, face_a, face_b, timer)

    def compare_prepared(
        self,
        prep_a: PreparedImage,
        prep_b: PreparedImage,
        model_id: str,
        face_a: int = 0,
        face_b: int = 0,
        timer: StageTimer | None = None,
    ) -> Comparison:
        """Compare two photos already loaded and detected by `prepare` (the GUI's path)."""
        timer = timer or StageTimer()
        model = self.model(model_id)
        prep_a.face(face_a), prep_b.face(face_b)  # fail early on a bad index
        (al_a, f_a), (al_b, f_b) = self.side_features(
            [(prep_a, face_a), (prep_b, face_b)], model, timer
        )
        with timer.stage("decompose"):
            decomposition = score_features(model, f_a, f_b)
        with timer.stage("forward check"):
            forward = self._forward_score(model, [(prep_a, face_a), (prep_b, face_b)], al_a, al_b)
        return Comparison(
            a=FaceSide(prep_a, face_a, al_a, f_a),
            b=FaceSide(prep_b, face_b, al_b, f_b),
            model=ModelDescriptor(model.describe()),
            detector=DetectorDescriptor(self.detector.describe()),
            decomposition=decomposition,
            device=str(self.device),
            timings_ms=timer.ms,
            forward_score=forward,
        )

    def _forward_score(self, model, items, al_a: AlignedFace, al_b: AlignedFace) -> float:
        """core/forward_check.py's score; a fused model's is its members' forward scores fused
        (each member on its own aligned faces, cached by side_features)."""
        if not hasattr(model, "members"):
            return forward_score(model, al_a.image, al_b.image)
        scores = []
        for member in model.members:
            (m_a, _), (m_b, _) = self.side_features(items, member)
            scores.append(forward_score(member, m_a.image, m_b.image))
        return model.fuse_scores(scores)

    def _remember(self, cache: OrderedDict, key, value) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > self._cache_size:
            cache.popitem(last=False)


def make_engine(
    device: str = "auto",
    threads: int | None = None,
    detector: str = "auto",
    detector_pack: str | None = None,
    max_pixels: int | None = None,
) -> Engine:
    """An Engine on `device` ("auto", "cpu", "cuda") with the chosen detector and pixel limit.

    `threads` sets torch's CPU threads for this thread (None: all cores).
    """
    from core.detection.select import make_detector
    from core.device import configure_threads, select_device
    from core.errors import UsageError

    if threads is not None and threads < 1:
        raise UsageError("--threads must be at least 1")
    configure_threads(threads)
    torch_device = select_device(device)
    found = make_detector(detector, pack_dir=detector_pack, device=torch_device)
    return Engine(found, torch_device, max_pixels=max_pixels)
