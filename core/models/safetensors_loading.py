"""Filling a hand-written torch module from a safetensors file (never a pickle)."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from core.errors import ModelNotFoundError


def load_module_weights(module: nn.Module, path: str | Path, what: str) -> nn.Module:
    """Load `path` into `module` (strict, upcast to float32); eval mode, no grad on weights.

    Missing files, tensors that do not fit, and NaN or infinite values raise
    ModelNotFoundError naming `what` (a model with NaN weights would print
    "cosine +nan").
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"{what} weights not found: {path}")
    try:
        state = {k: v.to(torch.float32) for k, v in load_file(str(path)).items()}
        module.load_state_dict(state, strict=True)
    except Exception as exc:  # safetensors raises its own error type for corrupt files
        raise ModelNotFoundError(f"{what} weights in {path} do not fit: {exc}") from exc
    broken = [name for name, tensor in state.items() if not bool(torch.isfinite(tensor).all())]
    if broken:
        raise ModelNotFoundError(f"{what} weights in {path} hold NaN or inf values ({broken[0]})")
    return module.eval().requires_grad_(False)
