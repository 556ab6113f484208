"""What every explainer shares: the pair it explains, the Explanation it returns,
progress and cancellation, and batched perturbation passes.

Maps are in aligned-face pixels of the model input (S x S) and signed:
positive means "this region makes the two faces similar", negative
"dissimilar". Each explainer records its method, parameters, seed, the number of
images it sent through the model and its wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from core.errors import PatchwiseError, UsageError
from core.models.face_model import FaceModel

Progress = Callable[[int, int], None]
# partial(map_a, map_b, done, total): a provisional map pair while passes accumulate.
Partial = Callable[[np.ndarray, np.ndarray, int, int], None]
PARTIAL_EVERY_S = 1.0  # how often a progressive explainer reports a provisional map


class Cancelled(PatchwiseError):
    """The user cancelled a running explainer (CLI exit code 130, like Ctrl-C)."""

    exit_code = 130


class MethodUnavailableError(UsageError):
    """The method cannot explain this model (e.g. Grad-CAM on a restricted-field model)."""


def cancel_check(cancel) -> Callable[[], bool]:
    """Accept None, a callable returning bool, or an object with is_set() (threading.Event)."""
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise TypeError("cancel must be None, a callable or an Event-like object with is_set()")


@dataclass(frozen=True)
class ExplainPair:
    """Two aligned faces (S x S x 3 uint8 RGB), their unperturbed embeddings and the model."""

    face_a: np.ndarray
    face_b: np.ndarray
    emb_a: np.ndarray
    emb_b: np.ndarray
    model: FaceModel

    @property
    def size(self) -> int:
        return int(self.face_a.shape[0])

    @property
    def score(self) -> float:
        """The unperturbed pair's score, by the model's score_tensor."""
        return float(pair_scores(self.model, self.emb_a, self.emb_b)[0])

    @property
    def scale(self) -> float:
        """Model pixels per 112-px unit (the papers' parameters are in 112 px faces)."""
        return self.size / 112.0


def pair_from_comparison(
    comparison, model: FaceModel | None = None, runtime: str = "torch"
) -> ExplainPair:
    """The engine's pair: aligned faces and the cached embeddings of a Comparison.

    `runtime` chooses what runs the batched perturbation passes (torch, the
    reference, or onnx: core.models.onnx_runtime); the embeddings of the
    unperturbed faces are always the engine's torch ones.
    """
    from core.models.onnx_runtime import with_runtime
    from core.models.registry import load_model

    model = model or load_model(comparison.model.id, torch.device(comparison.device))
    model = with_runtime(model, runtime, torch.get_num_threads())
    return ExplainPair(
        face_a=comparison.a.aligned.image,
        face_b=comparison.b.aligned.image,
        emb_a=np.asarray(comparison.a.features.embedding, dtype=np.float64),
        emb_b=np.asarray(comparison.b.features.embedding, dtype=np.float64),
        model=model,
    )


def pair_with_model(pair: ExplainPair, model: FaceModel) -> ExplainPair:
    """The same faces under another model (e.g. a randomised copy): embeddings recomputed."""
    runner = BatchRunner(model, None, None)
    emb = runner.embed(np.stack([pair.face_a, pair.face_b]).astype(np.float32))
    return ExplainPair(pair.face_a, pair.face_b, emb[0], emb[1], model)


@dataclass
class Explanation:
    """Signed maps for faces A and B plus everything needed to reproduce them."""

    method: str
    map_a: np.ndarray  # S x S float32, aligned-face pixels of face A
    map_b: np.ndarray
    parameters: dict
    seed: int | None
    forward_passes: int  # images sent through model.embed_tensor (or spatial_forward)
    seconds: float
    model_id: str
    units: str  # what a map value means
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # per-size maps, S+/S-, ...
    notes: list[str] = field(default_factory=list)
    runtime: dict = field(default_factory=lambda: {"runtime": "torch"})  # what ran the passes

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "model": self.model_id,
            "parameters": self.parameters,
            "seed": self.seed,
            "forward_passes": self.forward_passes,
            "seconds": round(self.seconds, 4),
            "forward_passes_per_second": (
                round(self.forward_passes / self.seconds, 2) if self.seconds > 0 else None
            ),
            "map_size": list(self.map_a.shape),
            "units": self.units,
            "map_a_range": [float(self.map_a.min()), float(self.map_a.max())],
            "map_b_range": [float(self.map_b.min()), float(self.map_b.max())],
            "extra_maps": sorted(self.extras),
            "notes": list(self.notes),
            "runtime": self.runtime,
        }


