"""Synthetic identities for the trainable-model tests (not a test module itself)."""

from __future__ import annotations

import numpy as np
import torch

from core.models.checkpoint import build_network
from core.training.jobs import architecture

TINY_WIDTH = 2


class SyntheticFaces:
    """`identities` random 112 px textures, `per_identity` noisy copies of each."""

    def __init__(self, identities: int = 4, per_identity: int = 2, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.faces, labels = [], []
        for k in range(identities):
            base = rng.integers(0, 256, (112, 112, 3)).astype(np.float64)
            for _ in range(per_identity):
                noisy = base + rng.normal(0, 20, base.shape)
                self.faces.append(np.clip(noisy, 0, 255).astype(np.uint8))
                labels.append(k)
        self.labels = np.array(labels)
        self.num_classes = identities

    def __len__(self) -> int:
        return len(self.faces)

    def item(self, i: int):
        return self.faces[i], int(self.labels[i])

    def describe(self) -> dict:
        return {"kind": "synthetic", "images": len(self), "identities": self.num_classes}


def tiny_network(arch: str, seed: int = 0):
    """An r18 network of width 4, in eval mode, with seeded weights and BN statistics."""
    torch.manual_seed(seed)
    net = build_network(architecture(arch, "r18", TINY_WIDTH))
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_var is not None:
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def random_faces(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 112, 112, 3)).astype(np.uint8)
