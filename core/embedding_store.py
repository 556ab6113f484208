"""An on-disk store of face features, keyed by everything that produced them (LMDB).

One entry per (image SHA-256, detector and its weights, face index, model id and its
weights SHA-256, app version): the face's cell features (K x D float64, exactly as the
model produced them, plus the bias), its embedding, and the image's name when last
seen. A photo without a face is stored too (as that error), so it is not re-detected.

Why LMDB (benchmarks/bench_store_backends.py, docs/scale.md): against SQLite in WAL
mode it wrote 400 kB entries about 1.5x faster and read them about 10x faster. Every
write is one transaction: a process killed mid-write leaves the previous state, and
LMDB's lock file serialises writers of several processes on one machine (not over a
network file system). Every value carries the SHA-256 of its arrays, checked on each
read; an entry that fails the check counts as missing and is recomputed.

Location: `--store DIR`, else $PATCHWISE_STORE_DIR, else <user cache>/store.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import lmdb
import numpy as np

from core import __version__
from core.errors import UsageError
from core.models.face_model import CellFeatures
from core.user_cache import user_cache_dir

STORE_ENV = "PATCHWISE_STORE_DIR"
MAP_SIZE = 1 << 40  # address space only: the file grows with the data
_HEADER_LENGTH = struct.Struct("<I")


def default_store_dir() -> Path:
    return Path(os.environ[STORE_ENV]) if os.environ.get(STORE_ENV) else user_cache_dir() / "store"


@dataclass(frozen=True)
class Producer:
    """The detector and model (with their weights) whose output an entry holds."""

    detector: str
    model: str

    @classmethod
    def of(cls, detector, model) -> Producer:
        """The model part names the runtime when it is not torch: `<id>@<weights SHA-256>`
        for torch, `...+onnx@<ONNX file SHA-256[:16]>` for the ONNX Runtime fast path."""
        d, m = detector.describe(), model.describe()
        detector_hash = (d.get("weights") or {}).get("sha256") or _json_hash(d)
        model_hash = m.get("weights_sha256") or _json_hash(m)
        onnx_sha256 = getattr(model, "onnx_sha256", None)
        runtime = f"+onnx@{onnx_sha256[:16]}" if onnx_sha256 else ""
        return cls(f"{d['id']}@{detector_hash[:16]}", f"{m['id']}@{model_hash}{runtime}")

    def prefix(self) -> bytes:
        return f"{self.detector}|{self.model}|{__version__}|".encode()

    def key(self, image_sha256: str, face: int = 0) -> bytes:
        return self.prefix() + f"{image_sha256}|{face}".encode()


def _json_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class StoredFace:
    """What the store holds for one face: features, or the reason there are none."""

    name: str
    embedding: np.ndarray | None = None  # always read
    features: CellFeatures | None = None  # read only when cells are asked for; None for an
    # embedding of the ONNX fast path, which is stored without cells
    error: str | None = None

    @classmethod
    def of(cls, name: str, features: CellFeatures) -> StoredFace:
        return cls(name, features.embedding, features)


def _encode(entry: StoredFace, with_cells: bool) -> bytes:
    arrays = []
    if entry.embedding is not None:
        f = entry.features
        arrays = [np.ascontiguousarray(entry.embedding, dtype=np.float64)]
        if with_cells:
            arrays.append(np.ascontiguousarray(f.cells, dtype=np.float64))
            if f.bias is not None:
                arrays.append(np.ascontiguousarray(f.bias, dtype=np.float64))
    payload = b"".join(a.tobytes() for a in arrays)
    header = json.dumps(
        {
            "name": entry.name,
            "error": entry.error,
            "shapes": [list(a.shape) for a in arrays],
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
    ).encode()
    return _HEADER_LENGTH.pack(len(header)) + header + payload


def _decode(value: bytes) -> tuple[dict, list[np.ndarray]] | None:
    """(header, arrays), or None when the value is damaged or fails its SHA-256."""
    try:
        (length,) = _HEADER_LENGTH.unpack_from(value)
        header = json.loads(bytes(value[4 : 4 + length]))
        payload = bytes(value[4 + length :])
    except (struct.error, ValueError):
        return None
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        return None
    arrays, offset = [], 0
    for shape in header["shapes"]:
        count = int(np.prod(shape))
        arrays.append(np.frombuffer(payload, np.float64, count, offset).reshape(shape).copy())
        offset += 8 * count
    return header, arrays


_open_envs: dict[Path, list] = {}  # folder -> [LMDB environment, users] (one per process)
_open_lock = threading.Lock()


def _open_env(folder: Path) -> lmdb.Environment:
    """LMDB must not open one environment twice in a process: share it, counting users."""
    with _open_lock:
        if folder not in _open_envs:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                env = lmdb.open(str(folder), map_size=MAP_SIZE, max_dbs=2)
            except (OSError, lmdb.Error) as exc:
                raise UsageError(f"embedding store {folder}: cannot open ({exc})") from exc
            _open_envs[folder] = [env, 0]
        _open_envs[folder][1] += 1
        return _open_envs[folder][0]


def _release_env(folder: Path) -> None:
    with _open_lock:
        _open_envs[folder][1] -= 1
        if _open_envs[folder][1] == 0:
            _open_envs.pop(folder)[0].close()


class EmbeddingStore:
    """The LMDB store: `features` holds cells and bias, `embeddings` the embedding alone
    (what cosine scoring and gallery search read, 1/49 of the bytes for faceres)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).resolve()
        self._env = _open_env(self.folder)
        self._features = self._env.open_db(b"features")
        self._embeddings = self._env.open_db(b"embeddings")
        self.corrupt = 0  # entries that failed their SHA-256 check since opening
        self._closed = False

    def __enter__(self) -> EmbeddingStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release_env(self.folder)

    def get_many(self, keys: list[bytes], with_cells: bool) -> list[StoredFace | None]:
        """The entries under `keys` (None where absent or damaged), in one read transaction."""
        db = self._features if with_cells else self._embeddings
        found = []
        with self._env.begin(db=db) as txn:
            for key in keys:
                value = txn.get(key)
                found.append(None if value is None else self._entry(value, with_cells))
        return found

    def _entry(self, value: bytes, with_cells: bool) -> StoredFace | None:
        decoded = _decode(value)
        if decoded is None:
            self.corrupt += 1
            return None
        header, arrays = decoded
        if not arrays:
            return StoredFace(header["name"], error=header["error"])
        features = None
        if with_cells:
            features = CellFeatures(arrays[1], arrays[2] if len(arrays) > 2 else None)
        return StoredFace(header["name"], arrays[0], features)

    def put_many(self, items: list[tuple[bytes, StoredFace]]) -> None:
        """Write every entry in one transaction: all of them are stored, or none."""
        if not items:
            return
        with self._env.begin(write=True) as txn:
            for key, entry in items:
                if entry.features is not None or entry.embedding is None:
                    txn.put(key, _encode(entry, with_cells=True), db=self._features)
                txn.put(key, _encode(entry, with_cells=False), db=self._embeddings)

    def gallery(self, producer: Producer) -> list[tuple[str, str, np.ndarray]]:
        """(image SHA-256, name, embedding) of every face 0 this producer stored."""
        prefix, found = producer.prefix(), []
        with self._env.begin(db=self._embeddings) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(prefix):
                return found
            for key, value in cursor:
                if not key.startswith(prefix):
                    break
                image_sha256, face = key[len(prefix) :].decode().split("|")
                entry = self._entry(value, with_cells=False)
                if face == "0" and entry is not None and entry.embedding is not None:
                    found.append((image_sha256, entry.name, entry.embedding))
        return found
