"""Batch evaluation over a CSV of labelled pairs, embedding each image only once."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.batch_embedding import embed_images
from core.engine import pair_score
from core.errors import UsageError
from core.verification_metrics import verification_report

TRUE_WORDS = {"1", "yes", "true", "y"}
FALSE_WORDS = {"0", "no", "false", "n"}
REQUIRED_COLUMNS = ("image_a", "image_b", "same")
SCORE_BLOCK = 65536  # pairs per vectorised block (bounded memory)


@dataclass(frozen=True)
class LabelledPair:
    image_a: Path
    image_b: Path
    same: bool


def _parse_same(value: str, line: int) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise UsageError(f"pairs CSV line {line}: 'same' must be 1/0/yes/no/true/false, got {value!r}")


def read_pairs_csv(path: str, root: str | None = None) -> list[LabelledPair]:
    """Read `image_a,image_b,same`; relative paths start at `root` (default: the CSV's folder)."""
    csv_path = Path(path)
    if not csv_path.is_file():
        raise UsageError(f"pairs CSV not found: {csv_path}")
    base = Path(root) if root else csv_path.parent
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(
                f"{csv_path}: missing column(s) {', '.join(missing)}; "
                f"expected {','.join(REQUIRED_COLUMNS)}"
            )
        pairs = [
            LabelledPair(
                base / row["image_a"].strip(),
                base / row["image_b"].strip(),
                _parse_same(row["same"], n),
            )
            for n, row in enumerate(reader, start=2)
        ]
    if not pairs:
        raise UsageError(f"{csv_path}: no pairs")
    return pairs


def pair_scores(model, embedded, pairs: list[LabelledPair]) -> np.ndarray:
    """The score of each pair: cosines in vectorised blocks of unit embeddings, or the
    model's own `score_pair` (xCos) pair by pair."""
    if model.kind.scores_pairs:
        features = embedded.features
        return np.array(
            [pair_score(model, features[p.image_a], features[p.image_b]) for p in pairs]
        )
    row = {path: n for n, path in enumerate(embedded.embeddings)}
    matrix = np.stack(list(embedded.embeddings.values())) if row else np.zeros((0, 1))
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    a = np.fromiter((row[p.image_a] for p in pairs), np.int64, len(pairs))
    b = np.fromiter((row[p.image_b] for p in pairs), np.int64, len(pairs))
    scores = np.empty(len(pairs))
    for start in range(0, len(pairs), SCORE_BLOCK):
        block = slice(start, start + SCORE_BLOCK)
        scores[block] = np.einsum("ij,ij->i", unit[a[block]], unit[b[block]])
    return scores


def evaluate_pairs(
    engine,
    pairs: list[LabelledPair],
    model_id: str,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    store=None,
    run_chunks=None,
) -> dict:
    """Score every pair (largest face of each image) and compute the verification metrics.

    `store` (an EmbeddingStore) supplies faces embedded before and keeps new ones;
    `run_chunks` (core.batch_embedding) runs the embedding elsewhere, e.g. on Ray.
    """
    model = engine.model(model_id)
    images = sorted({p.image_a for p in pairs} | {p.image_b for p in pairs})
    embedded = embed_images(
        engine,
        model,
        images,
        store=store,
        run_chunks=run_chunks,
        with_cells=model.kind.scores_pairs,
        progress=progress,
    )
    scored = [
        p for p in pairs if p.image_a in embedded.embeddings and p.image_b in embedded.embeddings
    ]
    scores = pair_scores(model, embedded, scored)
    same = np.array([p.same for p in scored], dtype=bool)
    return {
        "schema": "patchwise.evaluation/1",
        "model": model.describe(),
        "detector": engine.detector.describe(),
        "face_choice": "largest face (index 0) of each image",
        "images": len(images),
        "failed_images": [
            {"image": str(k), "error": v} for k, v in sorted(embedded.failed.items())
        ],
        "pairs_in_csv": len(pairs),
        "pairs_skipped": len(pairs) - len(scored),
        "embedding_store": {
            "path": str(store.folder) if store is not None else None,
            "faces_from_store": embedded.from_store,
            "faces_embedded": embedded.embedded,
            "entries_failing_sha256": store.corrupt if store is not None else 0,
        },
        "metrics": verification_report(scores, same, seed=seed),
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
