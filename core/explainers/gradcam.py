"""Similarity Grad-CAM and Grad-CAM++ for face verification.

As in the CorrRISE paper's baselines (Lu et al., Sec. 5.1.1), the class score is
replaced by the pair's score (the model's score_tensor: the cosine, or xCos): for
face A the score is score(f(A), e_B) with e_B
B's cached embedding, and its gradient g is taken with respect to A's last
spatial feature map F (model.spatial_forward); likewise for B.

- Grad-CAM (Selvaraju et al.): w_c = mean_ij g_cij, map = sum_c w_c F_c.
- Grad-CAM++ (Chattopadhay et al.): a_cij = g^2 / (2 g^2 + sum_ab F_cab g^3),
  w_c = sum_ij a_cij relu(g_cij), map = sum_c w_c F_c.

Signed maps (our choice, recorded in docs/explainers.md): Grad-CAM's final
ReLU is dropped, so negative values mark regions whose features lower the
cosine. Grad-CAM++'s weights only see positive gradients, so its signed map is
CAM++(g) - CAM++(-g): the evidence for similarity minus the evidence for
dissimilarity. Maps are upsampled bilinearly to the face and scaled to [-1, 1].
Restricted-receptive-field models have no single spatial map and raise
MethodUnavailableError.

Degenerate case: when the embedding is a global average of the last map
(faceres), the gradient is the same at every position of a channel, so
Grad-CAM++'s alpha is one number per channel and its weights are Grad-CAM's
times a factor near 1/2: the two maps coincide (correlation 0.99999 on
faceres). `plus_plus_equals_gradcam` detects this with one probe pass, and the
registry then does not offer Grad-CAM++ for that model, saying why.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from core.explainers.base import (
    BatchRunner,
    ExplainPair,
    Explanation,
    MethodUnavailableError,
    Stopwatch,
    normalise_signed,
)


@dataclass(frozen=True)
class GradCamSettings:
    plus_plus: bool = False


def _weights_plus_plus(g: torch.Tensor, fmap: torch.Tensor) -> torch.Tensor:
    g2, g3 = g**2, g**3
    denom = 2 * g2 + fmap.sum(dim=(2, 3), keepdim=True) * g3
    alpha = torch.where(denom.abs() > 1e-12, g2 / torch.where(denom == 0, 1, denom), 0)
    return (alpha * torch.relu(g)).sum(dim=(2, 3))


_SPATIALLY_CONSTANT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
CONSTANT_GRADIENT_TOLERANCE = 1e-5  # of the largest |gradient|


def plus_plus_equals_gradcam(model) -> bool:
    """True when d score / d F is spatially constant per channel (global average pooling).

    Probed once per model object on two seeded random faces, the score of the
    first towards the second's embedding.
    """
    if model in _SPATIALLY_CONSTANT:
        return _SPATIALLY_CONSTANT[model]
    size = model.input_size
    device = getattr(model, "device", torch.device("cpu"))
    faces = torch.from_numpy(
        np.random.default_rng(0).uniform(0, 255, (2, 3, size, size)).astype(np.float32)
    ).to(device)
    faces.requires_grad_(True)  # frozen weights: the graph must still reach the map
    with torch.enable_grad():
        fmap, emb = model.spatial_forward(faces)
        score = model.score_tensor(emb[:1], emb[1:].detach())
        (grad,) = torch.autograd.grad(score.sum(), fmap)
    g = grad[0].flatten(1)
    spread = (g - g.mean(dim=1, keepdim=True)).abs().max()
    constant = bool(spread <= CONSTANT_GRADIENT_TOLERANCE * g.abs().max().clamp_min(1e-30))
    _SPATIALLY_CONSTANT[model] = constant
    return constant


def plus_plus_unavailable(model) -> str | None:
    """Why Grad-CAM++ is not offered for `model` (it would repeat Grad-CAM), or None."""
    if plus_plus_equals_gradcam(model):
        return (
            f"gradcampp is not offered for this model ({model.id}): its embedding is a global "
            "average of the last feature map, so the gradient is the same at every position "
            "and Grad-CAM++ gives the same map as Grad-CAM; use gradcam"
        )
    return None


def similarity_cams(
    model, faces: np.ndarray, targets: np.ndarray, plus_plus: bool, face_is_a=True
) -> np.ndarray:
    """n x S x S signed CAMs of score(f(face_i), target_i) w.r.t. the last spatial map.

    The score is the model's score_tensor (the cosine, or xCos), with face_i on A's
    side where face_is_a (a bool or one per face) holds, else on B's.
    """
    size = faces.shape[1]
    device = getattr(model, "device", torch.device("cpu"))
    x = torch.from_numpy(np.ascontiguousarray(faces.transpose(0, 3, 1, 2), np.float32)).to(device)
    t = torch.from_numpy(np.asarray(targets, np.float32)).to(device)
    x.requires_grad_(True)  # the weights may be frozen; the graph must still reach fmap
    with torch.enable_grad():
        try:
            fmap, emb = model.spatial_forward(x)
        except NotImplementedError as exc:
            raise MethodUnavailableError(
                f"Grad-CAM is not available for model {model.id}: {exc}"
            ) from exc
        first = torch.as_tensor(np.broadcast_to(face_is_a, len(faces)).copy(), device=device)
        score = torch.where(first, model.score_tensor(emb, t), model.score_tensor(t, emb))
        (grad,) = torch.autograd.grad(score.sum(), fmap)
    fmap, grad = fmap.detach(), grad.detach()
    if plus_plus:
        cams = (_weights_plus_plus(grad, fmap)[..., None, None] * fmap).sum(1) - (
            _weights_plus_plus(-grad, fmap)[..., None, None] * fmap
        ).sum(1)
    else:
        cams = (grad.mean(dim=(2, 3))[..., None, None] * fmap).sum(1)
    cams = cams.double().cpu().numpy()
    return np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_LINEAR) for c in cams])


def explain_gradcam(
    pair: ExplainPair, settings: GradCamSettings, seed=None, progress=None, cancel=None
) -> Explanation:
    """Similarity Grad-CAM (or ++) maps for A towards B and B towards A (seed unused)."""
    watch = Stopwatch()
    runner = BatchRunner(pair.model, progress, cancel, 2)
    runner.check()
    cams = similarity_cams(
        pair.model,
        np.stack([pair.face_a, pair.face_b]),
        np.stack([pair.emb_b, pair.emb_a]),
        settings.plus_plus,
        np.array([True, False]),
    )
    runner.advance(2)
    name = "gradcampp" if settings.plus_plus else "gradcam"
    return Explanation(
        method=name,
        map_a=normalise_signed(cams[0]),
        map_b=normalise_signed(cams[1]),
        parameters={"plus_plus": settings.plus_plus, "layer": "last spatial feature map"},
        seed=seed,
        forward_passes=2,
        seconds=watch.seconds,
        model_id=pair.model.id,
        units="gradient-weighted activation, scaled to [-1, 1]; + similar, - dissimilar",
        extras={"a_raw": cams[0].astype(np.float32), "b_raw": cams[1].astype(np.float32)},
    )
