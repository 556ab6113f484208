"""The face model protocol: embeddings written as a sum of per-cell vectors.

Every model Patchwise can explain writes a face's embedding as

    e = sum_i c_i + b

where c_i is the contribution of cell (or patch) i and b is a constant bias
(zero for most models). That is what makes the cosine split exactly into
cell-pair terms (RRFNet, Ozturk et al., Eq. 3-8); see core/decomposition.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import torch

GRID_LABEL = "grid cell (receptive fields overlap)"
RRF_FROZEN_LABEL = "restricted receptive field, frozen backbone (not a trained RRFNet)"


class ModelKind(StrEnum):
    """What a model's cells are and how it scores a pair; every model declares one.

    Code asks these capability questions instead of searching labels or probing
    for methods. The value is recorded in `describe()["kind"]` (and so in cases).
    """

    GRID = "grid"  # nominal grid cells of a full-face network (receptive fields overlap)
    FROZEN_RRF = "frozen-rrf"  # restricted receptive fields on a backbone never trained so
    TRAINED_RRF = "trained-rrf"  # a checkpointed RRFNet (Ozturk et al.)
    XCOS = "xcos"  # a checkpointed xCos: the score is xCos, not the cosine of embeddings

    @property
    def scores_pairs(self) -> bool:
        """Whether the model scores a pair itself (`score_pair`) instead of the cosine."""
        return self is ModelKind.XCOS

    @property
    def trained_for_its_cells(self) -> bool:
        """False for patch models whose backbone was never trained on patches."""
        return self is not ModelKind.FROZEN_RRF


@dataclass(frozen=True)
class CellLayout:
    """Where the K cells or patches lie, in aligned-face pixels of the model input."""

    kind: str  # "grid" or "restricted"
    label: str  # what a cell honestly is, shown next to every decomposition
    boxes: tuple[tuple[float, float, float, float], ...]  # (x1, y1, x2, y2)
    input_size: int

    @property
    def count(self) -> int:
        return len(self.boxes)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "input_size": self.input_size,
            "count": self.count,
            "boxes": [list(b) for b in self.boxes],
        }


@dataclass(frozen=True)
class CellFeatures:
    """One face's cell vectors (K x D, float64) and the model's bias (D,) or None (read-only)."""

    cells: np.ndarray
    bias: np.ndarray | None

    def __post_init__(self):
        for array in (self.cells, self.bias):
            if array is not None:
                array.setflags(write=False)

    @property
    def embedding(self) -> np.ndarray:
        e = self.cells.sum(axis=0)
        return e if self.bias is None else e + self.bias


class FaceModel(Protocol):
    """What the engine needs from a recognition model."""

    id: str
    kind: ModelKind
    input_size: int  # aligned face size in pixels (112 or 224)
    layout: CellLayout

    def describe(self) -> dict:
        """Provenance: id, kind (ModelKind value), honest label, weights file and SHA-256,
        source, input spec."""
        ...

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        """Cell vectors for a batch of aligned faces (B x S x S x 3 uint8 RGB)."""
        ...

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Embeddings (B x D) of B x 3 x S x S float RGB 0..255 on the model's device.

        Differentiable (no inference mode inside), any normalisation is done
        inside, and equal to cell_features(...).embedding up to float32 rounding.
        Explainers use it for batched perturbation passes and gradients.
        """
        ...

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(last spatial feature map B x C x h x w, embedding B x D), differentiable.

        For Grad-CAM-style explainers. Models without one spatial map over the
        whole face (restricted-receptive-field models) raise NotImplementedError.
        """
        ...


def grid_layout(cells_per_side: int, input_size: int) -> CellLayout:
    """A square grid of nominal cells (row-major), e.g. 7x7 over a 224 px face."""
    step = input_size / cells_per_side
    boxes = tuple(
        (c * step, r * step, (c + 1) * step, (r + 1) * step)
        for r in range(cells_per_side)
        for c in range(cells_per_side)
    )
    return CellLayout(kind="grid", label=GRID_LABEL, boxes=boxes, input_size=input_size)
