"""xCos: an explainable cosine, the attention-weighted sum of grid-cell cosines.

Lin et al., "xCos: An Explainable Cosine Metric for Face Verification Task",
§3.2-3.3 and §4.1:

- Backbone: an ArcFace IResNet whose flatten + FC is replaced by a 1 x 1 conv
  (512 -> 32), giving grid features F of 7 x 7 x 32 for a 112 px face. The
  identity branch uses F flattened (1568-d).
- Patched cosine map S: s_ij = cos(F_A^ij, F_B^ij), corresponding cells only.
- Attention W, one of (Eq. 3-9):
  U unit, 1/49 everywhere;
  P correlated, p_ij = Pearson correlation over training pairs of s_ij with the
    teacher cosine (Eq. 6), used as is (not renormalised, as in the paper);
  L learned, M_attention(F_A, F_B): a 3x3 conv (padding 1) reduces each face's F
    to 16 channels, the two are concatenated (32 channels), two more 3x3 convs
    give one 7 x 7 map, and a softmax over the 49 cells makes it sum to 1.
- xCos = <S, W>_F = sum_ij w_ij s_ij (Eq. 2).

Paper-vague choices (ours): the reduction conv is shared by both faces; the two
fusing convs are 3x3 (padding 1) 32 -> 16 -> 1 with a PReLU between them; the
last conv starts at zero, so L starts equal to U.

xCos is not the cosine of two embeddings, so the engine scores an xCos model
with `score_pair`: the 49 diagonal terms w_ij s_ij, which sum to xCos.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as nnf
from torch import nn

from core.decomposition import Decomposition
from core.models.checkpoint_provenance import describe_checkpoint
from core.models.face_model import CellFeatures, CellLayout, ModelKind, grid_layout
from core.models.iresnet import BackboneConfig, IResNet

GRID_CHANNELS = 32
REDUCED_CHANNELS = 16
ATTENTIONS = ("learned", "unit", "correlated")
XCOS_CELL_LABEL = "grid cell (receptive fields overlap), attention-weighted cosine"
MAX_BATCH = 64


def xcos_backbone(depth: str, width: int = 64) -> BackboneConfig:
    """The ArcFace backbone config for xCos: 112 px, first-stage stride 2 (7 x 7 map)."""
    return BackboneConfig(depth=depth, input_size=112, first_stride=2, width=width)


class AttentionModule(nn.Module):
    """M_attention(F_A, F_B) -> softmax-normalised 7 x 7 attention L (§3.3, §4.1)."""

    def __init__(self, channels: int = GRID_CHANNELS):
        super().__init__()
        self.reduce = nn.Conv2d(channels, REDUCED_CHANNELS, 3, padding=1)
        self.fuse = nn.Sequential(
            nn.Conv2d(2 * REDUCED_CHANNELS, REDUCED_CHANNELS, 3, padding=1),
            nn.PReLU(REDUCED_CHANNELS),
            nn.Conv2d(REDUCED_CHANNELS, 1, 3, padding=1),
        )
        # Start from uniform attention (L = U) so early training is not ruled by a random peak.
        nn.init.zeros_(self.fuse[-1].weight)
        nn.init.zeros_(self.fuse[-1].bias)

    def forward(self, grid_a: torch.Tensor, grid_b: torch.Tensor) -> torch.Tensor:
        fused = torch.cat([self.reduce(grid_a), self.reduce(grid_b)], dim=1)
        logits = self.fuse(fused).flatten(1)
        return torch.softmax(logits, dim=1).reshape(grid_a.shape[0], *grid_a.shape[2:])


def patched_cosine(grid_a: torch.Tensor, grid_b: torch.Tensor) -> torch.Tensor:
    """S: the cosine of corresponding cells, B x h x w (§3.3)."""
    return nnf.cosine_similarity(grid_a, grid_b, dim=1, eps=1e-12)


class XCosNet(nn.Module):
    """IResNet trunk + 1x1 conv grid features + attention module."""

    def __init__(self, backbone: BackboneConfig):
        super().__init__()
        self.backbone = IResNet(backbone)
        self.to_grid = nn.Conv2d(backbone.map_channels, GRID_CHANNELS, 1)
        self.attention = AttentionModule()
        self.grid_side = backbone.map_size
        cells = self.grid_side**2
        # P of Eq. 5-6; filled from training pairs by core/training/correlated_attention.py.
        self.register_buffer("correlated", torch.zeros(self.grid_side, self.grid_side))
        self.unit = 1.0 / cells

    @property
    def embedding_size(self) -> int:
        return GRID_CHANNELS * self.grid_side**2

    def grid(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x 112 x 112 RGB 0..255 -> grid features F, B x 32 x 7 x 7."""
        return self.to_grid(self.backbone.feature_map(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened grid features (identity branch, 1568-d)."""
        return torch.flatten(self.grid(x), 1)

    def weights(self, grid_a: torch.Tensor, grid_b: torch.Tensor, attention: str) -> torch.Tensor:
        """W in {U, P, L} for each pair, B x h x w."""
        b, _, h, w = grid_a.shape
        if attention == "learned":
            return self.attention(grid_a, grid_b)
        if attention == "unit":
            return torch.full((b, h, w), self.unit, dtype=grid_a.dtype, device=grid_a.device)
        if attention == "correlated":
            return self.correlated.to(grid_a.dtype).expand(b, h, w)
        raise ValueError(f"unknown attention '{attention}'; choose from {ATTENTIONS}")

    def xcos(
        self, grid_a: torch.Tensor, grid_b: torch.Tensor, attention: str = "learned"
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(xCos B, S B x h x w, W B x h x w) for pairs of grids (Eq. 2)."""
        s = patched_cosine(grid_a, grid_b)
        w = self.weights(grid_a, grid_b, attention)
        return (s * w).flatten(1).sum(dim=1), s, w


def grid_from_cells(cells: np.ndarray, side: int) -> np.ndarray:
    """Undo the block layout of `XCosFaceModel.cell_features`: 49 x 1568 -> 32 x 7 x 7."""
    n = side * side
    blocks = cells.reshape(n, GRID_CHANNELS, n)
    diagonal = blocks[np.arange(n), :, np.arange(n)]  # n x 32
    return diagonal.T.reshape(GRID_CHANNELS, side, side)


class XCosFaceModel:
    """A checkpointed xCos network as an engine model that scores pairs with `score_pair`.

    cell_features gives 49 cells of 1568-d: cell i holds F's 32 channels of grid
    cell i at their positions in flatten(F) and zeros elsewhere, so the cells sum
    to the identity-branch embedding (embed_tensor). The comparison score is xCos,
    not the cosine of those embeddings.
    """

    kind = ModelKind.XCOS
    input_size = 112

    def __init__(
        self, model_id: str, net: XCosNet, meta: dict, device: torch.device, attention: str
    ):
        if attention not in ATTENTIONS:
            raise ValueError(f"unknown attention '{attention}'; choose from {ATTENTIONS}")
        self.id = model_id
        self.net = net.to(device).eval()
        self.meta = meta
        self.device = device
        self.attention = attention
        boxes = grid_layout(net.grid_side, self.input_size).boxes
        self.layout = CellLayout(
            kind="grid", label=XCOS_CELL_LABEL, boxes=boxes, input_size=self.input_size
        )

    def describe(self) -> dict:
        info = describe_checkpoint(self.id, self.meta)
        info["attention"] = self.attention
        info["score"] = (
            f"xCos = <S, W>_F with {self.attention} attention (not the cosine of two embeddings)"
        )
        info["score_kind"] = "xcos"
        return info

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        x = torch.from_numpy(
            np.ascontiguousarray(np.asarray(faces, dtype=np.float32).transpose(0, 3, 1, 2))
        ).to(self.device)
        with torch.inference_mode():
            grids = torch.cat(
                [self.net.grid(x[i : i + MAX_BATCH]).cpu() for i in range(0, len(x), MAX_BATCH)]
            )
        grids = grids.double().numpy()
        n = self.net.grid_side**2
        out = []
        for g in grids:
            per_cell = g.reshape(GRID_CHANNELS, n)  # channel x cell
            cells = np.zeros((n, GRID_CHANNELS, n))
            cells[np.arange(n), :, np.arange(n)] = per_cell.T
            out.append(CellFeatures(cells=cells.reshape(n, GRID_CHANNELS * n), bias=None))
        return out

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        grid = self.net.grid(x)
        return grid, torch.flatten(grid, 1)

    def score_pair(self, a: CellFeatures, b: CellFeatures) -> Decomposition:
        """xCos of two faces as its 49 diagonal terms w_ij s_ij (off-diagonal terms zero)."""
        side = self.net.grid_side
        grid_a = grid_from_cells(a.cells, side)
        grid_b = grid_from_cells(b.cells, side)
        ta = torch.from_numpy(grid_a).float().unsqueeze(0).to(self.device)
        tb = torch.from_numpy(grid_b).float().unsqueeze(0).to(self.device)
        with torch.inference_mode():
            score, _, w = self.net.xcos(ta, tb, self.attention)
        norms = np.linalg.norm(grid_a, axis=0) * np.linalg.norm(grid_b, axis=0)
        s = (grid_a * grid_b).sum(axis=0) / np.maximum(norms, 1e-12)
        terms = (w[0].double().cpu().numpy() * s).ravel()
        n = terms.size
        return Decomposition(
            layout=self.layout,
            pair_matrix=np.diag(terms),
            bias_a=np.zeros(n),
            bias_b=np.zeros(n),
            bias_bias=0.0,
            cosine=float(score[0]),
        )
