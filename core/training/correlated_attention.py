"""Correlated attention P of xCos (Eq. 5-6): p_ij = Pearson correlation, over image pairs of
the training data, of the grid cosine s_ij with the teacher's cosine of the pair.

We use every pair i < j of up to `max_images` training faces (drawn with the
run's seed), embedded without augmentation with the network in eval mode. Cells
whose cosine never varies get p = 0.
"""

from __future__ import annotations

import torch

from core.models.xcos import XCosNet, patched_cosine
from core.training.face_data import batch_generator, load_batch, sample_indices
from core.training.teacher import Teacher


def pearson_per_cell(s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """s: N x h x w grid cosines, t: N teacher cosines -> h x w Pearson correlations."""
    s = s.double() - s.double().mean(dim=0)
    t = t.double() - t.double().mean()
    cov = (s * t[:, None, None]).sum(dim=0)
    denom = torch.sqrt((s**2).sum(dim=0) * (t**2).sum())
    return torch.where(denom > 0, cov / denom.clamp_min(1e-30), torch.zeros_like(cov))


def fit_correlated_attention(
    net: XCosNet, teacher: Teacher, data, device, seed: int, max_images: int = 256
) -> dict:
    """Fill net.correlated with P; return what it was computed from."""
    indices = sample_indices(len(data), min(max_images, len(data)), batch_generator(seed, 0, 9))
    grids, teach = [], []
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for start in range(0, len(indices), 32):
            x, _ = load_batch(data, indices[start : start + 32])
            x = x.to(device)
            grids.append(net.grid(x).float().cpu())
            teach.append(teacher.embeddings(x).cpu())
    net.train(was_training)
    grid = torch.cat(grids)
    t = torch.cat(teach)
    i, j = torch.triu_indices(len(grid), len(grid), offset=1)
    if len(i) < 2:
        return {"ready": False, "reason": "fewer than 3 images"}
    s = patched_cosine(grid[i], grid[j])
    p = pearson_per_cell(s, (t[i] * t[j]).sum(dim=1))
    net.correlated.copy_(p.to(net.correlated.dtype))
    return {"ready": True, "images": len(grid), "pairs": len(i)}
