"""Batch evaluation over a CSV of labelled pairs, embedding each image only once."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.batch_embedding import embed_images
from core.engine import pair_score
from core.errors import UsageError
from core.models.onnx_runtime import describe_runtime, with_runtime
from core.safe_read import read_regular_file
from core.schemas.common import validated
from core.schemas.pairs_row import PairsRowModel
from core.verification_metrics import verification_report

REQUIRED_COLUMNS = ("image_a", "image_b", "same")
MAX_PAIRS_CSV_BYTES = 256 << 20
SCORE_BLOCK = 65536  # pairs per vectorised block (bounded memory)


@dataclass(frozen=True)
class LabelledPair:
    image_a: Path
    image_b: Path
    same: bool
    fold: str | None = None  # a protocol's fold (evaluate --folds-column), else random folds


def read_pairs_csv(
    path: str, root: str | None = None, folds_column: str | None = None
) -> list[LabelledPair]:
    """Read `image_a,image_b,same`; relative paths start at `root` (default: the CSV's folder).

    With `folds_column`, that column gives each pair's fold (a protocol's, e.g. LFW View 2).
    The file must be a regular UTF-8 file within MAX_PAIRS_CSV_BYTES; every row
    is checked against core/schemas/pairs_row.py, and a malformed file (binary,
    latin-1, an over-long field, a short row, an unterminated quote) is a
    one-line UsageError naming the line.
    """
    csv_path = Path(path)
    data = read_regular_file(csv_path, MAX_PAIRS_CSV_BYTES, UsageError, "pairs CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{csv_path}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise UsageError(f"{csv_path}: binary data (a NUL byte) in the pairs CSV")
    base = Path(root) if root else csv_path.parent
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    pairs = []
    try:
        required = REQUIRED_COLUMNS + ((folds_column,) if folds_column else ())
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(
                f"{csv_path}: missing column(s) {', '.join(missing)}; expected {','.join(required)}"
            )
        for row in reader:
            where = f"{csv_path} line {reader.line_num}"
            if None in row or None in row.values():
                raise UsageError(f"{where}: the row has too many or too few fields")
            checked = validated(PairsRowModel, row, where, UsageError)
            fold = row[folds_column].strip() if folds_column else None
            pairs.append(
                LabelledPair(base / checked.image_a, base / checked.image_b, checked.is_same, fold)
            )
    except csv.Error as exc:
        raise UsageError(f"{csv_path} line {reader.line_num}: malformed CSV ({exc})") from None
    if not pairs:
        raise UsageError(f"{csv_path}: no pairs")
    return pairs


def _folds(pairs: list[LabelledPair]) -> np.ndarray | None:
    """The pairs' protocol folds, or None when the CSV gave none."""
    if all(p.fold is None for p in pairs):
        return None
    return np.array([p.fold for p in pairs])


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


class _Stopped(Exception):
    """Raised from the progress callback to stop embedding when the caller cancelled."""


def _stoppable(progress, cancelled):
    """`progress` extended to stop the run once `cancelled()` is true."""
    if cancelled is None:
        return progress

    def step(done: int, total: int) -> None:
        if progress:
            progress(done, total)
        if cancelled():
            raise _Stopped

    return step


def evaluate_pairs(
    engine,
    pairs: list[LabelledPair],
    model_id: str,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    store=None,
    run_chunks=None,
    cancelled: Callable[[], bool] | None = None,
    runtime: str = "torch",
) -> dict | None:
    """Score every pair (largest face of each image) and compute the verification metrics.

    `store` (an EmbeddingStore) supplies faces embedded before and keeps new ones;
    `run_chunks` (core.batch_embedding) runs the embedding elsewhere, e.g. on Ray;
    `runtime` "onnx" embeds through the ONNX Runtime fast path (core.batch_embedding).
    Returns None when `cancelled()` turns true (checked at each progress step).
    """
    model = engine.model(model_id)
    images = sorted({p.image_a for p in pairs} | {p.image_b for p in pairs})
    try:
        embedded = embed_images(
            engine,
            model,
            images,
            store=store,
            run_chunks=run_chunks,
            with_cells=model.kind.scores_pairs,
            progress=_stoppable(progress, cancelled),
            runtime=runtime,
        )
    except _Stopped:
        return None
    scored = [
        p for p in pairs if p.image_a in embedded.embeddings and p.image_b in embedded.embeddings
    ]
    scores = pair_scores(model, embedded, scored)
    same = np.array([p.same for p in scored], dtype=bool)
    return {
        "schema": "patchwise.evaluation/1",
        "model": model.describe(),
        "runtime": describe_runtime(with_runtime(model, runtime)),
        "detector": engine.detector.describe(),
        "face_choice": "largest face (index 0) of each image",
        "images": len(images),
        "failed_images": [
            {"image": str(k), "error": v} for k, v in sorted(embedded.failed.items())
        ],
        "second_pass_detections": [
            {"image": str(k), "retry": v} for k, v in sorted(embedded.retried.items())
        ],
        "pairs_in_csv": len(pairs),
        "pairs_skipped": len(pairs) - len(scored),
        "embedding_store": {
            "path": str(store.folder) if store is not None else None,
            "faces_from_store": embedded.from_store,
            "faces_embedded": embedded.embedded,
            "entries_failing_sha256": store.corrupt if store is not None else 0,
        },
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
