"""The training objectives, one per (architecture family, supervision).

- IdentityObjective: a margin head (ArcFace/CosFace) on the model's embedding
  (RRFNet: the mean patch feature F, Eq. 3; xCos: the flattened 1568-d grid).
- XCosIdentityObjective: xCos's multi-task loss L_id + lambda * L_cos, where L_cos
  is the mean squared difference between xCos and the teacher cosine over the
  batch's pairs (Eq. 10). The batch is anchors then partners (face_data.sample_pairs).
- RelationalDistillation: no labels. The student reproduces the teacher's
  within-batch cosine matrix: mean over pairs i < j of (cos_s(i, j) - cos_t(i, j))^2.
  For xCos both the flattened-grid cosine and xCos itself are matched.

Each objective's `loss(x, labels)` returns (total, {part: value}).
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf
from torch import nn

from core.models.xcos import XCosNet
from core.training.margin_heads import MarginHead
from core.training.teacher import Teacher


def _num(t: torch.Tensor) -> float:
    return float(t.detach())


def _upper_pairs(n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.triu_indices(n, n, offset=1, device=device)


def _cosine_matrix(e: torch.Tensor) -> torch.Tensor:
    e = nnf.normalize(e.float(), dim=1)
    return e @ e.T


class IdentityObjective(nn.Module):
    uses_pairs = False

    def __init__(self, net: nn.Module, head: MarginHead):
        super().__init__()
        self.net = net
        self.head = head

    def loss(self, x, labels):
        value = self.head(self.net(x), labels)
        return value, {"id": _num(value)}

    def describe(self) -> dict:
        return {"loss": "margin softmax on the embedding", "margin_head": self.head.describe()}


class XCosIdentityObjective(nn.Module):
    uses_pairs = True

    def __init__(self, net: XCosNet, head: MarginHead, teacher: Teacher, weight: float):
        super().__init__()
        self.net = net
        self.head = head
        self.teacher = teacher
        self.weight = weight

    def loss(self, x, labels):
        grid = self.net.grid(x)
        id_loss = self.head(torch.flatten(grid, 1), labels)
        p = x.shape[0] // 2
        xcos, _, _ = self.net.xcos(grid[:p].float(), grid[p : 2 * p].float())
        t = self.teacher.embeddings(x)
        target = (t[:p] * t[p : 2 * p]).sum(dim=1)
        cos_loss = ((xcos - target) ** 2).mean()
        total = id_loss + self.weight * cos_loss
        return total, {"id": _num(id_loss), "cos": _num(cos_loss)}

    def describe(self) -> dict:
        return {
            "loss": "L_id + lambda * L_cos (xCos Eq. 10)",
            "lambda": self.weight,
            "margin_head": self.head.describe(),
            "teacher": self.teacher.describe(),
        }


class RelationalDistillation(nn.Module):
    uses_pairs = False

    def __init__(self, net: nn.Module, teacher: Teacher):
        super().__init__()
        self.net = net
        self.teacher = teacher

    def loss(self, x, labels):
        i, j = _upper_pairs(x.shape[0], x.device)
        t = self.teacher.embeddings(x)
        target = (t @ t.T)[i, j]
        if isinstance(self.net, XCosNet):
            grid = self.net.grid(x).float()
            flat = _cosine_matrix(torch.flatten(grid, 1))[i, j]
            xcos, _, _ = self.net.xcos(grid[i], grid[j])
            flat_loss = ((flat - target) ** 2).mean()
            xcos_loss = ((xcos - target) ** 2).mean()
            return flat_loss + xcos_loss, {"flat": _num(flat_loss), "xcos": _num(xcos_loss)}
        student = _cosine_matrix(self.net(x))[i, j]
        value = ((student - target) ** 2).mean()
        return value, {"relational": _num(value)}

    def describe(self) -> dict:
        return {
            "loss": "relational distillation: mean squared difference of within-batch "
            "pairwise cosines (student vs teacher)",
            "teacher": self.teacher.describe(),
        }
