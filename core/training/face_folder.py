"""Training faces from a folder of photos, detected, aligned to 112 px and cached.

Labelled: one sub-folder per identity (DIR/<identity>/<photos>). Unlabelled
(distillation): every photo under DIR, at any depth. A photo that is already
112 x 112 is taken as aligned; any other goes through the engine's detector
(largest face) and 5-point aligner. Each usable face is cached as a PNG named by
the photo's SHA-256 and the detector id, so a second run detects nothing again.
Photos without a face, or unreadable, are skipped and listed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from core.atomic_write import write_bytes_atomically
from core.errors import PatchwiseError, UsageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
ALIGNED_SIZE = 112


def _photos(root: Path, recursive: bool) -> list[Path]:
    found = root.rglob("*") if recursive else root.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


class FaceFolder:
    """Aligned faces of a photo folder (see module doc); `item(i)` reads the cached PNG."""

    def __init__(
        self,
        root: str | Path,
        cache_dir: str | Path,
        labelled: bool,
        engine,
        progress: Callable[[int, int], None] | None = None,
    ):
        self.root = Path(root)
        self.labelled = labelled
        self.cache_dir = Path(cache_dir) / _safe(engine.detector.id)
        if labelled:
            identities = sorted(p for p in self.root.iterdir() if p.is_dir())
            listed = [(photo, n) for n, d in enumerate(identities) for photo in _photos(d, False)]
            self.identity_names = [d.name for d in identities]
        else:
            listed = [(photo, -1) for photo in _photos(self.root, True)]
            self.identity_names = []
        if not listed:
            kind = "identity sub-folders with photos" if labelled else "photos"
            raise UsageError(f"{self.root}: no {kind} found")
        self.paths: list[Path] = []
        labels: list[int] = []
        self.skipped: list[dict] = []
        for n, (photo, label) in enumerate(listed, start=1):
            try:
                self.paths.append(self._aligned(photo, engine))
                labels.append(label)
            except PatchwiseError as exc:
                self.skipped.append({"image": str(photo), "reason": str(exc)})
            if progress:
                progress(n, len(listed))
        if not self.paths:
            raise UsageError(
                f"{self.root}: no usable face in any photo ({len(self.skipped)} skipped)"
            )
        self.labels = np.array(labels, dtype=np.int64)
        self.num_classes = len(set(labels) - {-1})

    def _aligned(self, photo: Path, engine) -> Path:
        """The cached aligned face of `photo`, creating it on a cache miss."""
        from core.alignment import align_face
        from core.photo import load_evidence

        digest = hashlib.sha256(photo.read_bytes()).hexdigest()
        cached = self.cache_dir / f"{digest}.png"
        if cached.is_file():
            return cached
        evidence = load_evidence(photo, max_pixels=engine.max_pixels)
        if evidence.rgb.shape[:2] == (ALIGNED_SIZE, ALIGNED_SIZE):
            face = evidence.rgb
        else:
            prepared = engine.prepare(photo)
            face = align_face(prepared.evidence.rgb, prepared.face(0).landmarks, ALIGNED_SIZE).image
        ok, png = cv2.imencode(".png", np.ascontiguousarray(face[:, :, ::-1]))
        if not ok:
            raise UsageError(f"{photo}: could not encode the aligned face")
        write_bytes_atomically(cached, png.tobytes())
        return cached

    def __len__(self) -> int:
        return len(self.paths)

    def item(self, i: int) -> tuple[np.ndarray, int]:
        bgr = cv2.imread(str(self.paths[i]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise UsageError(f"cached aligned face unreadable: {self.paths[i]}")
        return np.ascontiguousarray(bgr[:, :, ::-1]), int(self.labels[i])

    def describe(self) -> dict:
        return {
            "kind": "folder",
            "path": str(self.root),
            "labelled": self.labelled,
            "images": len(self),
            "identities": self.num_classes,
            "skipped": len(self.skipped),
            "cache": str(self.cache_dir),
        }
