"""A small reader for insightface/MXNet RecordIO face datasets (train.rec + train.idx).

WebFace4M, CASIA-WebFace and MS1M ship this way. Written from the dmlc-core
RecordIO layout, without mxnet:

- train.idx: text lines "key<TAB>byte offset" into train.rec.
- train.rec: records; each part is uint32 magic 0xCED7230A, uint32 lrecord
  (cflag = lrecord >> 29, length = lrecord & (2^29 - 1)), the payload, padded to
  4 bytes. cflag 0 is a whole record; 1/2/3 start/continue/end a record that the
  writer split where the payload contained the magic word, which the reader
  puts back between the parts.
- A payload is an image record: IRHeader struct "<IfQQ" (flag, label, id, id2);
  when flag > 0, `flag` float32 labels follow; then the encoded image (JPEG/PNG).
- insightface's convention: when record 0 has flag > 0, its labels (a, b) say
  that images are records 1..a-1 and identities number b - a.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import UsageError

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_HEADER = struct.Struct("<IfQQ")
_LENGTH_MASK = (1 << 29) - 1


@dataclass(frozen=True)
class ImageRecord:
    label: float
    labels: tuple[float, ...]  # the extra labels when flag > 0
    image_bytes: bytes


def read_index(idx_path: Path) -> dict[int, int]:
    """key -> byte offset, from train.idx."""
    offsets = {}
    for n, line in enumerate(idx_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise UsageError(f"{idx_path} line {n}: expected 'key<TAB>offset', got {line!r}")
        offsets[int(parts[0])] = int(parts[1])
    return offsets


def unpack_image_record(payload: bytes) -> ImageRecord:
    if len(payload) < _HEADER.size:
        raise UsageError(f"RecordIO payload of {len(payload)} bytes is shorter than its header")
    flag, label, _, _ = _HEADER.unpack_from(payload)
    start = _HEADER.size
    labels: tuple[float, ...] = ()
    if flag > 0:
        labels = struct.unpack_from(f"<{flag}f", payload, start)
        start += 4 * flag
    return ImageRecord(label=label, labels=labels, image_bytes=payload[start:])


class RecordReader:
    """Random access to the records of a .rec file through its .idx."""

    def __init__(self, rec_path: str | Path, idx_path: str | Path | None = None):
        self.rec_path = Path(rec_path)
        self.idx_path = Path(idx_path) if idx_path else self.rec_path.with_suffix(".idx")
        for p in (self.rec_path, self.idx_path):
            if not p.is_file():
                raise UsageError(f"RecordIO file not found: {p}")
        self.offsets = read_index(self.idx_path)
        self._fh = None
        self._pid = None

    def keys(self) -> list[int]:
        return sorted(self.offsets)

    def _file(self):
        import os

        # One handle per process, so DataLoader workers never share a file position.
        if self._fh is None or self._pid != os.getpid():
            self._fh = open(self.rec_path, "rb")  # noqa: SIM115 - kept open for random access
            self._pid = os.getpid()
        return self._fh

    def read(self, key: int) -> bytes:
        """The payload of record `key`, with split parts joined."""
        if key not in self.offsets:
            raise UsageError(f"{self.rec_path}: no record {key} in {self.idx_path.name}")
        fh = self._file()
        fh.seek(self.offsets[key])
        parts = []
        while True:
            head = fh.read(8)
            if len(head) < 8:
                raise UsageError(f"{self.rec_path}: record {key} is truncated")
            magic, lrecord = struct.unpack("<II", head)
            if magic != MAGIC:
                raise UsageError(f"{self.rec_path}: bad magic at record {key}; not a RecordIO file")
            cflag, length = lrecord >> 29, lrecord & _LENGTH_MASK
            data = fh.read(length)
            if len(data) < length:
                raise UsageError(f"{self.rec_path}: record {key} is truncated")
            fh.read((4 - length % 4) % 4)
            parts.append(data)
            if cflag in (0, 3):
                return _MAGIC_BYTES.join(parts)

    def image_record(self, key: int) -> ImageRecord:
        return unpack_image_record(self.read(key))

    def header_label(self, key: int) -> float:
        """Only the label of record `key` (reads the header, not the image)."""
        fh = self._file()
        fh.seek(self.offsets[key] + 8)
        return _HEADER.unpack(fh.read(_HEADER.size))[1]


def decode_face(image_bytes: bytes, where: str) -> np.ndarray:
    """Encoded image -> 112 x 112 x 3 uint8 RGB (insightface datasets are aligned at 112)."""
    bgr = cv2.imdecode(np.frombuffer(image_bytes, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise UsageError(f"{where}: the image bytes do not decode")
    if bgr.shape[:2] != (112, 112):
        raise UsageError(
            f"{where}: faces must be aligned at 112 x 112, got {bgr.shape[1]}x{bgr.shape[0]}"
        )
    return np.ascontiguousarray(bgr[:, :, ::-1])
