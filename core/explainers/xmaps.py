"""X-Maps: model-agnostic similarity maps by systematic occlusion (Knoche et al., Sec. 3.2).

For each patch size p in {7, 14, 28} (112-px units, scaled to the model's
input) a patch slides over each face with stride s = 5 (Alg. 1, Eq. 4). Every
occluded face is embedded (Eq. 5) and its distance d = 1 - score to the other face
(the model's own score: the cosine, or xCos for xCos models)
is chosen by Method I, II or III (Eq. 6-8). The per-size map is
S = sum_i (d_i - d_orig) M_i / N (Eq. 9): occluding a region that makes the
faces similar raises the distance, so positive means similar. The sizes are
merged with area weights 1 / (p^2 |p|) (Eq. 10), blurred with an s x s Gaussian
of sigma = s and scaled to [-1, 1].

Choices where the paper is loose (also in docs/explainers.md):
- Positions are every in-bounds top-left corner 0, s, 2s, ... (Alg. 1's "while
  within I"), i.e. floor((S - p) / s) + 1 per axis; Eq. 4's count has one fewer,
  which would leave the bottom and right edges never occluded.
- "Normalisation to [-1, 1]" divides by the largest |value| so that zero stays
  "no effect" and the sign keeps its meaning.
- cv2 needs an odd Gaussian kernel: an even s (10 px at 224 px) uses s + 1.
- Occlusion colour: black (0), gray (128) or noise (uniform 0..255 per pixel,
  drawn once per face from the seed).

Runtime (issue 12): Methods I-III need the same occluded embeddings, so one run
serves all three (cached per pair, model, runtime, sizes, stride, occluder).
Positions are embedded coarse to fine (stride 4s, 2s, then s) so that a
provisional map covers the whole face early; Eq. 9 sums over positions, so the
order does not change the final map.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from core.errors import UsageError
from core.explainers.base import (
    BatchRunner,
    ExplainPair,
    Explanation,
    PartialReporter,
    Stopwatch,
    as_images,
    normalise_signed,
    pair_scores,
    planar,
    score_matrix,
)
from core.models.onnx_runtime import runtime_name

OCCLUSIONS = ("black", "gray", "noise")


@dataclass(frozen=True)
class XMapSettings:
    method: int = 2  # X-Maps Method I, II or III (Eq. 6, 7, 8); see docs for the default
    patch_sizes: tuple[int, ...] = (7, 14, 28)  # 112-px units
    stride: int = 5  # 112-px units
    occlusion: str = "black"
    blur: bool = True

    def validate(self) -> None:
        if self.method not in (1, 2, 3):
            raise UsageError(f"X-Maps method must be 1, 2 or 3, not {self.method}")
        if self.occlusion not in OCCLUSIONS:
            raise UsageError(f"occlusion must be one of {', '.join(OCCLUSIONS)}")
        if not self.patch_sizes or min(self.patch_sizes) < 1 or self.stride < 1:
            raise UsageError("X-Maps patch sizes and stride must be positive")


def occlusion_positions(size: int, patch: int, stride: int) -> list[tuple[int, int]]:
    """Top-left (x, y) of every in-bounds patch, row by row (Alg. 1)."""
    steps = range(0, size - patch + 1, stride)
    return [(x, y) for y in steps for x in steps]


def _fill_image(face: np.ndarray, occlusion: str, rng: np.random.Generator) -> np.ndarray:
    if occlusion == "black":
        return np.zeros_like(face, dtype=np.float32)
    if occlusion == "gray":
        return np.full(face.shape, 128.0, dtype=np.float32)
    return rng.uniform(0.0, 255.0, size=face.shape).astype(np.float32)


def paint_patches(values, positions, patch: int, size: int) -> np.ndarray:
    """Eq. 9: sum_i values_i * M_i / N over the occlusion masks M_i."""
    out = np.zeros((size, size), dtype=np.float64)
    for v, (x, y) in zip(values, positions, strict=True):
        out[y : y + patch, x : x + patch] += v
    return out / len(positions)


def select_distances(method: int, model, f_a, f_b, emb_a, emb_b):
    """(D_1, D_2): distances 1 - score chosen by Method I, II or III (Eq. 6, 7, 8).

    The score is the model's own (score_tensor): the cosine, or xCos for xCos models.
    """
    if method == 1:
        d = 1.0 - score_matrix(model, f_a, f_b)  # N x N, all occluded A against all occluded B
        return d.mean(axis=1), d.mean(axis=0)
    if method == 2:
        return 1.0 - pair_scores(model, f_a, emb_b), 1.0 - pair_scores(model, emb_a, f_b)
    d = 1.0 - pair_scores(model, f_a, f_b)  # co-located occlusions
    return d, d


def blur_kernel(stride_px: int) -> int:
    return stride_px if stride_px % 2 == 1 else stride_px + 1


@dataclass
class OccludedEmbeddings:
    """Embeddings (float32, as the model returns them) of every occluded A and B, per patch
    size in Alg. 1 order; `done` marks the positions embedded so far. One set serves
    Methods I, II and III, which differ only in how distances are chosen (Eq. 6-8)."""

    positions: list[list[tuple[int, int]]]
    f_a: list[np.ndarray]
    f_b: list[np.ndarray]
    done: list[np.ndarray]

    @classmethod
    def empty(cls, positions, dim: int) -> OccludedEmbeddings:
        def zeros():
            return [np.zeros((len(p), dim), np.float32) for p in positions]

        return cls(positions, zeros(), zeros(), [np.zeros(len(p), bool) for p in positions])


_CACHE: OrderedDict[tuple, OccludedEmbeddings] = OrderedDict()
_CACHE_SIZE = 4
_cache_lock = threading.Lock()


def occlusion_key(pair: ExplainPair, sizes_px, stride: int, occlusion: str, seed) -> tuple:
    """Cache key: the faces and their unperturbed embeddings (so a randomised copy of a model
    never hits), model, runtime, patch sizes, stride, occluder (and seed for noise)."""
    digest = hashlib.sha256()
    for array in (pair.face_a, pair.face_b, pair.emb_a, pair.emb_b):
        digest.update(np.ascontiguousarray(array).tobytes())
    noise_seed = seed if occlusion == "noise" else None
    return (
        digest.hexdigest(),
        pair.model.id,
        runtime_name(pair.model),
        tuple(sizes_px),
        stride,
        occlusion,
        noise_seed,
    )


def clear_occlusion_cache() -> None:
    """Forget every cached occlusion run (the next X-Map embeds its occlusions again)."""
    with _cache_lock:
        _CACHE.clear()


def coarse_to_fine(positions_per_size) -> list[tuple[int, int]]:
    """(size index, position index) in passes of stride 4s, then 2s, then s, all sizes per pass,
    so that an early provisional map already covers the whole face."""
    levels = ([], [], [])
    for k, positions in enumerate(positions_per_size):
        per_axis = round(np.sqrt(len(positions)))
        for i in range(len(positions)):
            ix, iy = i % per_axis, i // per_axis
            level = 0 if ix % 4 == 0 and iy % 4 == 0 else 1 if ix % 2 == 0 and iy % 2 == 0 else 2
            levels[level].append((k, i))
    return [item for level in levels for item in level]


def _embed_occlusions(pair, fills, plan, occ: OccludedEmbeddings, runner, on_batch) -> None:
    schedule = coarse_to_fine(occ.positions)
    for start in range(0, len(schedule), runner.batch):
        items = schedule[start : start + runner.batch]
        for face, fill, store in (
            (pair.face_a, fills[0], occ.f_a),
            (pair.face_b, fills[1], occ.f_b),
        ):
            images = np.repeat(planar(face)[None], len(items), axis=0)
            fill = planar(fill)
            for n, (k, i) in enumerate(items):
                x, y = occ.positions[k][i]
                px = plan[k][1]
                images[n, :, y : y + px, x : x + px] = fill[:, y : y + px, x : x + px]
            embeddings = runner.embed(as_images(images))
            for n, (k, i) in enumerate(items):
                store[k][i] = embeddings[n]
        for k, i in items:
            occ.done[k][i] = True
        on_batch()


def xmap_maps(pair: ExplainPair, occ: OccludedEmbeddings, settings: XMapSettings, plan, stride):
    """(map A, map B, per-size maps) from the occluded embeddings embedded so far (Eq. 6-10)."""
    size = pair.size
    d_orig = 1.0 - pair.score  # the model's own score of the unoccluded pair
    merged_a = np.zeros((size, size))
    merged_b = np.zeros((size, size))
    extras = {}
    for k, (p, px) in enumerate(plan):
        done = occ.done[k]
        if not done.any():
            continue
        positions = [pos for pos, ok in zip(occ.positions[k], done, strict=True) if ok]
        f_a, f_b = occ.f_a[k][done], occ.f_b[k][done]
        d_a, d_b = select_distances(settings.method, pair.model, f_a, f_b, pair.emb_a, pair.emb_b)
        s_a = paint_patches(d_a - d_orig, positions, px, size)
        s_b = paint_patches(d_b - d_orig, positions, px, size)
        extras[f"a_patch{p}"], extras[f"b_patch{p}"] = (
            s_a.astype(np.float32),
            s_b.astype(np.float32),
        )
        weight = 1.0 / (p * p * len(plan))  # Eq. 10
        merged_a += weight * s_a
        merged_b += weight * s_b
    if settings.blur:
        k = blur_kernel(stride)
        merged_a = cv2.GaussianBlur(merged_a, (k, k), stride)
        merged_b = cv2.GaussianBlur(merged_b, (k, k), stride)
    return normalise_signed(merged_a), normalise_signed(merged_b), extras, d_orig


def explain_xmap(
    pair: ExplainPair, settings: XMapSettings, seed, progress=None, cancel=None, partial=None
):
    """X-Maps for both faces of `pair`; see the module docstring.

    The occluded embeddings are cached per (pair, model, runtime, patch sizes,
    stride, occluder), so Methods I, II and III share one run. While they
    accumulate (coarse to fine), `partial(map_a, map_b, done, total)` receives a
    provisional map about every second.
    """
    settings.validate()
    watch = Stopwatch()
    size, scale = pair.size, pair.scale
    stride = max(1, round(settings.stride * scale))
    plan = [(p, max(1, round(p * scale))) for p in settings.patch_sizes]
    key = occlusion_key(pair, [px for _, px in plan], stride, settings.occlusion, seed)
    with _cache_lock:
        occ = _CACHE.get(key)
    runner = None
    if occ is None:
        rng = np.random.default_rng(seed)
        fills = (
            _fill_image(pair.face_a, settings.occlusion, rng),
            _fill_image(pair.face_b, settings.occlusion, rng),
        )
        positions = [occlusion_positions(size, px, stride) for _, px in plan]
        occ = OccludedEmbeddings.empty(positions, len(pair.emb_a))
        runner = BatchRunner(pair.model, progress, cancel, 2 * sum(len(p) for p in positions))
        reporter = PartialReporter(partial)

        def report() -> None:
            reporter.offer(
                runner.done, runner.total, lambda: xmap_maps(pair, occ, settings, plan, stride)[:2]
            )

        _embed_occlusions(pair, fills, plan, occ, runner, report)
        with _cache_lock:
            _CACHE[key] = occ
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    map_a, map_b, extras, d_orig = xmap_maps(pair, occ, settings, plan, stride)
    parameters = asdict(settings) | {
        "patch_sizes_px": [px for _, px in plan],
        "stride_px": stride,
        "blur_kernel_px": blur_kernel(stride) if settings.blur else None,
        "d_orig": d_orig,
    }
    notes = []
    if runner is None:
        notes.append(
            "occluded embeddings reused from an earlier X-Map run on this pair (same model, "
            "runtime, patch sizes, stride and occluder): no new forward passes"
        )
    return Explanation(
        method="xmap",
        map_a=map_a,
        map_b=map_b,
        parameters=parameters,
        seed=seed,
        forward_passes=runner.passes if runner else 0,
        seconds=watch.seconds,
        model_id=pair.model.id,
        units="X-Map, scaled to [-1, 1] by the largest |value|; + similar, - dissimilar",
        extras=extras,
        notes=notes,
    )
