"""The explainers by name, and one call that runs any of them on a Comparison.

    EXPLAINERS[name] -> ExplainerSpec(settings class, default settings, explain function, label)
    explain(name, comparison, settings=None, seed=0, progress=None, cancel=None) -> Explanation
    availability(name, model) -> None if usable, else the reason it is not
    randomisation_check(name, comparison, explanation, settings, seed, levels, cancel,
                        progress, on_level)
        -> the cascading sanity check (sanity.py) of that explanation, with its verdict

Every explain function has the signature fn(pair, settings, seed, progress, cancel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import UsageError
from core.explainers.base import (
    ExplainPair,
    Explanation,
    MethodUnavailableError,
    pair_from_comparison,
)
from core.explainers.corrrise import CorrRiseSettings, explain_corrrise
from core.explainers.gradcam import GradCamSettings, explain_gradcam, plus_plus_unavailable
from core.explainers.marginals import MarginalSettings, explain_marginals
from core.explainers.sdd import SddSettings, explain_sdd
from core.explainers.xmaps import XMapSettings, explain_xmap
from core.models.face_model import ModelKind
from core.models.onnx_runtime import describe_runtime


@dataclass(frozen=True)
class ExplainerSpec:
    settings_class: type
    default_settings: Callable[[], object]
    function: Callable[..., Explanation] | None  # None: read from the decomposition
    label: str
    needs_spatial_map: bool = False
    random: bool = False  # whether the seed changes the result
    # model -> why the method is not offered for it (None: offered); after needs_spatial_map
    unavailable: Callable[[object], str | None] | None = None
    progressive: bool = False  # takes partial=callback for provisional maps


EXPLAINERS: dict[str, ExplainerSpec] = {
    "xmap": ExplainerSpec(
        XMapSettings,
        XMapSettings,
        explain_xmap,
        "X-Maps (systematic occlusion, Knoche et al.)",
        random=True,
        progressive=True,
    ),
    "corrrise": ExplainerSpec(
        CorrRiseSettings,
        CorrRiseSettings,
        explain_corrrise,
        "CorrRISE (random masks + Pearson correlation, Lu et al.)",
        random=True,
        progressive=True,
    ),
    "gradcam": ExplainerSpec(
        GradCamSettings,
        GradCamSettings,
        explain_gradcam,
        "similarity Grad-CAM",
        needs_spatial_map=True,
    ),
    "gradcampp": ExplainerSpec(
        GradCamSettings,
        lambda: GradCamSettings(plus_plus=True),
        explain_gradcam,
        "similarity Grad-CAM++",
        needs_spatial_map=True,
        unavailable=plus_plus_unavailable,
    ),
    "sdd": ExplainerSpec(
        SddSettings,
        SddSettings,
        explain_sdd,
        "SDD contrastive map (needs a background gallery)",
        needs_spatial_map=True,
    ),
    "marginals": ExplainerSpec(
        MarginalSettings,
        MarginalSettings,
        None,
        "decomposition marginals (exact, no extra forward pass)",
    ),
}


def availability(name: str, model) -> str | None:
    """None when `name` can explain `model`, else a sentence saying why not."""
    spec = spec_for(name)
    if spec.function is not None and getattr(model, "kind", None) is ModelKind.FUSED:
        return (
            f"{name} is not available for the fused model: it combines several models' "
            "cosines and has no single network; explain one of its member models instead"
        )
    if spec.needs_spatial_map and model.layout.kind == "restricted":
        return (
            f"{name} is not available for this model ({model.id}): it has one feature "
            "map per restricted patch, not one spatial map over the whole face"
        )
    if spec.unavailable is not None:
        return spec.unavailable(model)
    return None


def spec_for(name: str) -> ExplainerSpec:
    if name not in EXPLAINERS:
        raise UsageError(f"unknown explainer '{name}'; available: {', '.join(EXPLAINERS)}")
    return EXPLAINERS[name]


def explain(
    name: str,
    comparison,
    settings=None,
    seed: int | None = 0,
    progress=None,
    cancel=None,
    runtime: str = "torch",
    partial=None,
) -> Explanation:
    """Run explainer `name` on a Comparison (its aligned faces and cached embeddings);
    `runtime` (torch or onnx) runs the black-box passes, gradients always use torch;
    `partial(map_a, map_b, done, total)` gets provisional maps from progressive methods."""
    spec = spec_for(name)
    settings = spec.default_settings() if settings is None else settings
    if spec.function is None:
        return explain_marginals(comparison.decomposition, comparison.model.id, seed)
    if spec.needs_spatial_map:
        runtime = "torch"
    pair = pair_from_comparison(comparison, runtime=runtime)
    return explain_pair(name, pair, settings, seed, progress, cancel, partial)


def explain_pair(
    name: str,
    pair: ExplainPair,
    settings=None,
    seed: int | None = 0,
    progress=None,
    cancel=None,
    partial=None,
) -> Explanation:
    """Run explainer `name` on an ExplainPair (faces, embeddings, model)."""
    spec = spec_for(name)
    if spec.function is None:
        raise UsageError(f"{name} reads the engine's decomposition; use explain() on a Comparison")
    reason = availability(name, pair.model)
    if reason:
        raise MethodUnavailableError(reason)
    settings = spec.default_settings() if settings is None else settings
    extra = {"partial": partial} if spec.progressive and partial is not None else {}
    explanation = spec.function(pair, settings, seed, progress, cancel, **extra)
    gradients_only = spec.needs_spatial_map  # gradients always run on the torch reference
    ran = getattr(pair.model, "reference", pair.model) if gradients_only else pair.model
    explanation.runtime = describe_runtime(ran)
    return explanation


def randomisation_check(
    name: str,
    comparison,
    explanation,
    settings=None,
    seed=0,
    levels: int = 3,
    cancel=None,
    progress=None,
    on_level=None,
) -> dict:
    """The cascading model-randomisation sanity check (sanity.py) of `explanation`, which
    explainer `name` made on `comparison` with `settings` and `seed`; `progress` and
    `on_level` as sanity.sanity_check takes them."""
    from core.explainers.sanity import SanitySettings, sanity_check

    spec = spec_for(name)
    if spec.function is None:
        raise UsageError(
            f"{name} reads the model's own decomposition; the randomisation check is for "
            "post-hoc explainers"
        )
    settings = spec.default_settings() if settings is None else settings
    pair = pair_from_comparison(comparison)
    return sanity_check(
        pair,
        spec.function,
        settings,
        explanation,
        seed,
        SanitySettings(levels=levels),
        cancel,
        progress,
        on_level,
    )
