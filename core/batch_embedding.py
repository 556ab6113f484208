"""Embed the largest face of many images, each once: from the embedding store when it
holds them, else in fixed chunks, in this process or on a cluster (core.distributed).

Chunks are the sorted missing images cut every CHUNK, so the same images go through
the model in the same batches whoever runs them; a chunk's results reach the store in
one transaction as soon as it finishes.

`runtime="onnx"` embeds through the model's ONNX Runtime fast path
(core.models.onnx_runtime) when only embeddings are asked for: no cell features
are computed or stored then, and the store key names the runtime and the ONNX
file, so entries of the two runtimes (equal within 1e-4) never stand in for each
other. Cell features always come from torch, the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.embedding_store import EmbeddingStore, Producer, StoredFace
from core.errors import NoFaceError, PatchwiseError, UsageError
from core.file_hash import sha256_file
from core.models.face_model import CellFeatures
from core.models.onnx_runtime import with_runtime

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
    embedding: np.ndarray | None = None  # the fast path's embedding (then no features)

    @property
    def embedded(self) -> bool:
        return self.features is not None or self.embedding is not None

    def stored(self) -> StoredFace:
        if self.features is not None:
            return StoredFace.of(self.path.name, self.features)
        return StoredFace(self.path.name, embedding=self.embedding, error=self.error)


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
    fast = getattr(model, "embed_array", None)
    if prepared and fast is not None:
        aligned = engine.aligned_faces([(item, 0) for _, item in prepared], model)
        faces = np.stack([a.image for a in aligned]).transpose(0, 3, 1, 2)
        for (path, item), embedding in zip(prepared, fast(faces), strict=True):
            results[path] = ImageResult(
                path, item.evidence.sha256, None, storable=True, retry=item.faces[0].retry,
                embedding=embedding,
            )  # fmt: skip
    elif prepared:
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
        from_store = isinstance(entry, StoredFace)
        self.embeddings[path] = (
            entry.embedding if from_store or features is None else features.embedding
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
    runtime: str = "torch",
) -> EmbeddedImages:
    """Embeddings (and cell features when `with_cells`) of the largest face of each image.

    `progress(done, total)` is called after the store lookup, then after each image
    in this process or each chunk on a cluster; it may raise (e.g. Cancelled) to stop.
    `runtime` "onnx" takes the fast path for embeddings (module docstring)."""
    if runtime != "torch" and (with_cells or run_chunks is not None):
        why = "cell features come from torch" if with_cells else "cluster workers run torch"
        raise UsageError(f"--runtime {runtime} embeds in this process only ({why}); use torch")
    model = with_runtime(model, runtime)
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
            store.put_many([(producer.key(r.sha256), r.stored()) for r in results if r.storable])
        for result in results:
            out.record(result.path, result)
            if result.sha256 is not None:
                out.sha256[result.path] = result.sha256
        out.embedded += sum(r.embedded for r in results)
        done += len(results)
        if progress and done > reported:
            reported = done
            progress(done, len(images))
    return out
