"""Batch evaluation over a CSV of labelled pairs, embedding each image only once."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.engine import pair_score
from core.errors import PatchwiseError, UsageError
from core.verification_metrics import verification_report

TRUE_WORDS = {"1", "yes", "true", "y"}
FALSE_WORDS = {"0", "no", "false", "n"}
REQUIRED_COLUMNS = ("image_a", "image_b", "same")
BATCH = 32


@dataclass(frozen=True)
class LabelledPair:
    image_a: Path
    image_b: Path
    same: bool
    fold: str | None = None  # a protocol's fold (evaluate --folds-column), else random folds


def _parse_same(value: str, line: int) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise UsageError(f"pairs CSV line {line}: 'same' must be 1/0/yes/no/true/false, got {value!r}")


def read_pairs_csv(
    path: str, root: str | None = None, folds_column: str | None = None
) -> list[LabelledPair]:
    """Read `image_a,image_b,same`; relative paths start at `root` (default: the CSV's folder).

    With `folds_column`, that column gives each pair's fold (a protocol's, e.g. LFW View 2).
    """
    csv_path = Path(path)
    if not csv_path.is_file():
        raise UsageError(f"pairs CSV not found: {csv_path}")
    base = Path(root) if root else csv_path.parent
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        required = REQUIRED_COLUMNS + ((folds_column,) if folds_column else ())
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(
                f"{csv_path}: missing column(s) {', '.join(missing)}; expected {','.join(required)}"
            )
        pairs = [
            LabelledPair(
                base / row["image_a"].strip(),
                base / row["image_b"].strip(),
                _parse_same(row["same"], n),
                row[folds_column].strip() if folds_column else None,
            )
            for n, row in enumerate(reader, start=2)
        ]
    if not pairs:
        raise UsageError(f"{csv_path}: no pairs")
    return pairs


def _folds(pairs: list[LabelledPair]) -> np.ndarray | None:
    """The pairs' protocol folds, or None when the CSV gave none."""
    if all(p.fold is None for p in pairs):
        return None
    return np.array([p.fold for p in pairs])


def evaluate_pairs(
    engine,
    pairs: list[LabelledPair],
    model_id: str,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Score every pair (largest face of each image) and compute the verification metrics."""
    model = engine.model(model_id)
    images = sorted({p.image_a for p in pairs} | {p.image_b for p in pairs})
    features_of: dict = {}  # image -> CellFeatures
    failed: dict[Path, str] = {}
    retried: dict[Path, str] = {}  # images whose face only the detector's second pass found
    prepared = []
    for n, image in enumerate(images, start=1):
        try:
            item = engine.prepare(image)
            item.face(0)
            prepared.append((image, item))
            if item.faces[0].retry:
                retried[image] = item.faces[0].retry
        except PatchwiseError as exc:
            failed[image] = str(exc)
        if len(prepared) == BATCH or n == len(images):
            for (path, _), (_, features) in zip(
                prepared, engine.side_features([(p, 0) for _, p in prepared], model), strict=True
            ):
                features_of[path] = features
            prepared = []
        if progress:
            progress(n, len(images))
    scored = [p for p in pairs if p.image_a in features_of and p.image_b in features_of]
    scores = np.array(
        [pair_score(model, features_of[p.image_a], features_of[p.image_b]) for p in scored]
    )
    same = np.array([p.same for p in scored], dtype=bool)
    return {
        "schema": "patchwise.evaluation/1",
        "model": model.describe(),
        "detector": engine.detector.describe(),
        "face_choice": "largest face (index 0) of each image",
        "images": len(images),
        "failed_images": [{"image": str(k), "error": v} for k, v in failed.items()],
        "second_pass_detections": [{"image": str(k), "retry": v} for k, v in retried.items()],
        "pairs_in_csv": len(pairs),
        "pairs_skipped": len(pairs) - len(scored),
        "metrics": verification_report(scores, same, seed=seed, folds=_folds(scored)),
        "per_pair": [
            {
                "image_a": str(p.image_a),
                "image_b": str(p.image_b),
                "same": p.same,
                "cosine": float(s),
            }
            for p, s in zip(scored, scores, strict=True)
        ],
    }
