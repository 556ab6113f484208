"""Choosing the torch device and thread count deliberately."""

from __future__ import annotations

import os

import torch

from core.errors import UsageError


def select_device(name: str = "auto") -> torch.device:
    """'auto' takes CUDA when available, else the CPU; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but torch sees no CUDA GPU")
    if name not in ("cpu", "cuda"):
        raise UsageError(f"unknown device '{name}' (use auto, cpu or cuda)")
    return torch.device(name)


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads for the calling thread; default: every core."""
    count = threads or os.cpu_count() or 1
    torch.set_num_threads(count)
    return count
