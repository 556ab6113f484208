"""Optional detector: the detection model (SCRFD / RetinaFace) of a LOCAL insightface pack.

insightface ships no models, and its convenience API downloads packs from
the internet. Patchwise never lets it: the pack folder is found here
(``find_insightface_pack``), checked for ``.onnx`` files before insightface is
touched, and each ONNX file is handed to ``insightface.model_zoo.get_model``
as an explicit file path (no download). The first file insightface routes to
a model with ``taskname == 'detection'`` is used; the pack's recognition,
landmark and attribute models are ignored.

The model packs (buffalo_l, antelopev2, ...) carry their own, often
non-commercial, licences; Patchwise bundles none of them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.detection.detected_face import DetectedFace, sort_by_size
from core.errors import DetectorUnavailableError, PatchwiseError
from core.file_hash import sha256_file

ENV_VAR = "PATCHWISE_DETECTOR_PACK"
KNOWN_PACKS = ("buffalo_l", "buffalo_m", "buffalo_s", "antelopev2")


def _onnx_files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.glob("*.onnx") if p.is_file())
    except OSError:
        return []


def default_pack_locations() -> list[Path]:
    """The folders searched when no pack is named: ~/.insightface/models/<pack>."""
    root = Path(os.path.expanduser("~")) / ".insightface" / "models"
    return [root / name for name in KNOWN_PACKS]


def find_insightface_pack(explicit_dir: str | os.PathLike | None = None) -> Path | None:
    """Locate a local insightface model pack, or return None.

    Order: ``explicit_dir`` (the CLI's ``--detector-pack DIR``), else the
    environment variable ``PATCHWISE_DETECTOR_PACK``, else the first of
    ``~/.insightface/models/{buffalo_l,buffalo_m,buffalo_s,antelopev2}``.
    Only a directory that holds at least one ``.onnx`` file counts. An
    explicit directory or environment variable that does not qualify gives
    None (it does not fall through to the defaults: the user asked for that
    pack).
    """
    if explicit_dir:
        p = Path(explicit_dir).expanduser()
        return p if p.is_dir() and _onnx_files(p) else None
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        p = Path(env).expanduser()
        return p if p.is_dir() and _onnx_files(p) else None
    for p in default_pack_locations():
        if p.is_dir() and _onnx_files(p):
            return p
    return None


def pack_search_description(explicit_dir: str | os.PathLike | None = None) -> str:
    """Human-readable list of every place ``find_insightface_pack`` looks."""
    if explicit_dir:
        return f"{Path(explicit_dir).expanduser()} (from --detector-pack)"
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return f"{Path(env).expanduser()} (from ${ENV_VAR})"
    places = ", ".join(str(p) for p in default_pack_locations())
    return f"{places} (${ENV_VAR} not set)"


def _detection_first(files: list[Path]) -> list[Path]:
    """Try likely detector files first so that big recognition models are rarely loaded."""
    hint = ("det", "scrfd", "retinaface")
    return sorted(files, key=lambda p: (not any(h in p.name.lower() for h in hint), p.name))


class InsightFaceDetector:
    """The detection model of a local insightface pack, behind the Detector protocol."""

    def __init__(
        self,
        pack_dir: str | os.PathLike,
        *,
        device: str | None = None,
        det_size: tuple[int, int] = (640, 640),
        det_thresh: float = 0.5,
    ) -> None:
        self.pack_dir = Path(pack_dir).expanduser()
        self.det_size = (int(det_size[0]), int(det_size[1]))
        self.det_thresh = float(det_thresh)
        if not self.pack_dir.is_dir():
            raise DetectorUnavailableError(
                f"insightface model pack not found: {self.pack_dir} is not a directory"
            )
        files = _onnx_files(self.pack_dir)
        if not files:
            raise DetectorUnavailableError(
                f"insightface model pack {self.pack_dir} holds no .onnx files "
                f"(looked for {self.pack_dir / '*.onnx'})"
            )

        try:
            import onnxruntime
            from insightface.model_zoo import model_zoo
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise DetectorUnavailableError(f"insightface is not usable: {exc}") from exc

        use_cuda = (
            device is not None
            and str(device).startswith("cuda")
            and "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        )
        providers = (
            ["CUDAExecutionProvider", "CPUExecutionProvider"]
            if use_cuda
            else ["CPUExecutionProvider"]
        )
        ctx_id = 0 if use_cuda else -1

        problems: list[str] = []
        self.model = None
        self.onnx_file: Path | None = None
        for path in _detection_first(files):
            try:
                # An explicit .onnx path: insightface routes it by its graph and
                # never downloads (download defaults to False as well).
                model = model_zoo.get_model(str(path), providers=providers, download=False)
            except Exception as exc:  # onnxruntime / protobuf errors have no common base
                problems.append(f"{path.name}: {type(exc).__name__}: {exc}".strip())
                continue
            if model is None or getattr(model, "taskname", None) != "detection":
                task = getattr(model, "taskname", None) if model is not None else "unrecognised"
                problems.append(f"{path.name}: not a detection model ({task})")
                continue
            if not getattr(model, "use_kps", False):
                problems.append(f"{path.name}: detection model without 5-point landmarks")
                continue
            self.model, self.onnx_file = model, path
            break
        if self.model is None:
            detail = "; ".join(problems)
            raise DetectorUnavailableError(
                f"no usable insightface detection model in {self.pack_dir} "
                f"(tried {', '.join(p.name for p in files)}): {detail}"
            )
        try:
            self.model.prepare(ctx_id, input_size=self.det_size, det_thresh=self.det_thresh)
        except Exception as exc:
            raise DetectorUnavailableError(
                f"insightface detection model {self.onnx_file} failed to initialise: {exc}"
            ) from exc

        self.pack_name = self.pack_dir.name
        self.id = f"insightface:{self.pack_name}/{self.onnx_file.name}"
        self.onnx_sha256 = sha256_file(self.onnx_file)
        self.device = "cuda" if use_cuda else "cpu"

    def describe(self) -> dict:
        return {
            "id": self.id,
            "kind": "insightface",
            "model_class": type(self.model).__name__,
            "pack": str(self.pack_dir),
            "weights": {"file": self.onnx_file.name, "sha256": self.onnx_sha256},
            "det_size": list(self.det_size),
            "det_thresh": self.det_thresh,
            "device": self.device,
        }

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise PatchwiseError(
                "the detector needs an HxWx3 uint8 RGB image, "
                f"got shape {rgb.shape} dtype {rgb.dtype}"
            )
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # insightface models take BGR
        # the input size was fixed by prepare(); a model with a static input keeps its own
        det, kps = self.model.detect(bgr)
        faces = []
        if det is None or kps is None:
            return faces
        for row, points in zip(np.asarray(det), np.asarray(kps), strict=True):
            x1, y1, x2, y2, score = (float(v) for v in row[:5])
            faces.append(
                DetectedFace(
                    box=(x1, y1, x2, y2),
                    score=score,
                    landmarks=np.asarray(points, dtype=np.float64).reshape(5, 2),
                )
            )
        return sort_by_size(faces)
