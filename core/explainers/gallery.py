"""A background gallery for SDD: embeddings of a folder of face photos.

The embeddings of each photo's largest face come from the embedding store
(core.embedding_store; by default under the user cache folder: $PATCHWISE_CACHE_DIR,
else $XDG_CACHE_HOME/patchwise, else ~/.cache/patchwise), keyed by the photo's bytes,
the detector and the model, so a renamed file is not re-embedded and an edited one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.batch_embedding import embed_images
from core.embedding_store import EmbeddingStore, default_store_dir
from core.errors import UsageError
from core.explainers.base import Cancelled, cancel_check

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Gallery:
    folder: str
    names: tuple[str, ...]
    embeddings: np.ndarray  # n x D float64
    skipped: tuple[str, ...]  # photos without a face or unreadable
    cache_dir: str  # the embedding store's folder
    cache_hits: int  # photos answered by the store
    runtime: str = "torch"  # what embedded the photos: torch or onnx (the ONNX fast path)


def gallery_photos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UsageError(f"gallery folder not found: {folder}")
    photos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise UsageError(f"gallery folder {folder} holds no photos")
    return photos


def load_gallery(
    folder, engine, model, progress=None, cancel=None, store=None, runtime: str = "torch"
) -> Gallery:
    """Embeddings of the largest face of every photo under `folder`, through the store
    (`runtime` "onnx": the ONNX Runtime fast path, stored under its own key)."""
    folder = Path(folder)
    photos = gallery_photos(folder)
    stop = cancel_check(cancel)

    def step(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total)
        if stop():
            raise Cancelled("gallery embedding cancelled")

    if stop():
        raise Cancelled("gallery embedding cancelled")
    opened = store or EmbeddingStore(default_store_dir())
    try:
        embedded = embed_images(engine, model, photos, store=opened, progress=step, runtime=runtime)
    finally:
        if store is None:
            opened.close()
    found = [p for p in photos if p in embedded.embeddings]
    if not found:
        raise UsageError(f"no face found in any photo of the gallery {folder}")
    return Gallery(
        str(folder),
        tuple(p.name for p in found),
        np.stack([embedded.embeddings[p] for p in found]),
        tuple(p.name for p in photos if p in embedded.failed),
        str(opened.folder),
        embedded.from_store,
        runtime,
    )
