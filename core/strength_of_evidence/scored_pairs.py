"""Score labelled pairs with the engine (each image embedded once, in batches).

A thin layer over core.evaluation.evaluate_pairs that returns the arrays the
calibration and validation need, with the failures recorded (ISO/IEC 19795:
failures to acquire are reported, not hidden).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.errors import CalibrationError
from core.evaluation import LabelledPair, evaluate_pairs
from core.explainers.base import Cancelled, cancel_check


@dataclass(frozen=True)
class ScoredPairs:
    scores: np.ndarray  # cosine per scored pair
    same: np.ndarray  # bool per scored pair
    evaluation: dict  # evaluate_pairs' result (model, detector, failures, per_pair, metrics)

    @property
    def failures(self) -> dict:
        e = self.evaluation
        return {
            "images": e["images"],
            "failed_images": e["failed_images"],
            "pairs_in_input": e["pairs_in_csv"],
            "pairs_skipped": e["pairs_skipped"],
        }


def score_pairs(
    engine,
    pairs: list[LabelledPair],
    model_id: str,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cancel=None,
    store=None,
    run_chunks=None,
    runtime: str = "torch",
) -> ScoredPairs:
    """Cosine of every pair whose two images gave a face; fails if nothing could be scored.

    `cancel` (None, a callable returning bool, or a threading.Event) is checked after
    each image; when set, Cancelled is raised (CLI exit code 130). `store` and
    `run_chunks` and `runtime` are passed to evaluate_pairs (embedding store, cluster,
    torch or the ONNX fast path).
    """
    cancelled = cancel_check(cancel)

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total)
        if cancelled():
            raise Cancelled(f"scoring cancelled after {done} of {total} images")

    evaluation = evaluate_pairs(
        engine, pairs, model_id, seed, report, store=store, run_chunks=run_chunks, runtime=runtime
    )
    per_pair = evaluation["per_pair"]
    if not per_pair:
        raise CalibrationError("no pair could be scored (every pair had an image without a face)")
    scores = np.array([p["cosine"] for p in per_pair], dtype=np.float64)
    same = np.array([p["same"] for p in per_pair], dtype=bool)
    return ScoredPairs(scores, same, evaluation)
