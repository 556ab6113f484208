"""Checkpoints (safetensors + model.json), the model registry, RecordIO, and the CLI."""

from __future__ import annotations

import json
import struct

import cv2
import numpy as np
import pytest
import torch
from trainable_synthetic import TINY_WIDTH, random_faces, tiny_network

from core.errors import ModelNotFoundError
from core.models import registry
from core.models.checkpoint import META_FILE, WEIGHTS_FILE, save_checkpoint
from core.training.face_data import RecordIOFaces, open_face_data
from core.training.jobs import architecture
from core.training.recordio import MAGIC, RecordReader

CPU = torch.device("cpu")


def write_checkpoint(path, arch: str, seed: int = 0) -> dict:
    net = tiny_network(arch, seed)
    meta = {
        "name": path.name,
        "architecture": architecture(arch, "r18", TINY_WIDTH),
        "embedding_size": 512,
        "training": {"method": "identity", "steps_done": 0, "data": {"images": 0}},
        "correlated_attention_ready": arch == "xcos",
    }
    return save_checkpoint(path, net, meta), net


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["rrfnet56", "rrfnet28", "xcos"])
def test_round_trip_gives_identical_outputs(tmp_path, arch):
    from core.models.checkpoint import face_model_from_checkpoint

    _, net = write_checkpoint(tmp_path / "m", arch)
    faces = random_faces(2, seed=11)
    x = torch.from_numpy(faces.transpose(0, 3, 1, 2).astype(np.float32))
    model = registry.load_model(str(tmp_path / "m"), CPU)
    with torch.no_grad():
        assert torch.equal(net(x), model.embed_tensor(x))
    again = face_model_from_checkpoint("again", tmp_path / "m", CPU, None)
    for a, b in zip(model.cell_features(faces), again.cell_features(faces), strict=True):
        assert np.array_equal(a.cells, b.cells)
    meta = json.loads((tmp_path / "m" / META_FILE).read_text())
    assert meta["input"]["normalisation"].startswith("(x - 127.5) / 128")
    assert meta["weights_sha256"] == model.describe()["weights_sha256"]


def test_corrupted_weights_are_rejected(tmp_path):
    write_checkpoint(tmp_path / "m", "rrfnet56")
    weights = tmp_path / "m" / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelNotFoundError, match="SHA-256 .* does not match"):
        registry.load_model(str(tmp_path / "m"), CPU)


def test_mismatched_architecture_is_rejected(tmp_path):
    write_checkpoint(tmp_path / "m", "rrfnet56")
    meta_path = tmp_path / "m" / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["architecture"]["backbone"]["width"] = TINY_WIDTH * 2
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelNotFoundError, match="shapes do not fit"):
        registry.load_model(str(tmp_path / "m"), CPU)
    meta["architecture"] = architecture("xcos", "r18", TINY_WIDTH)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelNotFoundError, match="do not fit the architecture"):
        registry.load_model(str(tmp_path / "m"), CPU)


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="not a checkpoint directory"):
        registry.load_model(str(tmp_path / "empty"), CPU)
    write_checkpoint(tmp_path / "m", "rrfnet56")
    (tmp_path / "m" / WEIGHTS_FILE).write_bytes(b"not safetensors")
    meta_path = tmp_path / "m" / META_FILE
    meta = json.loads(meta_path.read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(b"not safetensors").hexdigest()
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelNotFoundError, match="not a valid safetensors"):
        registry.load_model(str(tmp_path / "m"), CPU)


def test_user_model_directory_is_listed_and_loadable(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.MODEL_DIR_ENV, str(tmp_path))
    write_checkpoint(tmp_path / "mine-rrf", "rrfnet56")
    write_checkpoint(tmp_path / "mine-xcos", "xcos")
    (tmp_path / "not-a-model").mkdir()
    ids = registry.available_model_ids()
    assert ids[: len(registry.model_ids())] == registry.model_ids()
    assert ids[len(registry.model_ids()) :] == ["mine-rrf", "mine-xcos"]
    assert registry.load_model("mine-rrf", CPU).layout.count == 5
    unit = registry.load_model("mine-xcos#unit", CPU)
    assert unit.describe()["attention"] == "unit"
    with pytest.raises(ModelNotFoundError, match="xCos checkpoints only"):
        registry.load_model("mine-rrf#unit", CPU)
    with pytest.raises(ModelNotFoundError, match="unknown xCos attention"):
        registry.load_model("mine-xcos#bogus", CPU)


