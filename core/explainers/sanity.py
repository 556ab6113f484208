"""Cascading model-parameter randomisation (Adebayo et al.; CorrRISE paper Sec. 5.2).

The model's layers are randomised from the top down, cumulatively, and the
explanation is recomputed on each randomised copy with the same seed (same
masks/occluders), so only the model differs. The Spearman rank correlation
between the original and the randomised maps is reported per level: a
faithful method's maps must change (the correlation drops towards 0).

Layer order: modules that own parameters, in the order their forward passes
finish on one input (so a block's own parameters follow its sub-layers). The
input normalisation constants (`input_*`) are not a learned layer and are kept.
Parameters a top-level network owns directly (mobileface's dense head, its
batch-norm and its first PReLU slope) form the topmost group. A randomised
tensor is N(0, std(original)^2) so that activations keep their scale.

The verdict (`sanity_verdict`) is a Patchwise convention, not the paper's:
Adebayo et al. judge the correlations by eye and set no threshold. With every
layer group re-drawn, the larger |rho| of the two faces' maps must fall below
RHO_THRESHOLD = 0.3, the lower bound of Cohen's "medium" correlation (Cohen
1988: 0.1 small, 0.3 medium, 0.5 large). Smooth maps of unrelated models
correlate by chance with a spread of about 0.2 (docs/explainers.md), so one
pair's verdict is an indication, not a proof.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import spearmanr

from core.explainers.base import Cancelled, ExplainPair, cancel_check, pair_with_model

RHO_THRESHOLD = 0.3
THRESHOLD_SOURCE = (
    "a Patchwise convention, not from Adebayo et al. (who set no threshold): the lower bound "
    "of Cohen's 'medium' correlation (0.1 small, 0.3 medium, 0.5 large); unrelated smooth "
    "maps correlate by chance with a spread of about 0.2, so one pair's verdict is indicative"
)


@dataclass(frozen=True)
class SanitySettings:
    levels: int = 3  # randomise the top 1, then up to all layer groups in this many steps


def _network(model) -> torch.nn.Module:
    nets = [v for v in vars(model).values() if isinstance(v, torch.nn.Module)]
    if len(nets) != 1:
        raise TypeError(f"model {model.id} must hold exactly one torch network")
    return nets[0]


def layer_groups(model) -> list[tuple[str, list[torch.nn.Parameter]]]:
    """(module name, its own parameters) bottom to top, by forward completion order."""
    net = _network(model)
    names = {m: n for n, m in net.named_modules()}
    order: list[torch.nn.Module] = []
    hooks = [
        m.register_forward_hook(lambda mod, _i, _o: order.append(mod))
        for m in net.modules()
        if any(True for _ in m.parameters(recurse=False))
    ]
    try:
        size = model.input_size
        with torch.inference_mode():
            model.embed_tensor(torch.zeros(1, 3, size, size, device=getattr(model, "device", None)))
    finally:
        for h in hooks:
            h.remove()
    groups, seen = [], set()
    for module in order:
        if module in seen:
            continue
        seen.add(module)
        params = [
            p for n, p in module.named_parameters(recurse=False) if not n.startswith("input_")
        ]
        if params:
            groups.append((names[module] or "(network head)", params))
    return groups


def randomised_copy(model, top: int, rng: np.random.Generator):
    """A deep copy of `model` with its top `top` layer groups re-drawn at random."""
    clone = copy.deepcopy(model)
    groups = layer_groups(clone)
    with torch.no_grad():
        for _, params in groups[len(groups) - top :]:
            for p in params:
                std = float(p.float().std()) if p.numel() > 1 else abs(float(p)) or 1e-2
                noise = rng.standard_normal(tuple(p.shape)) * (std or 1e-2)
                p.copy_(torch.from_numpy(noise).to(p.dtype))
    return clone


def cascade_levels(group_count: int, levels: int) -> list[int]:
    steps = [1] + [math.ceil(group_count * i / levels) for i in range(1, levels + 1)]
    return sorted(set(min(group_count, s) for s in steps))


def sanity_check(
    pair: ExplainPair,
    explain_fn,
    settings,
    original,
    seed,
    sanity: SanitySettings = SanitySettings(),
    cancel=None,
    progress=None,
    on_level=None,
) -> dict:
    """Spearman rho between `original` and the maps of cascading-randomised models.

    `progress(done, total)` counts the explainer's passes over all levels (as far as
    they are known); `on_level(level, randomised_explanation)` receives each level's
    maps as they are made.
    """
    stop = cancel_check(cancel)
    # The hooks go on a copy: other threads (the workbench's jobs) may be using the model.
    groups = layer_groups(copy.deepcopy(pair.model))
    rng = np.random.default_rng(seed)
    results = []
    tops = cascade_levels(len(groups), sanity.levels)
    for index, top in enumerate(tops):
        if stop():
            raise Cancelled("sanity check cancelled")
        clone = randomised_copy(pair.model, top, rng)

        def step(done: int, total: int, index=index) -> None:
            if progress is not None:
                progress(index * total + done, len(tops) * total)

        randomised = explain_fn(pair_with_model(pair, clone), settings, seed, step, cancel)
        rho_a = float(spearmanr(original.map_a.ravel(), randomised.map_a.ravel())[0])
        rho_b = float(spearmanr(original.map_b.ravel(), randomised.map_b.ravel())[0])
        results.append(
            {
                "randomised_layers": top,
                "of_layers": len(groups),
                "lowest_randomised": groups[len(groups) - top][0],
                "spearman_a": rho_a,
                "spearman_b": rho_b,
                "spearman_mean": (rho_a + rho_b) / 2.0,
            }
        )
        if on_level is not None:
            on_level(results[-1], randomised)
    return {
        "method": original.method,
        "protocol": "cascading randomisation, top layer first; Spearman rank correlation",
        "seed": seed,
        "levels": results,
        "verdict": sanity_verdict(results),
    }


def sanity_verdict(levels: list[dict]) -> dict:
    """Whether the map changed with the model: the larger |rho| of faces A and B with
    every layer group re-drawn (the last level) against RHO_THRESHOLD."""
    full = levels[-1]
    rho = max(abs(full["spearman_a"]), abs(full["spearman_b"]))
    complete = full["randomised_layers"] == full["of_layers"]
    passed = bool(complete and rho < RHO_THRESHOLD)  # NaN (a constant map) fails
    return {
        "passed": passed,
        "statistic": "largest |Spearman rho| of maps A and B, every layer group re-drawn",
        "value": rho,
        "threshold": RHO_THRESHOLD,
        "threshold_source": THRESHOLD_SOURCE,
        "complete": complete,
    }


def verdict_text(verdict: dict) -> str:
    """The verdict in plain words, with its threshold and where that comes from."""
    rho, limit = verdict["value"], verdict["threshold"]
    if not verdict["complete"]:
        outcome = "NOT JUDGED: the check did not reach a fully randomised model"
    elif verdict["passed"]:
        outcome = (
            f"PASSED: with every layer re-drawn the map no longer resembles the original "
            f"(|rho| {rho:.2f} < {limit}), so it depends on what the model learned"
        )
    else:
        outcome = (
            f"FAILED: with every layer re-drawn the map still resembles the original "
            f"(|rho| {rho:.2f}, not below {limit}), so part of it does not depend on what the "
            "model learned"
        )
    return f"{outcome}. Threshold {limit}: {verdict['threshold_source']}."
