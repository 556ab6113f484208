"""A search's gallery, and the whole 1:N search of one face against it (Qt-free: the
`search` command and the GUI's search page both call `search_gallery`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.batch_embedding import embed_images
from core.case.search_origin import SEARCH_SCHEMA
from core.embedding_store import EmbeddingStore, Producer
from core.errors import UsageError
from core.explainers.gallery import gallery_photos
from core.gallery_search import SELECTION_BIAS_NOTE, GalleryIndex, gallery_sha256
from core.models.onnx_runtime import describe_runtime, with_runtime


@dataclass(frozen=True)
class GalleryMembers:
    members: list[dict]  # {name, path (None from a store), sha256}
    embeddings: np.ndarray  # one row per member
    source: dict  # kind, path, skipped


def is_store(folder: Path) -> bool:
    return (Path(folder) / "data.mdb").is_file()


def members_of(
    gallery, engine, model, store=None, run_chunks=None, progress=None, runtime: str = "torch"
) -> GalleryMembers:
    """A store folder's faces for this detector and model, or the largest face of every
    photo under a folder (embedded through `store`, on `run_chunks` when given)."""
    source = Path(gallery)
    if is_store(source):
        with EmbeddingStore(source) as opened:
            found = opened.gallery(Producer.of(engine.detector, with_runtime(model, runtime)))
        if not found:
            raise UsageError(f"embedding store {source} holds no face for model {model.id}")
        return GalleryMembers(
            [{"name": name, "path": None, "sha256": sha} for sha, name, _ in found],
            np.stack([e for _, _, e in found]),
            {"kind": "embedding store", "path": str(source), "skipped": []},
        )
    photos = gallery_photos(source)
    embedded = embed_images(
        engine, model, photos, store=store, run_chunks=run_chunks, progress=progress,
        runtime=runtime,
    )  # fmt: skip
    found = [p for p in photos if p in embedded.embeddings]
    if not found:
        raise UsageError(f"no face found in any photo of the gallery {source}")
    skipped = [
        {"image": str(p), "error": embedded.failed[p]} for p in photos if p in embedded.failed
    ]
    return GalleryMembers(
        [
            {"name": str(p.relative_to(source)), "path": str(p), "sha256": embedded.sha256[p]}
            for p in found
        ],
        np.stack([embedded.embeddings[p] for p in found]),
        {"kind": "photo folder", "path": str(source), "skipped": skipped},
    )


def search_gallery(
    engine,
    model,
    query_image,
    gallery,
    top: int,
    face: int = 0,
    store=None,
    run_chunks=None,
    progress: Callable[[int, int], None] | None = None,
    runtime: str = "torch",
) -> dict:
    """The `patchwise.search/1` result: face `face` of `query_image` against `gallery`.

    `runtime` "onnx" embeds the gallery through the ONNX fast path; the query's
    embedding is always the torch reference's."""
    if top < 1:
        raise UsageError("--top must be at least 1")
    if model.kind.scores_pairs:
        raise UsageError(f"model {model.id} scores pairs with its own metric; search needs cosine")
    query = engine.prepare(query_image)
    query.face(face)
    _, features = engine.side_features([(query, face)], model)[0]
    gallery_set = members_of(gallery, engine, model, store, run_chunks, progress, runtime)
    index = GalleryIndex.build(gallery_set.embeddings)
    rows, scores = index.top(features.embedding, top)
    members, size = gallery_set.members, len(gallery_set.members)
    return {
        "schema": SEARCH_SCHEMA,
        "query": {"image": str(query_image), "sha256": query.evidence.sha256, "face": face},
        "model": model.describe(),
        "runtime": describe_runtime(with_runtime(model, runtime)),
        "detector": engine.detector.describe(),
        "gallery": {
            **gallery_set.source,
            "size": size,
            "sha256": gallery_sha256(m["sha256"] for m in members),
            "hash_rule": "SHA-256 of the members' image SHA-256s, sorted, one per line",
        },
        "index": index.description,
        "top": top,
        "note": SELECTION_BIAS_NOTE.format(size=size),
        "candidates": [
            {"rank": rank, "cosine": float(score), **members[row]}
            for rank, (row, score) in enumerate(zip(rows, scores, strict=True), start=1)
        ],
    }
