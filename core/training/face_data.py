"""Training faces: the common interface of the folder and RecordIO sources, and the batch
sampler that draws from them.

A face source has `__len__`, `item(i)` -> (112 x 112 x 3 uint8 RGB aligned face,
identity or -1), `labels` (int array, for pair sampling), `num_classes` and
`describe()`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.errors import UsageError
from core.training.recordio import RecordReader, decode_face


class RecordIOFaces:
    """The aligned faces of an insightface train.rec/train.idx (labels from the headers)."""

    def __init__(self, path: str | Path):
        path = Path(path)
        rec = path / "train.rec" if path.is_dir() else path
        self.reader = RecordReader(rec)
        first = self.reader.image_record(0) if 0 in self.reader.offsets else None
        if first is not None and first.labels:
            end, identity_end = int(first.labels[0]), int(first.labels[1])
            self.keys = np.arange(1, end)
            self.num_classes = identity_end - end
            self._labels = None
        else:
            self.keys = np.array(self.reader.keys())
            self._labels = np.array([int(self.reader.header_label(int(k))) for k in self.keys])
            self.num_classes = int(self._labels.max()) + 1 if len(self._labels) else 0
        if len(self.keys) == 0:
            raise UsageError(f"{rec}: no image records")

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def labels(self) -> np.ndarray:
        """Every record's identity (read from the headers on first use)."""
        if self._labels is None:
            self._labels = np.array([int(self.reader.header_label(int(k))) for k in self.keys])
        return self._labels

    def item(self, i: int) -> tuple[np.ndarray, int]:
        """(aligned face, identity) of image i, from one record read."""
        key = int(self.keys[i])
        record = self.reader.image_record(key)
        face = decode_face(record.image_bytes, f"{self.reader.rec_path}#{key}")
        return face, int(record.label)

    def describe(self) -> dict:
        return {
            "kind": "recordio",
            "path": str(self.reader.rec_path),
            "images": len(self),
            "identities": self.num_classes,
        }


def open_face_data(path: str | Path, prepare_folder) -> object:
    """RecordIO when `path` is a .rec file or a folder holding train.rec, else a photo folder
    handed to `prepare_folder(path)` (which detects, aligns and caches)."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"training data not found: {p}")
    if p.suffix == ".rec" or (p.is_dir() and (p / "train.rec").is_file()):
        return RecordIOFaces(p)
    if not p.is_dir():
        raise UsageError(f"{p}: expected a folder of photos or an insightface .rec file")
    return prepare_folder(p)


def batch_generator(seed: int, step: int, stream: int) -> torch.Generator:
    """The generator of one step's random draws: a function of (seed, step, stream) only,
    so a resumed run draws exactly what an uninterrupted one would."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 7 + stream)


def sample_indices(count: int, batch_size: int, g: torch.Generator) -> list[int]:
    """`batch_size` indices drawn uniformly (without replacement when possible)."""
    if batch_size <= count:
        return torch.randperm(count, generator=g)[:batch_size].tolist()
    return torch.randint(0, count, (batch_size,), generator=g).tolist()


def identity_groups(labels: np.ndarray) -> dict[int, np.ndarray]:
    """identity -> indices of its images (unlabelled images, -1, are left out)."""
    order = np.argsort(labels, kind="stable")
    values, starts = np.unique(labels[order], return_index=True)
    groups = np.split(order, starts[1:])
    return {int(v): g for v, g in zip(values, groups, strict=True) if v >= 0}


def sample_pairs(
    labels: np.ndarray, groups: dict[int, np.ndarray], pairs: int, g: torch.Generator
) -> list[int]:
    """2 x `pairs` indices: anchors then partners; about half the partners share the
    anchor's identity (when it has another image), the rest are drawn at random."""
    count = len(labels)
    anchors = torch.randint(0, count, (pairs,), generator=g).tolist()
    partners = []
    for a in anchors:
        same = groups.get(int(labels[a]), np.array([], dtype=np.int64))
        same = same[same != a]
        if len(same) and torch.rand(1, generator=g).item() < 0.5:
            partners.append(int(same[torch.randint(0, len(same), (1,), generator=g).item()]))
        else:
            partners.append(int(torch.randint(0, count, (1,), generator=g).item()))
    return anchors + partners


def load_batch(data, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B x 3 x 112 x 112 float 0..255, B labels) for `indices`."""
    items = [data.item(i) for i in indices]
    faces = np.stack([face for face, _ in items]).astype(np.float32)
    labels = torch.tensor([label for _, label in items], dtype=torch.long)
    return torch.from_numpy(faces.transpose(0, 3, 1, 2).copy()), labels
