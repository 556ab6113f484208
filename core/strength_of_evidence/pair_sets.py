"""Labelled pairs for calibration and validation, and the fingerprint of their data.

An identity-per-folder tree gives every within-folder pair as genuine and every
cross-folder pair as impostor (all of them, or a seeded sample of
`max_impostor`, drawn by index without listing them all). A pairs CSV is read
by core.evaluation.read_pairs_csv. The fingerprint (ISO/IEC 19795-style record
of what was used) is the SHA-256 of every file and of the sorted list of
(relative path, file SHA-256).
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
    """All genuine pairs, and all (or a seeded sample of `max_impostor`) impostor pairs.

    Impostor pairs are never listed in full: they are numbered (image g of
    identity i with every image after identity i's last one, in order) and a
    seeded sample of their numbers is decoded, so 5,000 images (12.4 million
    impostor pairs) cost memory for the sample only.
    """
    identities = identity_images(Path(root))
    genuine = [
        LabelledPair(a, b, True)
        for images in identities.values()
        for a, b in itertools.combinations(images, 2)
    ]
    images = [path for paths in identities.values() for path in paths]
    ends = np.cumsum([len(paths) for paths in identities.values()])
    # after[g]: index of the first image of the next identity, for every image g
    after = np.repeat(ends, [len(paths) for paths in identities.values()])
    counts = len(images) - after  # impostor pairs image g starts
    starts = np.concatenate([[0], np.cumsum(counts)])
    total = int(starts[-1])
    if max_impostor is None or max_impostor >= total:
        numbers = np.arange(total, dtype=np.int64)
    else:
        rng = np.random.default_rng(seed)
        numbers = np.sort(rng.choice(total, max_impostor, replace=False))
    first = np.searchsorted(starts, numbers, side="right") - 1
    second = after[first] + (numbers - starts[first])
    impostor = [
        LabelledPair(images[a], images[b], False) for a, b in zip(first, second, strict=True)
    ]
    return genuine + impostor


def capped_pairs(
    root: str | Path, max_pairs: int, max_impostor: int | None = None, seed: int = 0
) -> list[LabelledPair]:
    """At most `max_pairs` pairs: genuine ones (sampled to max_pairs // 2 when more), and
    impostor ones filling the rest (and at most `max_impostor`), all seeded."""
    identities = identity_images(Path(root))
    genuine_total = sum(len(p) * (len(p) - 1) // 2 for p in identities.values())
    room = max_pairs - min(genuine_total, max_pairs // 2)
    limit = room if max_impostor is None else min(room, max_impostor)
    pairs = pairs_from_identity_tree(root, limit, seed)
    genuine = [p for p in pairs if p.same]
    if len(genuine) > max_pairs // 2:
        rng = np.random.default_rng(seed + 1)
        keep = np.sort(rng.choice(len(genuine), max_pairs // 2, replace=False))
        genuine = [genuine[i] for i in keep]
    return genuine + [p for p in pairs if not p.same]


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
