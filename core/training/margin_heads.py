"""Additive-margin softmax heads: ArcFace (Deng et al.) and CosFace (Wang et al.).

Both normalise the embedding x and the class centres W, so cos(theta_y) = x.W_y/(|x||W_y|).

- ArcFace: target logit s*cos(theta_y + m); where theta_y + m > pi the curve is
  continued as s*(cos(theta_y) - m*sin(m)) so it stays monotonic (as arcface_torch
  does). Defaults s = 64, m = 0.5.
- CosFace: target logit s*(cos(theta_y) - m). Defaults s = 64, m = 0.4
  (arcface_torch's CosFace setting; the CosFace paper's best was 0.35).

The loss is cross-entropy over the logits.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as nnf
from torch import nn

MARGIN_DEFAULTS = {"arcface": (64.0, 0.5), "cosface": (64.0, 0.4)}


class MarginHead(nn.Module):
    """Class centres plus an additive margin; `forward` returns the cross-entropy loss."""

    def __init__(self, kind: str, embedding_size: int, classes: int, scale=None, margin=None):
        super().__init__()
        if kind not in MARGIN_DEFAULTS:
            raise ValueError(f"unknown margin head '{kind}'; choose from {list(MARGIN_DEFAULTS)}")
        default_s, default_m = MARGIN_DEFAULTS[kind]
        self.kind = kind
        self.scale = float(scale if scale is not None else default_s)
        self.margin = float(margin if margin is not None else default_m)
        self.weight = nn.Parameter(torch.empty(classes, embedding_size))
        nn.init.normal_(self.weight, std=0.01)

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "scale": self.scale,
            "margin": self.margin,
            "classes": int(self.weight.shape[0]),
        }

    def logits(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = nnf.linear(nnf.normalize(embeddings.float()), nnf.normalize(self.weight.float()))
        cos = cos.clamp(-1.0, 1.0)
        target = cos.gather(1, labels[:, None])
        if self.kind == "arcface":
            m = self.margin
            theta = torch.acos(target.clamp(-1.0 + 1e-7, 1.0 - 1e-7))
            shifted = torch.cos(theta + m)
            fallback = target - m * math.sin(m)
            target_new = torch.where(theta + m <= math.pi, shifted, fallback)
        else:
            target_new = target - self.margin
        return self.scale * cos.scatter(1, labels[:, None], target_new)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return nnf.cross_entropy(self.logits(embeddings, labels), labels)
