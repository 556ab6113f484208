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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from core.errors import UsageError
from core.explainers.base import (
    BatchRunner,
    ExplainPair,
    Explanation,
    Stopwatch,
    normalise_signed,
    pair_scores,
    score_matrix,
)

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


def _occluded(face, fill, positions, patch):
    def make(start: int, stop: int) -> np.ndarray:
        out = np.repeat(face[None].astype(np.float32), stop - start, axis=0)
        for n, (x, y) in enumerate(positions[start:stop]):
            out[n, y : y + patch, x : x + patch] = fill[y : y + patch, x : x + patch]
        return out

    return make


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


def explain_xmap(pair: ExplainPair, settings: XMapSettings, seed, progress=None, cancel=None):
    """X-Maps for both faces of `pair`; see the module docstring."""
    settings.validate()
    watch = Stopwatch()
    size, scale = pair.size, pair.scale
    stride = max(1, round(settings.stride * scale))
    rng = np.random.default_rng(seed)
    fill_a = _fill_image(pair.face_a, settings.occlusion, rng)
    fill_b = _fill_image(pair.face_b, settings.occlusion, rng)
    plan = [(p, max(1, round(p * scale))) for p in settings.patch_sizes]
    plan_positions = [occlusion_positions(size, px, stride) for _, px in plan]
    total = 2 * sum(len(pos) for pos in plan_positions)
    runner = BatchRunner(pair.model, progress, cancel, total)
    d_orig = 1.0 - pair.score
    merged_a = np.zeros((size, size))
    merged_b = np.zeros((size, size))
    extras = {}
    for (p, px), positions in zip(plan, plan_positions, strict=True):
        f_a = runner.embed_generated(len(positions), _occluded(pair.face_a, fill_a, positions, px))
        f_b = runner.embed_generated(len(positions), _occluded(pair.face_b, fill_b, positions, px))
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
    parameters = asdict(settings) | {
        "patch_sizes_px": [px for _, px in plan],
        "stride_px": stride,
        "blur_kernel_px": blur_kernel(stride) if settings.blur else None,
        "d_orig": d_orig,
    }
    return Explanation(
        method="xmap",
        map_a=normalise_signed(merged_a),
        map_b=normalise_signed(merged_b),
        parameters=parameters,
        seed=seed,
        forward_passes=runner.passes,
        seconds=watch.seconds,
        model_id=pair.model.id,
        units="X-Map, scaled to [-1, 1] by the largest |value|; + similar, - dissimilar",
        extras=extras,
    )
