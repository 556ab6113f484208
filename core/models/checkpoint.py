"""Trainable-model checkpoints: a directory with weights.safetensors and model.json.

model.json records the architecture (enough to rebuild the network), the cell
layout, the input convention, the embedding size, the training provenance and
metrics, and the SHA-256 of weights.safetensors. Loading checks the hash, the
architecture, and every tensor's name and shape before any weight is used, and
raises ModelNotFoundError naming what does not fit. Weights are read only with
safetensors (never unpickled).

Resumable training state (margin-head weights, optimizer buffers, RNG state)
lives beside them in train_state.safetensors + train_state.json.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes
from torch import nn

from core import __version__
from core.atomic_write import write_bytes_atomically, write_json_atomically
from core.errors import ModelNotFoundError
from core.models.checkpoint_provenance import WEIGHTS_FILE
from core.models.iresnet import DEPTHS, BackboneConfig
from core.models.rrfnet import ARCH_LAYOUTS, RRFNet, TrainedRRFModel
from core.models.xcos import ATTENTIONS, XCosFaceModel, XCosNet

SCHEMA = "patchwise.checkpoint/1"
META_FILE = "model.json"
STATE_FILE = "train_state.safetensors"
STATE_META_FILE = "train_state.json"
ARCHITECTURES = (*ARCH_LAYOUTS, "xcos")
INPUT_SPEC = {
    "size": 112,
    "channels": "RGB",
    "range": "0..255",
    "normalisation": "(x - 127.5) / 128, done inside the model",
    "alignment": "insightface arcface_dst 5-point template at 112 px",
}


def is_checkpoint_dir(path: str | Path) -> bool:
    return (Path(path) / META_FILE).is_file()


def build_network(architecture: dict) -> nn.Module:
    """Rebuild the (untrained) network that `architecture` from model.json describes."""
    arch = architecture.get("arch")
    if arch not in ARCHITECTURES:
        raise ModelNotFoundError(
            f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}"
        )
    try:
        backbone = BackboneConfig(**architecture["backbone"])
    except (KeyError, TypeError) as exc:
        raise ModelNotFoundError(f"model.json has a malformed backbone entry: {exc}") from exc
    if backbone.depth not in DEPTHS:
        raise ModelNotFoundError(f"unknown backbone depth {backbone.depth!r}")
    if arch == "xcos":
        return XCosNet(backbone)
    return RRFNet(arch, backbone)


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_checkpoint(out_dir: str | Path, net: nn.Module, meta: dict) -> dict:
    """Write weights.safetensors, then model.json (with the weights' SHA-256); return meta."""
    out = Path(out_dir)
    data = save_safetensors_bytes(_tensors(net))
    write_bytes_atomically(out / WEIGHTS_FILE, data)
    full = {
        "schema": SCHEMA,
        "app_version": __version__,
        "torch_version": torch.__version__,
        **meta,
        "input": INPUT_SPEC,
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": hashlib.sha256(data).hexdigest(),
    }
    write_json_atomically(out / META_FILE, full)
    return full


def _read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise ModelNotFoundError(f"{path.parent}: not a Patchwise checkpoint ({what} is missing)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelNotFoundError(f"{path}: unreadable JSON ({exc})") from exc


def _verified_tensors(path: Path, expected_sha: str | None) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelNotFoundError(f"{path.parent}: {path.name} is missing")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha:
        raise ModelNotFoundError(
            f"{path}: SHA-256 {actual} does not match {expected_sha} recorded beside it; "
            "the file is corrupted or was replaced"
        )
    try:
        return load_safetensors_bytes(data)
    except SafetensorError as exc:
        raise ModelNotFoundError(f"{path}: not a valid safetensors file ({exc})") from exc


def _load_checked(module: nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    """Load `tensors` into `module` after checking every name and shape."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ModelNotFoundError(
            f"{where}: the weights do not fit the architecture in {META_FILE} "
            f"(missing {missing[:3]}{'…' if len(missing) > 3 else ''}, "
            f"unexpected {unexpected[:3]}{'…' if len(unexpected) > 3 else ''})"
        )
    wrong = [
        f"{k}: {tuple(tensors[k].shape)} instead of {tuple(v.shape)}"
        for k, v in expected.items()
        if tensors[k].shape != v.shape
    ]
    if wrong:
        raise ModelNotFoundError(
            f"{where}: tensor shapes do not fit the architecture ({'; '.join(wrong[:3])})"
        )
    module.load_state_dict(tensors, strict=True)


def load_checkpoint(path: str | Path) -> tuple[nn.Module, dict]:
    """(network in eval mode, model.json) of the checkpoint directory `path`, verified."""
    root = Path(path)
    if not root.is_dir():
        raise ModelNotFoundError(f"checkpoint directory not found: {root}")
    meta = _read_json(root / META_FILE, META_FILE)
    if meta.get("schema") != SCHEMA:
        raise ModelNotFoundError(
            f"{root / META_FILE}: schema {meta.get('schema')!r} is not {SCHEMA!r}"
        )
    net = build_network(meta.get("architecture") or {})
    tensors = _verified_tensors(root / WEIGHTS_FILE, meta.get("weights_sha256"))
    _load_checked(net, tensors, root)
    meta = {**meta, "path": str(root.resolve())}
    return net.eval(), meta


def save_train_state(out_dir: str | Path, tensors: dict[str, torch.Tensor], info: dict) -> None:
    """The resumable state: head/optimizer/RNG tensors plus JSON scalars and their hash."""
    data = save_safetensors_bytes({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    write_bytes_atomically(Path(out_dir) / STATE_FILE, data)
    write_json_atomically(
        Path(out_dir) / STATE_META_FILE, {**info, "sha256": hashlib.sha256(data).hexdigest()}
    )


def load_train_state(out_dir: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, info) saved by save_train_state, hash-checked."""
    root = Path(out_dir)
    info = _read_json(root / STATE_META_FILE, STATE_META_FILE)
    return _verified_tensors(root / STATE_FILE, info.get("sha256")), info


def load_into(module: nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    """Load a state dict into `module` with the checkpoint's name and shape checks."""
    _load_checked(module, tensors, where)


def face_model_from_checkpoint(model_id: str, path: str | Path, device: torch.device, attention):
    """The engine model of checkpoint `path` (xCos models take an attention, default learned)."""
    net, meta = load_checkpoint(path)
    if isinstance(net, XCosNet):
        chosen = attention or "learned"
        if chosen not in ATTENTIONS:
            raise ModelNotFoundError(
                f"unknown xCos attention '{chosen}'; use one of {', '.join(ATTENTIONS)} "
                "after '#', e.g. mymodel#unit"
            )
        if chosen == "correlated" and not meta.get("correlated_attention_ready"):
            raise ModelNotFoundError(
                f"{path}: this checkpoint has no correlated attention P (Eq. 6) computed"
            )
        return XCosFaceModel(model_id, net, meta, device, chosen)
    if attention:
        raise ModelNotFoundError(f"'#{attention}' applies to xCos checkpoints only")
    return TrainedRRFModel(model_id, net, meta, device)
