"""The teacher of xCos (Eq. 10) and of label-free distillation: a bundled full-face model.

The training faces are aligned at 112 px with the ArcFace template; faceres takes
the same template scaled x2, so its input is the 112 px face upsampled to 224 px
(bilinear). That loses detail the teacher would see in a native 224 px crop; it is
the price of aligning the training set once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as nnf

from core.models.registry import load_model

TEACHERS = ("faceres",)


class Teacher:
    """Unit-length teacher embeddings of 112 px aligned faces (no gradients)."""

    def __init__(self, model_id: str, device: torch.device):
        if model_id not in TEACHERS:
            raise ValueError(f"unsupported teacher '{model_id}'; choose from {TEACHERS}")
        self.model = load_model(model_id, device)
        self.id = model_id

    def embeddings(self, x112: torch.Tensor) -> torch.Tensor:
        size = self.model.input_size
        with torch.no_grad():
            x = (
                x112
                if x112.shape[-1] == size
                else nnf.interpolate(
                    x112.float(), size=(size, size), mode="bilinear", align_corners=False
                )
            )
            return nnf.normalize(self.model.embed_tensor(x).float(), dim=1)

    def describe(self) -> dict:
        info = self.model.describe()
        return {
            "id": self.id,
            "weights_sha256": info.get("weights_sha256"),
            "input": "112 px aligned face upsampled to 224 px (bilinear)",
        }
