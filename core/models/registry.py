"""The model registry: which recognition models exist and how to load them."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import torch

from core.errors import ModelNotFoundError
from core.models.bundled import FaceresGridModel, FrozenRRFModel, MobileFaceGridModel
from core.models.face_model import FaceModel

DEFAULT_MODEL = "faceres"

_FACTORIES: dict[str, Callable[[torch.device], FaceModel]] = {
    "faceres": FaceresGridModel,
    "mobileface": MobileFaceGridModel,
    "faceres-rrf56": lambda device: FrozenRRFModel("rrf56", device),
    "faceres-rrf28": lambda device: FrozenRRFModel("rrf28", device),
}

_loaded: dict[tuple, FaceModel] = {}
# Loads are serialised (the GUI's thread and its workers ask); a model already loaded
# is returned without waiting for the lock (a dict read), so a long load of one model
# never blocks a caller that wants another one already in memory.
_loading = threading.RLock()


# Where `models` looks for trained checkpoints (docs/training.md).
MODEL_DIR_ENV = "PATCHWISE_MODEL_DIR"
DEFAULT_USER_MODEL_DIR = Path.home() / ".local" / "share" / "patchwise" / "models"


def model_ids() -> list[str]:
    return list(_FACTORIES)


def user_model_dir() -> Path:
    """$PATCHWISE_MODEL_DIR, else ~/.local/share/patchwise/models."""
    return Path(os.environ.get(MODEL_DIR_ENV) or DEFAULT_USER_MODEL_DIR)


def user_checkpoints() -> dict[str, Path]:
    """Checkpoint directories in the user model directory, by name (bundled ids win)."""
    from core.models.checkpoint import is_checkpoint_dir

    root = user_model_dir()
    if not root.is_dir():
        return {}
    found = sorted(p for p in root.iterdir() if p.is_dir() and is_checkpoint_dir(p))
    return {p.name: p for p in found if p.name not in _FACTORIES}


def available_model_ids() -> list[str]:
    """Bundled ids, then the checkpoints of the user model directory."""
    return model_ids() + list(user_checkpoints())


def _checkpoint_model(model_id: str, device: torch.device) -> FaceModel:
    """`name[#attention]` from the user model directory, or a checkpoint directory path."""
    from core.models.checkpoint import face_model_from_checkpoint, is_checkpoint_dir

    base, _, attention = model_id.partition("#")
    path = user_checkpoints().get(base)
    if path is None and is_checkpoint_dir(base):
        path = Path(base)
    if path is None:
        raise ModelNotFoundError(
            f"unknown model '{model_id}': not a bundled id ({', '.join(model_ids())}), "
            f"not a checkpoint in {user_model_dir()} (${MODEL_DIR_ENV}), "
            "and not a checkpoint directory (one with model.json)"
        )
    # Cached per model.json version: a retrained checkpoint is loaded afresh.
    key = (model_id, str(device), (path / "model.json").stat().st_mtime_ns)
    return _loaded.get(key) or _load_once(
        key, lambda: face_model_from_checkpoint(model_id, path, device, attention or None)
    )


def load_model(model_id: str, device: torch.device) -> FaceModel:
    """Load (once per device) the model `model_id`: a bundled id, a checkpoint name in the
    user model directory or a checkpoint directory path (xCos: append #unit, #correlated
    or #learned). Unknown ids raise ModelNotFoundError."""
    if model_id not in _FACTORIES:
        return _checkpoint_model(model_id, device)
    key = (model_id, str(device))
    return _loaded.get(key) or _load_once(key, lambda: _FACTORIES[model_id](device))


def _load_once(key: tuple, load: Callable[[], FaceModel]) -> FaceModel:
    with _loading:
        if key not in _loaded:
            _loaded[key] = load()
        return _loaded[key]
