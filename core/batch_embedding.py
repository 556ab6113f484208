"""Embed the largest face of many images, each once: from the embedding store when it
holds them, else in fixed chunks, in this process or on a cluster (core.distributed).

Chunks are the sorted missing images cut every CHUNK, so the same images go through
the model in the same batches whoever runs them; a chunk's results reach the store in
one transaction as soon as it finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.embedding_store import EmbeddingStore, Producer, StoredFace
from core.errors import NoFaceError, PatchwiseError
from core.file_hash import sha256_file
from core.models.face_model import CellFeatures

CHUNK = 32

# Runs chunks of image paths and yields each chunk's results (in any order).
ChunkRunner = Callable[[list[list[Path]]], Iterator[list["ImageResult"]]]


@dataclass(frozen=True)
class ImageResult:
    """The largest face of one image, or why there is none."""

    path: Path
    sha256: str | None  # None when the file could not be read
    features: CellFeatures | None = None
    error: str | None = None
    storable: bool = False  # features, or an error that depends on the image alone
    retry: str | None = None  # how the detector's second pass found the face, if it did


def _prepare(engine, path: Path, prepared: list) -> ImageResult | None:
    """Load and detect; append (path, PreparedImage) to `prepared`, or say why not."""
    try:
        item = engine.prepare(path)
    except PatchwiseError as exc:
        return ImageResult(path, None, error=str(exc))
    try:
        item.face(0)
    except NoFaceError as exc:
        return ImageResult(path, item.evidence.sha256, error=str(exc), storable=True)
    prepared.append((path, item))
    return None


def embed_chunk(
    engine, model, paths: list[Path], on_image: Callable[[], None] | None = None
) -> list[ImageResult]:
    """Load, detect, align and embed (one batched model pass) the largest face of each.

    `on_image()` is called after each image is loaded and detected (it may raise to stop)."""
    results: dict[Path, ImageResult | None] = {}
    prepared = []
    for path in paths:
        results[path] = _prepare(engine, path, prepared)
        if on_image is not None:
            on_image()
    if prepared:
        faces = engine.side_features([(item, 0) for _, item in prepared], model)
        for (path, item), (_, features) in zip(prepared, faces, strict=True):
            retry = item.faces[0].retry
            results[path] = ImageResult(
                path, item.evidence.sha256, features, storable=True, retry=retry
            )
    return [results[p] for p in paths]


def in_process(engine, model, on_image: Callable[[], None] | None = None) -> ChunkRunner:
    """Run the chunks one after the other in this process (`on_image` after each image)."""

    def run(chunks: list[list[Path]]) -> Iterator[list[ImageResult]]:
        return (embed_chunk(engine, model, chunk, on_image) for chunk in chunks)

    return run


@dataclass
class EmbeddedImages:
    embeddings: dict[Path, np.ndarray] = field(default_factory=dict)
    features: dict[Path, CellFeatures] = field(default_factory=dict)  # only with_cells
    failed: dict[Path, str] = field(default_factory=dict)
    sha256: dict[Path, str] = field(default_factory=dict)  # of each image read
    retried: dict[Path, str] = field(default_factory=dict)  # second-pass detections, embedded now
    from_store: int = 0
    embedded: int = 0
    keep_cells: bool = False

    def record(self, path: Path, entry: StoredFace | ImageResult) -> None:
        if entry.error is not None:
            self.failed[path] = entry.error
            return
        features = entry.features
        if isinstance(entry, ImageResult) and entry.retry:
            self.retried[path] = entry.retry
        self.embeddings[path] = (
            entry.embedding if isinstance(entry, StoredFace) else features.embedding
        )
        if self.keep_cells:
            self.features[path] = features


def _sha256_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None  # embed_chunk reports the error the loader gives


def embed_images(
    engine,
    model,
    images: Iterable[Path],
    store: EmbeddingStore | None = None,
    run_chunks: ChunkRunner | None = None,
    with_cells: bool = False,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
) -> EmbeddedImages:
    """Embeddings (and cell features when `with_cells`) of the largest face of each image.

    `progress(done, total)` is called after the store lookup, then after each image
    in this process or each chunk on a cluster; it may raise (e.g. Cancelled) to stop."""
    images = sorted(set(images))
    producer = Producer.of(engine.detector, model)
    out, done = EmbeddedImages(keep_cells=with_cells), 0
    missing = images
    if store is not None:
        digests = {path: _sha256_or_none(path) for path in images}
        known = [path for path in images if digests[path] is not None]
        entries = store.get_many([producer.key(digests[p]) for p in known], with_cells)
        for path, entry in zip(known, entries, strict=True):
            if entry is not None:
                out.record(path, entry)
                out.sha256[path] = digests[path]
                out.from_store += 1
        missing = [p for p in images if p not in out.embeddings and p not in out.failed]
        done = len(images) - len(missing)
        if progress and done:
            progress(done, len(images))
    chunks = [missing[start : start + chunk] for start in range(0, len(missing), chunk)]
    reported = done

    def image_done() -> None:  # in this process, progress (and cancel) per image
        nonlocal reported
        reported += 1
        progress(reported, len(images))

    runner = run_chunks or in_process(engine, model, image_done if progress else None)
    for results in runner(chunks):
        if store is not None:
            store.put_many(
                [
                    (producer.key(r.sha256), StoredFace(r.path.name, error=r.error))
                    if r.features is None
                    else (producer.key(r.sha256), StoredFace.of(r.path.name, r.features))
                    for r in results
                    if r.storable
                ]
            )
        for result in results:
            out.record(result.path, result)
            if result.sha256 is not None:
                out.sha256[result.path] = result.sha256
        out.embedded += sum(r.features is not None for r in results)
        done += len(results)
        if progress and done > reported:
            reported = done
            progress(done, len(images))
    return out
