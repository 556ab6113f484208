"""Where Patchwise keeps what it can recompute: $PATCHWISE_CACHE_DIR, else
$XDG_CACHE_HOME/patchwise, else ~/.cache/patchwise (gallery embeddings, ONNX exports)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    if os.environ.get("PATCHWISE_CACHE_DIR"):
        return Path(os.environ["PATCHWISE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "patchwise"
