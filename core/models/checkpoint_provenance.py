"""Provenance of a trained checkpoint, as `models`, the engine and reports show it.

Kept apart from core/models/checkpoint.py (which builds networks from rrfnet and
xcos) so that the model adapters in rrfnet.py and xcos.py can describe
themselves without importing the checkpoint loader: no import cycle.
"""

from __future__ import annotations

from core.models.face_model import ModelKind

WEIGHTS_FILE = "weights.safetensors"
ARCH_TITLES = {"rrfnet56": "RRFNet-56", "rrfnet28": "RRFNet-28", "xcos": "xCos"}


def describe_checkpoint(model_id: str, meta: dict) -> dict:
    """Provenance of a checkpointed model, in the shape `models` and reports expect."""
    arch = meta["architecture"]
    backbone = arch["backbone"]
    training = meta.get("training", {})
    method = training.get("method", "unknown")
    how = {
        "identity": "trained with identity labels",
        "distillation": f"distilled from {training.get('teacher', 'a teacher')} without labels",
    }.get(method, "training method unknown")
    label = (
        f"{ARCH_TITLES.get(arch['arch'], arch['arch'])} ({backbone['depth']}, width "
        f"{backbone['width']}), {how}: {training.get('steps_done', '?')} steps on "
        f"{training.get('data', {}).get('images', '?')} images — a local checkpoint, "
        "not validated on a benchmark unless its metrics say so"
    )
    kind = ModelKind.XCOS if arch["arch"] == "xcos" else ModelKind.TRAINED_RRF
    return {
        "id": model_id,
        "kind": kind.value,
        "label": label,
        "weights_file": meta.get("weights_file", WEIGHTS_FILE),
        "weights_sha256": meta.get("weights_sha256"),
        "source": f"local checkpoint {meta.get('path')}",
        "origin": "trained with Patchwise",
        "license": "as the training data allows (set by whoever trained it)",
        "input": meta.get("input"),
        "architecture": arch,
        "training": training,
        "metrics": meta.get("metrics", {}),
    }