def _record(payload: bytes) -> bytes:
    """One RecordIO record, split where the payload holds the magic word (as dmlc does)."""
    magic = struct.pack("<I", MAGIC)
    parts, start = [], 0
    for pos in range(0, len(payload) - 3, 4):
        if payload[pos : pos + 4] == magic:
            parts.append(payload[start:pos])
            start = pos + 4
    parts.append(payload[start:])
    out = b""
    for n, part in enumerate(parts):
        cflag = 0 if len(parts) == 1 else (1 if n == 0 else 3 if n == len(parts) - 1 else 2)
        out += magic + struct.pack("<I", (cflag << 29) | len(part)) + part
        out += b"\0" * ((4 - len(part) % 4) % 4)
    return out


def _image_payload(label: float, image: np.ndarray, extra: tuple = ()) -> bytes:
    header = struct.pack("<IfQQ", len(extra), label, 0, 0)
    if extra:
        header += struct.pack(f"<{len(extra)}f", *extra)
    if image is None:
        return header
    ok, png = cv2.imencode(".png", image[:, :, ::-1])
    assert ok
    return header + png.tobytes()


def test_recordio_reader_reads_what_the_test_wrote(tmp_path):
    faces = random_faces(4, seed=2)
    labels = [0, 0, 1, 2]
    payloads = [_image_payload(0.0, None, (5.0, 8.0))]  # insightface header record
    payloads += [_image_payload(float(y), f) for y, f in zip(labels, faces, strict=True)]
    # A payload with the magic word at an aligned position exercises split records.
    tricky = _image_payload(2.0, faces[0]) + struct.pack("<I", MAGIC) + b"tail"
    rec, idx = b"", []
    for key, payload in enumerate(payloads):
        idx.append(f"{key}\t{len(rec)}")
        rec += _record(payload)
    idx.append(f"9\t{len(rec)}")
    rec += _record(tricky)
    (tmp_path / "train.rec").write_bytes(rec)
    (tmp_path / "train.idx").write_text("\n".join(idx) + "\n")

    reader = RecordReader(tmp_path / "train.rec")
    assert reader.read(9) == tricky
    data = open_face_data(tmp_path, prepare_folder=None)
    assert isinstance(data, RecordIOFaces)
    assert len(data) == 4 and data.num_classes == 3
    for i in range(4):
        face, label = data.item(i)
        assert np.array_equal(face, faces[i]) and label == labels[i]
    assert data.labels.tolist() == labels


@pytest.mark.slow
def test_cli_distill_then_compare_and_list(tmp_path, faces_dir, monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setenv(registry.MODEL_DIR_ENV, str(tmp_path / "models"))
    out = tmp_path / "models" / "obama-rrf56"
    args = ["--data", str(faces_dir / "identities" / "obama"), "--out", str(out)]
    args += ["--arch", "rrfnet56", "--width", str(TINY_WIDTH), "--steps", "1"]
    args += ["--batch-size", "2", "--device", "cpu", "--detector", "mtcnn"]
    args += ["--cache", str(tmp_path / "cache")]
    assert main(["distill", *args]) == 0
    assert (out / WEIGHTS_FILE).is_file() and (out / META_FILE).is_file()
    photos = sorted((faces_dir / "identities" / "obama").iterdir())
    compare = ["compare", str(photos[0]), str(photos[1]), "--detector", "mtcnn"]
    assert main([*compare, "--model", "obama-rrf56"]) == 0
    text = capsys.readouterr().out
    assert "5x5 pairs of restricted receptive field (RRFNet distilled" in text
    assert "obama-rrf56" in registry.available_model_ids()
