"""RRFNet: restricted receptive fields, similarity as a sum of patch-pair terms.

Ozturk et al., "Restricted Receptive Fields for Face Verification", §III-B,
Table I, Eq. 3-8. A 112 x 112 face is cut into the K patches of the layout
(core/models/rrf_layouts.py: RRFNet-56 has 5 patches of 56 px, RRFNet-28 has
33 of 28 px); all K x B patches go through one IResNet (first-stage stride 1,
§III-A) in a single batch, whose FC head gives a 512-d feature f_i per patch.
The face's feature is the mean F = (1/K) sum_i f_i (Eq. 3), so

    cos(F_A, F_B) = sum_ij (f_i^A / K) . (f_j^B / K) / (|F_A| |F_B|)      (Eq. 8)

which is exactly the engine's decomposition with cells c_i = f_i / K.

Each patch is cropped before the backbone sees it, so f_i depends on patch i's
pixels only (a test checks it).

Not built: the region-based variant of §III-A (one CNN per region plus
logistic-regression weights, Eq. 1-2).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.models.checkpoint_provenance import describe_checkpoint
from core.models.face_model import CellFeatures, CellLayout, ModelKind
from core.models.iresnet import BackboneConfig, IResNet
from core.models.rrf_layouts import PATCH_SIZES, POSITIONS, REFERENCE_SIZE, rrf_layout

ARCH_LAYOUTS = {"rrfnet56": "rrf56", "rrfnet28": "rrf28"}
TRAINED_LABEL = "restricted receptive field (trained RRFNet)"
DISTILLED_LABEL = "restricted receptive field (RRFNet distilled from a teacher, no identity labels)"

# Largest number of patch images sent through the backbone in one forward pass.
MAX_PATCHES = 256


def rrfnet_backbone(arch: str, depth: str, width: int = 64, embedding_size: int = 512):
    """The backbone config of RRFNet `arch`: input = patch size, first-stage stride 1."""
    if arch not in ARCH_LAYOUTS:
        raise ValueError(f"unknown RRFNet architecture '{arch}'; choose from {list(ARCH_LAYOUTS)}")
    return BackboneConfig(
        depth=depth,
        input_size=PATCH_SIZES[ARCH_LAYOUTS[arch]],
        first_stride=1,
        width=width,
        embedding_size=embedding_size,
    )


class RRFNet(nn.Module):
    """Patches -> shared IResNet -> per-patch features (B x K x D); global = mean."""

    def __init__(self, arch: str, backbone: BackboneConfig):
        super().__init__()
        self.arch = arch
        self.layout_name = ARCH_LAYOUTS[arch]
        self.patch_size = PATCH_SIZES[self.layout_name]
        self.positions = POSITIONS[self.layout_name]
        self.backbone = IResNet(backbone)

    @property
    def patch_count(self) -> int:
        return len(self.positions)

    def crop_patches(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x 112 x 112 -> (B*K) x 3 x p x p, face-major (Table I, 'k x B')."""
        if x.shape[-1] != REFERENCE_SIZE or x.shape[-2] != REFERENCE_SIZE:
            raise ValueError(f"RRFNet takes {REFERENCE_SIZE} px faces, got {tuple(x.shape)}")
        p = self.patch_size
        crops = [x[:, :, y : y + p, xx : xx + p] for xx, y in self.positions]
        return torch.stack(crops, dim=1).reshape(-1, x.shape[1], p, p)

    def patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """B x K x D restricted patch features f_i (differentiable)."""
        features = self.backbone(self.crop_patches(x))
        return features.reshape(x.shape[0], self.patch_count, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The global feature F = mean of the patch features (Eq. 3)."""
        return self.patch_features(x).mean(dim=1)


class TrainedRRFModel:
    """A checkpointed RRFNet as an engine FaceModel (K x K exact patch-pair decomposition)."""

    kind = ModelKind.TRAINED_RRF
    input_size = REFERENCE_SIZE

    def __init__(self, model_id: str, net: RRFNet, meta: dict, device: torch.device):
        self.id = model_id
        self.net = net.to(device).eval()
        self.meta = meta
        self.device = device
        method = meta.get("training", {}).get("method")
        cell_label = TRAINED_LABEL if method == "identity" else DISTILLED_LABEL
        self.layout: CellLayout = rrf_layout(net.layout_name, self.input_size, cell_label)

    def describe(self) -> dict:
        return describe_checkpoint(self.id, self.meta)

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        x = torch.from_numpy(
            np.ascontiguousarray(np.asarray(faces, dtype=np.float32).transpose(0, 3, 1, 2))
        ).to(self.device)
        k = self.net.patch_count
        step = max(1, MAX_PATCHES // k)
        with torch.inference_mode():
            parts = [self.net.patch_features(x[i : i + step]).cpu() for i in range(0, len(x), step)]
        per_face = torch.cat(parts).double().numpy()
        return [CellFeatures(cells=f / k, bias=None) for f in per_face]

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError(
            f"{self.id} is an RRFNet: one feature map per restricted patch, none over the face"
        )
