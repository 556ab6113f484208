"""The post-hoc explainers the workbench offers, their settings, cache keys and texts.

Each toggle is one registry explainer with fixed settings (the papers' defaults,
as core.explainers sets them) and seed EXPLAINER_SEED. core/workbench/jobs.py
computes the maps and their deletion/insertion fidelity against random maps
(core.explainers.faithfulness); results are cached per `cache_key`.

SDD needs a background gallery (core.explainers.gallery.load_gallery, run by
jobs.gallery_job) embedded with the comparison's model; it runs with
SddSettings(gallery=..., k=SDD_K). Its maps are shown but not recorded in a
case: the gallery folder lies outside the case file, so a case could not
reproduce them (see NOT_RECORDED).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from core.explainers.faithfulness import FidelitySettings
from core.explainers.registry import availability, spec_for

EXPLAINER_SEED = 0
# What runs the black-box passes (core.models.onnx_runtime): ONNX Runtime, measured
# 2-3x torch eager on the bundled models; "torch" is the reference. A setting.
DEFAULT_RUNTIME = "onnx"
RUNTIME_LABELS = {"onnx": "ONNX Runtime (fast)", "torch": "torch (reference)"}
FIDELITY = FidelitySettings()
SDD_K = 5
NOT_RECORDED = {"sdd"}  # registry names whose maps a case file cannot reproduce

# toggle label -> (registry name, settings overrides)
TOGGLES = {
    "X-Map I": ("xmap", {"method": 1}),
    "X-Map II": ("xmap", {"method": 2}),
    "X-Map III": ("xmap", {"method": 3}),
    "CorrRISE S⁺/S⁻": ("corrrise", {}),
    "Grad-CAM": ("gradcam", {}),
    "Grad-CAM++": ("gradcampp", {}),
    "SDD": ("sdd", {}),
}
GUI_UNAVAILABLE = {
    "sdd": "SDD needs a background gallery of faces: choose a folder of face photos with "
    "Edit → Choose background gallery… (or the button below the maps).",
}


def settings_for(label: str, gallery=None):
    """The toggle's settings; SDD's carry the background gallery and k = SDD_K."""
    name, overrides = TOGGLES[label]
    if name == "sdd":
        overrides = {**overrides, "gallery": gallery, "k": SDD_K}
    return dataclasses.replace(spec_for(name).default_settings(), **overrides)


def gallery_reason(label: str, model_id: str, gallery=None, gallery_model=None) -> str | None:
    """Why SDD cannot run yet (no gallery, or one embedded with another model), or None."""
    if TOGGLES[label][0] != "sdd":
        return None
    if gallery is None:
        return GUI_UNAVAILABLE["sdd"]
    if gallery_model != model_id:
        return (
            f"The background gallery was embedded with {gallery_model}, not {model_id}; "
            "it is being embedded again (or choose it again)."
        )
    return None


def unavailable_reason(label: str, model, gallery=None, gallery_model=None) -> str | None:
    """Why this toggle cannot run for `model` here (with this gallery), or None."""
    name, _ = TOGGLES[label]
    return gallery_reason(label, model.id, gallery, gallery_model) or availability(name, model)


def settings_key(label: str, gallery=None) -> str:
    """The settings as text; a gallery stands in by its folder and its embeddings' hash."""
    settings = settings_for(label, gallery)
    if gallery is None:
        return repr(settings)
    digest = hashlib.sha256(gallery.embeddings.tobytes()).hexdigest()[:16]
    return repr(dataclasses.replace(settings, gallery=f"{gallery.folder} sha256 {digest}"))


def cache_key(
    label: str, pair_key: tuple, model_id: str, gallery=None, runtime: str = DEFAULT_RUNTIME
) -> tuple:
    """Results are cached per (pair, model, settings, seed, runtime)."""
    name = TOGGLES[label][0]
    return (pair_key, model_id, name, settings_key(label, gallery), EXPLAINER_SEED, runtime)


def gallery_text(gallery) -> str:
    """The gallery's name and size, as the panel shows them."""
    if gallery is None:
        return "Background gallery: none (SDD needs one)."
    skipped = f", {len(gallery.skipped)} photos without a face skipped" if gallery.skipped else ""
    return f"Background gallery: {Path(gallery.folder).name} ({len(gallery.names)} faces{skipped})."


def describe(label: str, explanation: dict, figures: dict | None) -> str:
    """The map's provenance and per-pair fidelity (None: still being measured), flagged when
    no better than random, as the panel shows them."""
    runtime = explanation.get("runtime", {}).get("runtime", "torch")
    head = (
        f"<b>{label}</b>: {explanation['units']}.<br>"
        f"seed {explanation['seed']}, {explanation['forward_passes']} forward passes on "
        f"{RUNTIME_LABELS.get(runtime, runtime)}, {explanation['seconds']:.1f} s."
        + "".join(f"<br>{note}." for note in explanation.get("notes", []))
        + "<br>"
    )
    if figures is None:
        return (
            head + "<b>Per-pair score AUC</b>: being measured (after the map, in the background)…"
        )
    worse = [k for k, v in figures.get("worse_than_random", {}).items() if v]
    flag = f" <b>WORSE THAN RANDOM</b> on {' and '.join(worse)}." if worse else ""
    joint = " both faces at the same pixels (X-Maps III)," if figures.get("mode") == "joint" else ""
    return head + (
        f"<b>Per-pair score AUC</b> (this pair,{joint} {FIDELITY.steps} steps; the paper's "
        f"dataset protocol is `explain-bench`): deletion AUC "
        f"{figures['deletion_auc']:.3f} (random maps {figures['random_deletion_auc']:.3f}; "
        f"lower is better), insertion AUC {figures['insertion_auc']:.3f} "
        f"(random {figures['random_insertion_auc']:.3f}; higher is better).{flag}"
    )


def settings_text(label: str, gallery=None) -> str:
    return f"{label}: {settings_key(label, gallery)}, seed {EXPLAINER_SEED}; runs in the background"
