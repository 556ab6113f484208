"""SDD contrastive maps for verification: Scaled Directed Divergence adapted to open set.

SDD-CAM (arXiv 2505.03837, Sec. 3.2) sharpens a target class's CAM by subtracting
the CAMs of the top competing classes: CAM_SDD = exp(alpha (F x_t - sum_k x_k)).
Verification has no classes, so (our adaptation, as the issue specifies):
- target x_t: A's similarity Grad-CAM towards B's embedding;
- competitors x_k: A's similarity Grad-CAMs towards the k gallery faces most
  similar to A (k = 5); B likewise against A and B's own competitors.
The result shows what in A matches B specifically rather than faces in general.

Choices where the paper is loose (also in docs/explainers.md):
- All CAMs of one face are divided by max |x_t| first, so the exponent does not
  depend on the gradient's arbitrary scale.
- F = mean|sum_k x_k| / mean|x_t|, clipped to [|S|, 50] with |S| = k.
- alpha = clip(10 / max|F x_t - sum_k x_k|, 0.2, 0.4): the largest alpha in the
  paper's range that keeps the exponent within about +-10.
- Gallery faces with cosine >= 0.999 to A or B are the same photo and are skipped.
- The map is exp(...) scaled to [0, 1]; it is non-negative (specific evidence
  for similarity), so it has no "dissimilar" sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UsageError
from core.explainers.base import (
    BatchRunner,
    ExplainPair,
    Explanation,
    Stopwatch,
    cosines,
    pair_scores,
)
from core.explainers.gradcam import similarity_cams

SAME_PHOTO_COSINE = 0.999


@dataclass(frozen=True)
class SddSettings:
    gallery: object | None = None  # a core.explainers.gallery.Gallery (load_gallery)
    k: int = 5

    def validate(self) -> None:
        if self.gallery is None:
            raise UsageError(
                "SDD needs a background gallery (a folder of face photos, --gallery DIR); "
                "without one there are no competitors and no SDD map"
            )
        if self.k < 1:
            raise UsageError("SDD needs k >= 1 competitors")


def competitors(
    gallery_embeddings: np.ndarray, scores: np.ndarray, face_emb, other_emb, k: int
) -> np.ndarray:
    """Indices of the k gallery faces with the highest model score to the face (`scores`),
    skipping the pair's own photos (embedding cosine >= SAME_PHOTO_COSINE to A or B)."""
    sim = np.asarray(scores, dtype=np.float64)
    same = (cosines(gallery_embeddings, face_emb) >= SAME_PHOTO_COSINE) | (
        cosines(gallery_embeddings, other_emb) >= SAME_PHOTO_COSINE
    )
    order = [i for i in np.argsort(-sim) if not same[i]]
    if len(order) < k:
        raise UsageError(f"the gallery has {len(order)} usable faces; SDD needs k = {k}")
    return np.array(order[:k])


def sdd_map(target: np.ndarray, rivals: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(SDD map in [0, 1], F, alpha) from a target CAM and the competitor CAMs."""
    peak = float(np.abs(target).max()) or 1.0
    x_t, rival_sum = target / peak, rivals.sum(axis=0) / peak
    k = len(rivals)
    ratio = float(np.abs(rival_sum).mean() / max(np.abs(x_t).mean(), 1e-12))
    f = float(np.clip(ratio, k, 50.0))
    divergence = f * x_t - rival_sum
    alpha = float(np.clip(10.0 / max(float(np.abs(divergence).max()), 1e-12), 0.2, 0.4))
    sdd = np.exp(alpha * divergence)
    return (sdd / sdd.max()).astype(np.float32), f, alpha


def explain_sdd(
    pair: ExplainPair, settings: SddSettings, seed=None, progress=None, cancel=None
) -> Explanation:
    settings.validate()
    watch = Stopwatch()
    gallery = settings.gallery
    runner = BatchRunner(pair.model, progress, cancel, 2 * (settings.k + 1))
    maps, details = [], {}
    sides = (("a", pair.face_a, pair.emb_a, pair.emb_b), ("b", pair.face_b, pair.emb_b, pair.emb_a))
    for side, face, own, other in sides:
        runner.check()
        is_a = side == "a"
        g = gallery.embeddings
        scores = pair_scores(pair.model, own, g) if is_a else pair_scores(pair.model, g, own)
        chosen = competitors(g, scores, own, other, settings.k)
        targets = np.vstack([other[None], g[chosen]])
        faces = np.repeat(face[None], len(targets), 0)
        cams = similarity_cams(pair.model, faces, targets, False, is_a)
        runner.passes += len(targets)
        runner.advance(len(targets))
        m, f, alpha = sdd_map(cams[0], cams[1:])
        maps.append(m)
        details[side] = {
            "competitors": [gallery.names[i] for i in chosen],
            "competitor_scores": scores[chosen].tolist(),
            "F": f,
            "alpha": alpha,
        }
    return Explanation(
        method="sdd",
        map_a=maps[0],
        map_b=maps[1],
        parameters={
            "k": settings.k,
            "gallery": gallery.folder,
            "gallery_faces": len(gallery.names),
            "gallery_skipped": list(gallery.skipped),
            "gallery_cache": gallery.cache_dir,
            "cam": "similarity Grad-CAM",
            **details,
        },
        seed=seed,
        forward_passes=runner.passes,
        seconds=watch.seconds,
        model_id=pair.model.id,
        units="SDD = exp(alpha (F x_t - sum_k x_k)) scaled to [0, 1]; high = specific to the pair",
    )
