"""A background gallery for SDD: embeddings of a folder of face photos, cached on disk.

Cache location (documented in docs/explainers.md): $PATCHWISE_CACHE_DIR, else
$XDG_CACHE_HOME/patchwise, else ~/.cache/patchwise; below it
gallery/<model id>/<detector id>/<photo SHA-256>.npy holds the embedding of the
photo's largest face, and <SHA-256>.noface marks a photo without a face. The key
is the photo's bytes, so a renamed file is not re-embedded and an edited one is.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.atomic_write import write_bytes_atomically
from core.errors import PatchwiseError, UsageError
from core.explainers.base import BatchRunner, Cancelled, cancel_check
from core.user_cache import user_cache_dir

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Gallery:
    folder: str
    names: tuple[str, ...]
    embeddings: np.ndarray  # n x D float64
    skipped: tuple[str, ...]  # photos without a face or unreadable
    cache_dir: str
    cache_hits: int


def _photos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UsageError(f"gallery folder not found: {folder}")
    photos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise UsageError(f"gallery folder {folder} holds no photos")
    return photos


def _save(path: Path, embedding: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, embedding, allow_pickle=False)
    write_bytes_atomically(path, buffer.getvalue())


def load_gallery(folder, engine, model, progress=None, cancel=None) -> Gallery:
    """Embeddings of the largest face of every photo under `folder` (cached per model)."""
    folder = Path(folder)
    photos = _photos(folder)
    stop = cancel_check(cancel)
    cache = user_cache_dir() / "gallery" / model.id / engine.detector.id
    names, embeddings, skipped, hits = [], [], [], 0
    runner = BatchRunner(model, progress, cancel, len(photos))
    for photo in photos:
        if stop():
            raise Cancelled("gallery embedding cancelled")
        digest = hashlib.sha256(photo.read_bytes()).hexdigest()
        cached, noface = cache / f"{digest}.npy", cache / f"{digest}.noface"
        if cached.is_file():
            embeddings.append(np.load(cached, allow_pickle=False))
            names.append(photo.name)
            hits += 1
        elif noface.is_file():
            skipped.append(photo.name)
            hits += 1
        else:
            try:
                prepared = engine.prepare(photo)
                _, features = engine.side_features([(prepared, 0)], model)[0]
            except PatchwiseError:
                write_bytes_atomically(noface, b"")
                skipped.append(photo.name)
            else:
                _save(cached, features.embedding)
                embeddings.append(features.embedding)
                names.append(photo.name)
        runner.advance(1)
    if not embeddings:
        raise UsageError(f"no face found in any photo of the gallery {folder}")
    return Gallery(
        str(folder), tuple(names), np.stack(embeddings), tuple(skipped), str(cache), hits
    )
