"""The post-hoc explainers the map panel offers, run as worker jobs over core.explainers.

Each toggle is one registry explainer with fixed settings (the papers' defaults,
as core.explainers sets them) and seed EXPLAINER_SEED. A job computes the maps,
then their deletion/insertion fidelity against random maps (core.explainers.
faithfulness), and returns plain data; nothing here touches a widget.
"""

from __future__ import annotations

import dataclasses

from core.explainers.base import pair_from_comparison
from core.explainers.faithfulness import FidelitySettings, fidelity
from core.explainers.registry import availability, explain, spec_for
from gui.workers import ENGINE_LOCK

EXPLAINER_SEED = 0
FIDELITY = FidelitySettings()

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
    "sdd": "SDD needs a background gallery of faces; choose one with the CLI "
    "(`python main.py explain ... --method sdd --gallery DIR`). Not in the GUI yet.",
}


def settings_for(label: str):
    name, overrides = TOGGLES[label]
    return dataclasses.replace(spec_for(name).default_settings(), **overrides)


def unavailable_reason(label: str, model) -> str | None:
    """Why this toggle cannot run for `model` here, or None."""
    name, _ = TOGGLES[label]
    return GUI_UNAVAILABLE.get(name) or availability(name, model)


def cache_key(label: str, pair_key: tuple, model_id: str) -> tuple:
    """Results are cached per (pair, model, settings, seed)."""
    return (pair_key, model_id, TOGGLES[label][0], repr(settings_for(label)), EXPLAINER_SEED)


def explain_job(label: str, comparison):
    """Maps of one explainer for the comparison's pair, then their fidelity figures."""
    name, _ = TOGGLES[label]
    settings = settings_for(label)

    def job(progress, cancelled):
        def stage(offset: float):
            return lambda done, total: progress(offset + 0.5 * done / max(total, 1), label)

        with ENGINE_LOCK:
            explanation = explain(name, comparison, settings, EXPLAINER_SEED, stage(0.0), cancelled)
            figures = fidelity(
                pair_from_comparison(comparison),
                explanation,
                FIDELITY,
                EXPLAINER_SEED,
                stage(0.5),
                cancelled,
            )
        return {
            "map_a": explanation.map_a,
            "map_b": explanation.map_b,
            "info": describe(label, explanation.to_json(), figures),
            "method": name,
            "settings": settings,
            "seed": EXPLAINER_SEED,
            "explanation": explanation,  # kept so that a case can record it
            "figures": figures,
        }

    return job


def describe(label: str, explanation: dict, figures: dict) -> str:
    """The map's provenance and fidelity, as the panel shows them."""
    return (
        f"<b>{label}</b>: {explanation['units']}.<br>"
        f"seed {explanation['seed']}, {explanation['forward_passes']} forward passes, "
        f"{explanation['seconds']:.1f} s.<br>"
        f"<b>Fidelity</b> (this pair, {FIDELITY.steps} steps): deletion AUC "
        f"{figures['deletion_auc']:.3f} (random maps {figures['random_deletion_auc']:.3f}; "
        f"lower is better), insertion AUC {figures['insertion_auc']:.3f} "
        f"(random {figures['random_insertion_auc']:.3f}; higher is better)."
    )


def settings_text(label: str) -> str:
    return f"{label}: {settings_for(label)}, seed {EXPLAINER_SEED}; runs in the background"
