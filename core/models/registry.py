"""The model registry: which recognition models exist and how to load them."""

from __future__ import annotations

from collections.abc import Callable

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

_loaded: dict[tuple[str, str], FaceModel] = {}


def model_ids() -> list[str]:
    return list(_FACTORIES)


def load_model(model_id: str, device: torch.device) -> FaceModel:
    """Load (once per device) the model `model_id`; unknown ids raise ModelNotFoundError."""
    if model_id not in _FACTORIES:
        raise ModelNotFoundError(f"unknown model '{model_id}'; available: {', '.join(model_ids())}")
    key = (model_id, str(device))
    if key not in _loaded:
        _loaded[key] = _FACTORIES[model_id](device)
    return _loaded[key]
