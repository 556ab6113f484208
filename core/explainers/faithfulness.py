"""Per-pair score AUC: deletion and insertion for one pair (after Lu et al., Sec. 4, Alg. 2),
with a random-map baseline. The paper's own protocol (dataset accuracy) is
accuracy_fidelity.py (`explain-bench`).

For one face X with map m (the other face's embedding fixed): sort X's pixels
by m, most similar-making first. For k = 0..n, the top k/n of the pixels are
deleted (set to the plain value) or inserted into a plain image, and the
model's score (score_tensor) to the other face is recorded. The AUC is the
trapezoid area of the score against the fraction k/n. A faithful map's deletion
curve falls faster than a random map's (lower AUC) and its insertion curve rises
faster (higher AUC); `worse_than_random` flags a map that does not. X-Maps
Method III maps were made by occluding both faces at the same place, so they
are tested that way: both faces perturbed at the same pixels (mode "joint").

Choices (also in docs/explainers.md): the paper measures dataset accuracy; per
pair we track the score itself, and include k = 0 so each curve starts at
the unperturbed score. The plain value is mid-gray (128). The random baseline
uses spatially smooth random maps (white noise blurred with sigma = 8 px per
112 px) so that it removes blobs like a real map does rather than scattered
pixels, averaged over `random_maps` draws from the seed. Fidelity figures are
averaged over the two faces.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from core.explainers.base import BatchRunner, ExplainPair, Explanation, pair_scores

PLAIN_VALUE = 128.0


@dataclass(frozen=True)
class FidelitySettings:
    steps: int = 20
    random_maps: int = 3


def _curve_images(face: np.ndarray, saliency: np.ndarray, steps: int, insert: bool):
    order = np.argsort(-saliency.ravel(), kind="stable")
    plain = np.full(face.shape, PLAIN_VALUE, np.float32)
    source = face.astype(np.float32)
    total = order.size

    def make(start: int, stop: int) -> np.ndarray:
        out = []
        for k in range(start, stop):
            chosen = np.zeros(total, bool)
            chosen[order[: round(total * k / steps)]] = True
            chosen = chosen.reshape(saliency.shape)[..., None]
            out.append(
                np.where(chosen, source, plain) if insert else np.where(chosen, plain, source)
            )
        return np.stack(out)

    return make


def perturbed_embeddings(runner: BatchRunner, face, saliency, steps: int, insert: bool):
    """(n + 1) x D embeddings of `face` with its top k/n pixels (by `saliency`) deleted or
    inserted, k = 0..n."""
    return runner.embed_generated(steps + 1, _curve_images(face, saliency, steps, insert))


def curves(runner: BatchRunner, face, other_emb, saliency, steps: int, face_is_a: bool = True):
    """(deletion curve, insertion curve): the model's scores at fractions 0, 1/n, ..., 1."""
    result = []
    for insert in (False, True):
        emb = perturbed_embeddings(runner, face, saliency, steps, insert)
        sides = (emb, other_emb) if face_is_a else (other_emb, emb)
        result.append(pair_scores(runner.model, *sides))
    return result


def joint_curves(runner: BatchRunner, pair: ExplainPair, saliency, steps: int):
    """As `curves`, with both faces perturbed at the same pixels (X-Maps Method III)."""
    result = []
    for insert in (False, True):
        emb_a = perturbed_embeddings(runner, pair.face_a, saliency, steps, insert)
        emb_b = perturbed_embeddings(runner, pair.face_b, saliency, steps, insert)
        result.append(pair_scores(runner.model, emb_a, emb_b))
    return result


def is_joint_occlusion_map(explanation: Explanation) -> bool:
    """X-Maps Method III was made by occluding both faces at the same place."""
    return explanation.method == "xmap" and explanation.parameters.get("method") == 3


def auc(curve: np.ndarray) -> float:
    x = np.linspace(0.0, 1.0, len(curve))
    return float(np.sum((curve[1:] + curve[:-1]) * np.diff(x)) / 2.0)


def smooth_random_map(rng: np.random.Generator, size: int) -> np.ndarray:
    sigma = 8.0 * size / 112.0
    return cv2.GaussianBlur(rng.standard_normal((size, size)), (0, 0), sigma)


def fidelity(
    pair: ExplainPair,
    explanation: Explanation,
    settings: FidelitySettings,
    seed,
    progress=None,
    cancel=None,
) -> dict:
    """Per-pair score AUCs of deletion/insertion for the explanation's maps and for random
    maps (JSON-ready), flagged when the map does no better than random."""
    n = settings.steps
    total = 2 * 2 * (n + 1) * (1 + settings.random_maps)
    runner = BatchRunner(pair.model, progress, cancel, total)
    rng = np.random.default_rng(seed)
    per_face, random_del, random_ins = [], [], []
    joint = is_joint_occlusion_map(explanation)
    if joint:
        order = explanation.map_a.astype(np.float64) + explanation.map_b
        per_face.append(joint_curves(runner, pair, order, n))
        for _ in range(settings.random_maps):
            r_del, r_ins = joint_curves(runner, pair, smooth_random_map(rng, pair.size), n)
            random_del.append(auc(r_del))
            random_ins.append(auc(r_ins))
    else:
        faces = (
            (pair.face_a, pair.emb_b, explanation.map_a, True),
            (pair.face_b, pair.emb_a, explanation.map_b, False),
        )
        for face, other, saliency, is_a in faces:
            per_face.append(curves(runner, face, other, saliency, n, is_a))
            for _ in range(settings.random_maps):
                random_map = smooth_random_map(rng, face.shape[0])
                r_del, r_ins = curves(runner, face, other, random_map, n, is_a)
                random_del.append(auc(r_del))
                random_ins.append(auc(r_ins))
    result = {
        "protocol": (
            "per-pair score AUC: the model's score while the top pixels are deleted/inserted "
            "(after CorrRISE Alg. 2, which uses dataset accuracy: see explain-bench), "
            "plain value 128, "
            + ("both faces at the same pixels (X-Maps III)" if joint else "one face at a time")
        ),
        "settings": asdict(settings),
        "seed": seed,
        "mode": "joint" if joint else "single",
        "deletion_auc": float(np.mean([auc(d) for d, _ in per_face])),
        "insertion_auc": float(np.mean([auc(i) for _, i in per_face])),
        "random_deletion_auc": float(np.mean(random_del)),
        "random_insertion_auc": float(np.mean(random_ins)),
        "fractions": np.linspace(0.0, 1.0, n + 1).tolist(),
        "curves": {
            side: {"deletion": d.tolist(), "insertion": i.tolist()}
            for side, (d, i) in zip(("ab",) if joint else ("a", "b"), per_face, strict=True)
        },
        "forward_passes": runner.passes,
    }
    result["worse_than_random"] = {
        "deletion": result["deletion_auc"] >= result["random_deletion_auc"],
        "insertion": result["insertion_auc"] <= result["random_insertion_auc"],
    }
    return result
