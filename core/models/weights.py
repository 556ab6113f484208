"""Locating bundled weights through resources/models/manifest.json and checking their hashes."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from core.errors import ModelNotFoundError
from core.file_hash import sha256_file
from core.resource_paths import RESOURCES_DIR

MODELS_DIR = RESOURCES_DIR / "models"
MANIFEST = MODELS_DIR / "manifest.json"


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The bundled-weights manifest (source, license, hashes, input spec per entry)."""
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"the model manifest is missing: {MANIFEST}") from exc


def verified_weights(key: str) -> tuple[Path, dict]:
    """The weights file of manifest entry `key`, after checking it exists and its SHA-256."""
    entry = manifest().get(key)
    if entry is None:
        raise ModelNotFoundError(f"no entry '{key}' in {MANIFEST}")
    path = MODELS_DIR / entry["file"]
    if not path.is_file():
        raise ModelNotFoundError(f"weights for '{key}' are missing: {path}")
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise ModelNotFoundError(
            f"weights for '{key}' do not match the manifest: {path} has SHA-256 {actual}, "
            f"expected {entry['sha256']}"
        )
    return path, entry
