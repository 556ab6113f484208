"""The independent check of a decomposition: the score from the model's ordinary forward pass.

`cell_features` + `decompose` (or `score_pair`) give the terms; this module scores
the same two aligned faces by a separate code path, `embed_tensor` then
`score_tensor` (float32, batched as the explainers run it), so that
forward_residual = |forward score - sum of terms| tests the decomposition
against the model itself. The decomposition's own `residual` only compares
the sum of the terms with a score computed from those same cells: it catches
rounding, not a wrong split.
"""

from __future__ import annotations

import numpy as np
import torch

from core.models.face_model import FaceModel


def forward_score(model: FaceModel, face_a: np.ndarray, face_b: np.ndarray) -> float:
    """The model's score of two aligned faces (S x S x 3 uint8 RGB) by embed_tensor."""
    faces = np.stack([face_a, face_b]).astype(np.float32).transpose(0, 3, 1, 2)
    x = torch.from_numpy(np.ascontiguousarray(faces)).to(getattr(model, "device", "cpu"))
    with torch.inference_mode():
        emb = model.embed_tensor(x)
        return float(model.score_tensor(emb[:1], emb[1:])[0])
