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
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import spearmanr

from core.explainers.base import Cancelled, ExplainPair, cancel_check, pair_with_model


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
) -> dict:
    """Spearman rho between `original` and the maps of cascading-randomised models."""
    stop = cancel_check(cancel)
    groups = layer_groups(pair.model)
    rng = np.random.default_rng(seed)
    results = []
    for top in cascade_levels(len(groups), sanity.levels):
        if stop():
            raise Cancelled("sanity check cancelled")
        clone = randomised_copy(pair.model, top, rng)
        randomised = explain_fn(pair_with_model(pair, clone), settings, seed, None, cancel)
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
    return {
        "method": original.method,
        "protocol": "cascading randomisation, top layer first; Spearman rank correlation",
        "seed": seed,
        "levels": results,
    }
