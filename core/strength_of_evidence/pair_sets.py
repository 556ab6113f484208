"""Labelled pairs for calibration and validation, and the fingerprint of their data.

An identity-per-folder tree gives every within-folder pair as genuine and every
cross-folder pair as impostor (all of them, or a seeded sample of
`max_impostor`). A pairs CSV is read by core.evaluation.read_pairs_csv. The
fingerprint (ISO/IEC 19795-style record of what was used) is the SHA-256 of
every file and of the sorted list of (relative path, file SHA-256).
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np

from core.errors import UsageError
from core.evaluation import LabelledPair

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def identity_images(root: Path) -> dict[str, list[Path]]:
    """{identity folder name: sorted image paths}; folders without images are skipped."""
    if not root.is_dir():
        raise UsageError(f"data folder not found: {root}")
    identities = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if images:
            identities[folder.name] = images
    if len(identities) < 2:
        raise UsageError(
            f"{root}: needs at least two identity folders with images (one folder per person)"
        )
    return identities


def pairs_from_identity_tree(
    root: str | Path, max_impostor: int | None = None, seed: int = 0
) -> list[LabelledPair]:
    """All genuine pairs, and all (or a seeded sample of `max_impostor`) impostor pairs."""
    identities = identity_images(Path(root))
    genuine = [
        LabelledPair(a, b, True)
        for images in identities.values()
        for a, b in itertools.combinations(images, 2)
    ]
    impostor = [
        LabelledPair(a, b, False)
        for (_, first), (_, second) in itertools.combinations(identities.items(), 2)
        for a in first
        for b in second
    ]
    if max_impostor is not None and max_impostor < len(impostor):
        chosen = np.random.default_rng(seed).choice(len(impostor), max_impostor, replace=False)
        impostor = [impostor[i] for i in sorted(chosen)]
    return genuine + impostor


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_fingerprint(pairs: list[LabelledPair], root: str | Path | None = None) -> dict:
    """SHA-256 of each image and of the sorted (path, sha256) list; paths relative to root."""
    base = Path(root).resolve() if root else None
    files = sorted({p.image_a for p in pairs} | {p.image_b for p in pairs})
    listing = []
    for path in files:
        shown = str(path)
        if base is not None:
            try:
                shown = str(path.resolve().relative_to(base))
            except ValueError:
                pass
        sha = _file_sha256(path) if path.is_file() else None
        listing.append({"path": shown, "sha256": sha})
    listing.sort(key=lambda item: item["path"])
    text = "\n".join(f"{item['path']}\t{item['sha256']}" for item in listing)
    return {
        "files": listing,
        "file_list_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "hash_rule": "sha256 of the sorted lines 'relative path<TAB>file sha256', "
        "joined by newlines",
    }
