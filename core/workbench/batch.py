"""The batch page's work, free of Qt: evaluate many pairs, and the curves to draw.

Pairs come from a pairs CSV (core.evaluation.read_pairs_csv) or an
identity-per-folder tree (core.strength_of_evidence.pair_sets). The scores are
core.evaluation.evaluate_pairs' (largest face of each image); the curves are
computed here from them: ROC (true accept rate against false accept rate), DET
(false reject rate against false accept rate), and the score histograms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_curve

from core.evaluation import evaluate_pairs, read_pairs_csv
from core.strength_of_evidence.pair_sets import pairs_from_identity_tree

MAX_IMPOSTOR = 2000  # impostor pairs sampled from an identity tree (seeded)


def load_pairs(source: str, seed: int = 0) -> list:
    """A pairs CSV file, or an identity-per-folder tree (all genuine pairs, sampled impostors)."""
    path = Path(source)
    if path.is_dir():
        return pairs_from_identity_tree(path, max_impostor=MAX_IMPOSTOR, seed=seed)
    return read_pairs_csv(str(path))


def batch_job(engine, source: str, model_id: str, seed: int = 0):
    """A worker job: read the pairs, evaluate them (progress, cancel); the evaluation dict."""

    def job(progress, cancelled):
        pairs = load_pairs(source, seed)

        def step(done, total):
            progress(done / max(total, 1), f"{done} of {total} images")

        with engine.lock:
            return evaluate_pairs(engine, pairs, model_id, seed, step, cancelled=cancelled)

    return job


def curves(per_pair: list[dict]) -> dict:
    """ROC and DET points and histogram counts from an evaluation's per-pair scores."""
    scores = np.array([p["cosine"] for p in per_pair], dtype=np.float64)
    same = np.array([p["same"] for p in per_pair], dtype=bool)
    far, tar, _ = roc_curve(same, scores)
    edges = np.linspace(min(scores.min(), 0.0), 1.0, 41) if scores.size else np.linspace(0, 1, 41)
    return {
        "far": far,
        "tar": tar,
        "frr": 1.0 - tar,
        "edges": edges,
        "genuine": np.histogram(scores[same], bins=edges)[0],
        "impostor": np.histogram(scores[~same], bins=edges)[0],
    }


def sorted_pairs(per_pair: list[dict]) -> list[dict]:
    """The pairs from the highest score to the lowest."""
    return sorted(per_pair, key=lambda p: -p["cosine"])


def tippett(per_pair: list[dict], calibration, model_id: str) -> dict:
    """Per class, log10 LRs sorted and the share of pairs with log10 LR >= each (a Tippett
    plot); the LRs come from the calibration in use (core.strength_of_evidence)."""
    from core.strength_of_evidence.evidence_section import evidence_for

    out = {}
    for name, wanted in (("genuine", True), ("impostor", False)):
        llrs = np.sort(
            [
                evidence_for(p["cosine"], calibration, model_id).log10_lr
                for p in per_pair
                if p["same"] is wanted
            ]
        )
        out[name] = (llrs, 1.0 - np.arange(len(llrs)) / max(len(llrs), 1))
    return out