def default_batch(model: FaceModel) -> int:
    """Images per forward pass: bounded so a 224 px model on CPU stays within memory
    and a cancel is honoured within about a second.

    Restricted-field models run one backbone pass per patch, so they get K times fewer.
    """
    base = 32 if model.input_size <= 112 else 16
    if model.layout.kind == "restricted":
        return max(1, 16 // model.layout.count)
    return base


def default_chunk(model: FaceModel) -> int:
    """Images per forward pass inside a batch, chosen per runtime by measurement.

    Issue 12, quiet 2-core EPYC, passes/s at each pass size:
    - torch eager: dlib-resnet 164 / 224 / 280 at 4 / 8 / 16, mobileface 818 / 1689
      at 8 / 32, faceres 93 / 97 at 4 / 8: larger passes are faster;
    - ONNX Runtime (a pass is split over single-threaded runs, onnx_runtime.py):
      dlib-resnet 582 / 643 / 647 at 4 / 8 / 16, mobileface 6678 / 4798 at 8 / 32,
      faceres 251 / 241 at 4 / 8 (its X-Map 9.7-9.8 s at 4 against 10.4-11.0 s at 8,
      alternating runs): small passes keep the activations of a 224 px face in cache.
    So ONNX Runtime runs passes of 4 above 160 px and 8 below; torch keeps 8 above
    112 px, so that a cancel, checked before every pass, lands within one pass
    (< 0.1 s quiet) even for faceres on a loaded machine, and 32 at 112 px. The
    explainers' batches (default_batch: how many masks are drawn at once, ...) stay as
    they are, so no result changes."""
    if getattr(model, "runtime", "torch") == "onnx":  # OnnxModel, the fast path
        chunk = 4 if model.input_size > 160 else 8
    else:
        chunk = 8 if model.input_size > 112 else 32
    return min(default_batch(model), chunk)


class BatchRunner:
    """Batched embed_tensor passes under inference_mode, with progress, cancel and a pass count."""

    def __init__(self, model: FaceModel, progress: Progress | None, cancel, total: int = 0):
        self.model = model
        self.progress = progress
        self.cancelled = cancel_check(cancel)
        self.total = total
        self.done = 0
        self.passes = 0
        self.batch = default_batch(model)
        self.chunk = default_chunk(model)
        self.device = getattr(model, "device", torch.device("cpu"))
        self.fast = getattr(model, "embed_array", None)

    def check(self) -> None:
        if self.cancelled():
            raise Cancelled("explanation cancelled")

    def advance(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done))

    def embed(self, images: np.ndarray) -> np.ndarray:
        """N x S x S x 3 float (0..255) -> N x D float64 embeddings, in chunks."""
        return self.embed_generated(len(images), lambda start, stop: images[start:stop])

    def embed_generated(self, count: int, make: Callable[[int, int], np.ndarray]) -> np.ndarray:
        """Embed `count` images built chunk by chunk by make(start, stop) (bounded memory).

        The cancel flag is checked before every chunk (default_chunk), so a cancel
        takes effect within one forward pass.
        """
        out = []
        for start in range(0, count, self.chunk):
            self.check()
            chunk = make(start, min(count, start + self.chunk))
            out.append(self.embed_chunk(chunk))
            self.passes += len(chunk)
            self.advance(len(chunk))
        return np.concatenate(out)

    def embed_chunk(self, chunk: np.ndarray) -> np.ndarray:
        """B x S x S x 3 float -> B x D float64: the model's fast path (`embed_array`, e.g.
        ONNX Runtime) when it has one, else embed_tensor under inference_mode."""
        x = np.ascontiguousarray(chunk.transpose(0, 3, 1, 2), np.float32)
        if self.fast is not None:
            return self.fast(x)
        with torch.inference_mode():
            return (
                self.model.embed_tensor(torch.from_numpy(x).to(self.device)).double().cpu().numpy()
            )


def planar(face: np.ndarray) -> np.ndarray:
    """S x S x 3 face -> 3 x S x S float32, the layout the model takes."""
    return np.ascontiguousarray(face.transpose(2, 0, 1), np.float32)


def as_images(planar_batch: np.ndarray) -> np.ndarray:
    """N x 3 x S x S -> the N x S x S x 3 view BatchRunner takes; it hands the memory on to
    the model without a copy (a transposed copy per batch cost CorrRISE ~10% of its time)."""
    return planar_batch.transpose(0, 2, 3, 1)


def pair_scores(model: FaceModel, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The model's own score (`score_tensor`) of embeddings a and b, face A's side first.

    a, b: N x D or D (one side broadcast). For cosine models this is the cosine; for
    xCos it is xCos, so every explainer explains the score the engine reports.
    """
    device = getattr(model, "device", torch.device("cpu"))
    ta = torch.from_numpy(np.atleast_2d(np.asarray(a, np.float32))).to(device)
    tb = torch.from_numpy(np.atleast_2d(np.asarray(b, np.float32))).to(device)
    with torch.inference_mode():
        return model.score_tensor(ta, tb).double().cpu().numpy()


def score_matrix(model: FaceModel, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """N x M scores of every row of a (face A's side) with every row of b."""
    return np.stack([pair_scores(model, row, b) for row in np.atleast_2d(a)])


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosines(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise cosine of X (N x D) with one vector y (D,)."""
    return unit_rows(x) @ unit_rows(y)[0]


def normalise_signed(m: np.ndarray) -> np.ndarray:
    """Scale to [-1, 1] by the largest |value|, keeping zero at zero (the sign is the meaning)."""
    peak = float(np.abs(m).max())
    return (m / peak if peak > 0 else m).astype(np.float32)


class PartialReporter:
    """Calls `partial` with a provisional map about every PARTIAL_EVERY_S seconds.

    `offer(done, total, make)` calls make() -> (map_a, map_b) only when a report is
    due, so building a provisional map costs nothing between reports.
    """

    def __init__(self, partial: Partial | None, every: float | None = None):
        self.partial = partial
        self.every = PARTIAL_EVERY_S if every is None else every
        self.last = time.perf_counter()

    def offer(self, done: int, total: int, make: Callable[[], tuple]) -> None:
        if self.partial is None or done >= total:
            return
        now = time.perf_counter()
        if now - self.last >= self.every:
            map_a, map_b = make()
            self.partial(map_a, map_b, done, total)
            self.last = time.perf_counter()


class Stopwatch:
    def __init__(self):
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
