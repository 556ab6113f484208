"""The paper's fidelity protocol: verification accuracy while the top-p % pixels are deleted
or inserted (Lu et al., CorrRISE, Sec. 4, Alg. 2; the shape of their Table 1).

Over the matching (genuine) pairs of a labelled set, with the set's own
threshold t (the accuracy-maximising one over all its pairs, `set_threshold`): for p_k = k/n,
k = 1..n, the top p_k of each face's pixels by its map are replaced by the plain
value (deletion) or copied into a plain image (insertion), and the accuracy is
the share of perturbed pairs the model still accepts (score >= t, the model's
own score_tensor). Deletion / Insertion = the area under accuracy vs p_k over
k = 1..n (trapezoid), in %, as in the paper: lower deletion and higher
insertion are better. k = 0 (nothing perturbed) is recorded too but is not in
the area.

How a pair is perturbed (our reading; the paper does not say):
- "single" (every map except X-Maps III): face A is perturbed by its map
  against the intact B, and B by its map against the intact A; each is one trial.
  Perturbing both faces by their own maps would, at p = 100 %, compare two plain
  images, which every model accepts.
- "joint" (X-Maps Method III, which was made with co-located occlusion of both
  faces): both faces are perturbed at the same pixels, ranked by the sum of
  the two maps, and the pair is one trial.
The random baseline uses smooth random maps (faithfulness.smooth_random_map),
`random_maps` draws per pair, in the same mode. A map whose deletion area is not
below the random one, or whose insertion area is not above it, is flagged
`worse_than_random`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.explainers.base import BatchRunner, ExplainPair, pair_scores
from core.explainers.faithfulness import perturbed_embeddings, smooth_random_map
from core.verification_metrics import best_accuracy

MODES = ("single", "joint")


@dataclass(frozen=True)
class AccuracyFidelitySettings:
    steps: int = 10  # n: p_k = k/n, k = 1..n
    random_maps: int = 3


def set_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """The set's accuracy-maximising threshold, placed midway between the lowest accepted
    and the highest rejected score, so that float32 re-scoring of a pair lying exactly on
    it cannot flip its decision."""
    scores = np.asarray(scores, dtype=np.float64)
    _, lowest_accepted = best_accuracy(scores, np.asarray(same, dtype=bool))
    below = scores[scores < lowest_accepted]
    return float((lowest_accepted + below.max()) / 2) if below.size else lowest_accepted - 1e-6


def fractions(steps: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, steps + 1)


def area_percent(accuracy: np.ndarray) -> float:
    """Alg. 2's AreaUnderCurve(acc_k vs k/n, k = 1..n), trapezoid, in % (0..100)."""
    x = fractions(len(accuracy) - 1)[1:]
    y = np.asarray(accuracy, dtype=np.float64)[1:]
    if len(y) < 2:
        return float(100.0 * y.mean())
    return float(100.0 * np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


def pair_trial_scores(
    runner: BatchRunner, pair: ExplainPair, map_a, map_b, steps: int, mode: str
) -> dict[str, np.ndarray]:
    """Scores of the perturbed trials of one pair: {"deletion", "insertion"}: T x (n + 1)."""
    out = {}
    for name, insert in (("deletion", False), ("insertion", True)):
        if mode == "joint":
            order = np.asarray(map_a, np.float64) + np.asarray(map_b, np.float64)
            emb_a = perturbed_embeddings(runner, pair.face_a, order, steps, insert)
            emb_b = perturbed_embeddings(runner, pair.face_b, order, steps, insert)
            out[name] = pair_scores(pair.model, emb_a, emb_b)[None]
        else:
            emb_a = perturbed_embeddings(runner, pair.face_a, map_a, steps, insert)
            emb_b = perturbed_embeddings(runner, pair.face_b, map_b, steps, insert)
            out[name] = np.stack(
                [
                    pair_scores(pair.model, emb_a, pair.emb_b),
                    pair_scores(pair.model, pair.emb_a, emb_b),
                ]
            )
    return out


def accuracy_summary(trials: dict[str, list[np.ndarray]], threshold: float) -> dict:
    """Accuracy curves (share of trials with score >= t at each p_k) and their areas."""
    result = {}
    for name in ("deletion", "insertion"):
        scores = np.concatenate(trials[name])  # trials x (n + 1)
        accuracy = (scores >= threshold).mean(axis=0)
        result[name] = {
            "area_percent": area_percent(accuracy),
            "accuracy": accuracy.tolist(),
            "mean_score": scores.mean(axis=0).tolist(),
            "trials": int(scores.shape[0]),
        }
    return result


def method_fidelity(
    pairs: list[ExplainPair],
    maps: list[tuple[np.ndarray, np.ndarray]],
    threshold: float,
    settings: AccuracyFidelitySettings,
    mode: str,
    seed: int,
    progress=None,
    cancel=None,
) -> dict:
    """The protocol for one explainer's maps over the genuine pairs, with its random baseline."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    n = settings.steps
    per_pair = 2 * 2 * (n + 1)  # two faces, deletion and insertion, k = 0..n
    total = len(pairs) * per_pair * (1 + settings.random_maps)
    runner = BatchRunner(pairs[0].model, progress, cancel, total)
    rng = np.random.default_rng(seed)
    explained = {"deletion": [], "insertion": []}
    random = {"deletion": [], "insertion": []}
    for pair, (map_a, map_b) in zip(pairs, maps, strict=True):
        for name, scores in pair_trial_scores(runner, pair, map_a, map_b, n, mode).items():
            explained[name].append(scores)
        for _ in range(settings.random_maps):
            r_a = smooth_random_map(rng, pair.size)
            r_b = r_a if mode == "joint" else smooth_random_map(rng, pair.size)
            for name, scores in pair_trial_scores(runner, pair, r_a, r_b, n, mode).items():
                random[name].append(scores)
    ours = accuracy_summary(explained, threshold)
    baseline = accuracy_summary(random, threshold)
    worse = {
        "deletion": ours["deletion"]["area_percent"] >= baseline["deletion"]["area_percent"],
        "insertion": ours["insertion"]["area_percent"] <= baseline["insertion"]["area_percent"],
    }
    return {
        "mode": mode,
        "settings": asdict(settings),
        "seed": seed,
        "pairs": len(pairs),
        "fractions": fractions(n).tolist(),
        "deletion_percent": ours["deletion"]["area_percent"],
        "insertion_percent": ours["insertion"]["area_percent"],
        "random_deletion_percent": baseline["deletion"]["area_percent"],
        "random_insertion_percent": baseline["insertion"]["area_percent"],
        "worse_than_random": worse,
        "flag": "WORSE THAN RANDOM" if any(worse.values()) else None,
        "curves": ours,
        "random_curves": baseline,
        "forward_passes": runner.passes,
    }
