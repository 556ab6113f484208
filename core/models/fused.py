"""`fused`: a logistic-regression combination of the bundled full-face models' cosines.

    score = sum_m w_m cos_m + b

(the fitted log-odds of "same person"; weights and intercept from a fit file written by
tools/fit_fusion.py). Each cos_m splits exactly into member m's own pair terms
(core/decomposition.py), so the fused score splits exactly into the union of those terms
scaled by w_m, plus b. The union is written as one block-diagonal Decomposition: member
m's K_m x K_m block, zero across members, w_m times its bias terms, and b added to the
bias-bias term; `parts` names each block with its weight and cosine.

The bundled fit (resources/models/fused-demo.json) is a DEMO fitted on the few shared
photos: its weights say how the members were combined there, not on casework.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch

from core.decomposition import Decomposition
from core.errors import ModelNotFoundError
from core.file_hash import sha256_file
from core.models.face_model import CellFeatures, CellLayout, ModelKind
from core.models.weights import MODELS_DIR, manifest

FIT_KEY = "fused-demo"
FUSED_GAUGE_SPAN = 20.0  # the GUI's and the report's dial: -20..+20 log-odds (clipped)
FUSED_LABEL = (
    "fused score: each member model's own grid cells, in blocks; cell positions are scaled "
    "onto the first member's aligned face (the members' alignments differ)"
)


@dataclass(frozen=True)
class FusedFeatures:
    """One face's cell features under every member model, in member order."""

    members: tuple[CellFeatures, ...]

    @property
    def embedding(self):
        _refuse_single_network()


def _refuse_single_network():
    from core.explainers.base import MethodUnavailableError

    raise MethodUnavailableError(
        "the fused model has no single embedding or network (it combines several "
        "models' cosines): explain one of its member models instead"
    )


def load_fit(key: str = FIT_KEY) -> dict:
    """The fusion fit named `key` in the manifest, after checking its SHA-256."""
    entry = manifest().get(key)
    if entry is None:
        raise ModelNotFoundError(f"no fusion fit '{key}' in the model manifest")
    path = MODELS_DIR / entry["file"]
    if not path.is_file() or sha256_file(path) != entry["sha256"]:
        raise ModelNotFoundError(f"fusion fit {path} is missing or does not match the manifest")
    return {**json.loads(path.read_text(encoding="utf-8")), "file_sha256": entry["sha256"]}


def fused_layout(members: list) -> CellLayout:
    size = members[0].input_size
    boxes = tuple(
        tuple(v * size / m.input_size for v in box) for m in members for box in m.layout.boxes
    )
    return CellLayout(kind="fused", label=FUSED_LABEL, boxes=boxes, input_size=size)


def fuse(
    decompositions: list[Decomposition],
    weights: list[float],
    intercept: float,
    layout: CellLayout,
    member_ids: list[str],
) -> Decomposition:
    """The block-diagonal union of the members' decompositions, scaled by w_m, plus b."""
    k = sum(d.pair_matrix.shape[0] for d in decompositions)
    pair_matrix, bias_a, bias_b = np.zeros((k, k)), np.zeros(k), np.zeros(k)
    parts, start = [], 0
    for member_id, d, w in zip(member_ids, decompositions, weights, strict=True):
        end = start + d.pair_matrix.shape[0]
        pair_matrix[start:end, start:end] = w * d.pair_matrix
        bias_a[start:end] = w * d.bias_a
        bias_b[start:end] = w * d.bias_b
        parts.append(
            {
                "model": member_id,
                "weight": w,
                "cosine": d.cosine,
                "cells": [start, end],
                "residual": d.residual,
                "bias_bias": d.bias_bias,  # the member's own (unscaled), for its own view
            }
        )
        start = end
    bias_bias = sum(w * d.bias_bias for d, w in zip(decompositions, weights, strict=True))
    score = sum(w * d.cosine for d, w in zip(decompositions, weights, strict=True)) + intercept
    return Decomposition(
        layout=layout,
        pair_matrix=pair_matrix,
        bias_a=bias_a,
        bias_b=bias_b,
        bias_bias=float(bias_bias + intercept),
        cosine=float(score),
        parts=tuple(parts) + ({"model": "intercept", "weight": intercept},),
    )


class FusedModel:
    """Logistic-regression fusion of member models; its score is a log-odds, not a cosine."""

    id = "fused"
    kind = ModelKind.FUSED

    def __init__(self, device: torch.device, fit_key: str = FIT_KEY):
        from core.models.registry import load_model

        self.fit = load_fit(fit_key)
        self.fit_file = manifest()[fit_key]["file"]
        self.member_ids = [m["id"] for m in self.fit["members"]]
        self.weights = [float(m["weight"]) for m in self.fit["members"]]
        self.intercept = float(self.fit["intercept"])
        self.members = [load_model(m, device) for m in self.member_ids]
        self.input_size = self.members[0].input_size
        self.layout = fused_layout(self.members)
        demo = "DEMO fit — not for casework; " if self.fit.get("demo") else ""
        self.label = (
            f"fused: {demo}"
            + " + ".join(
                f"{w:.2f}·cos[{m}]" for m, w in zip(self.member_ids, self.weights, strict=True)
            )
            + f" {self.intercept:+.2f}"
        )

    def describe(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "label": self.label,
            "score_kind": "fused log-odds",
            # The fit file identifies the fusion; each member lists its own weights' hash.
            "weights_file": self.fit_file,
            "weights_sha256": self.fit["file_sha256"],
            "members": [m.describe() for m in self.members],
            "weights": dict(zip(self.member_ids, self.weights, strict=True)),
            "intercept": self.intercept,
            "fit": {
                k: v
                for k, v in self.fit.items()
                if k not in ("members", "intercept", "file_sha256")
            },
            "license": "see each member",
        }

    def score_pair(self, a: FusedFeatures, b: FusedFeatures) -> Decomposition:
        from core.engine import score_features

        decompositions = [
            score_features(m, fa, fb)
            for m, fa, fb in zip(self.members, a.members, b.members, strict=True)
        ]
        return fuse(decompositions, self.weights, self.intercept, self.layout, self.member_ids)

    def cell_features(self, faces: np.ndarray) -> list:
        raise NotImplementedError(
            "fused features come from each member's own alignment (Engine.side_features)"
        )

    def embed_tensor(self, x: torch.Tensor) -> torch.Tensor:
        _refuse_single_network()

    def score_tensor(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        _refuse_single_network()

    def fuse_scores(self, member_scores: list[float]) -> float:
        """sum_m w_m * score_m + b: the fused score from each member's own score."""
        return self.intercept + sum(w * s for w, s in zip(self.weights, member_scores, strict=True))

    def spatial_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError("fused has no single feature map; explain a member model")


DEMO_NOTE = (
    "The fusion weights are a DEMO fit on the few shared photos (tools/fit_fusion.py): they "
    "say how the members were combined there, not on casework."
)


@dataclass(frozen=True)
class MemberRow:
    """One member model's share of a fused score: w_m, cos_m and w_m * cos_m."""

    model: str
    cosine: float
    weight: float

    @property
    def contribution(self) -> float:
        return self.weight * self.cosine


TABLE_HEADERS = ("member model", "cosine cos_m", "weight w_m", "w_m·cos_m")


@dataclass(frozen=True)
class FusionTable:
    """The fused score written out: sum_m w_m cos_m + b, beside the score it must equal."""

    members: tuple[MemberRow, ...]
    intercept: float
    score: float  # the fused score as the comparison reports it

    @property
    def total(self) -> float:
        return sum(m.contribution for m in self.members) + self.intercept

    @property
    def difference(self) -> float:
        return abs(self.total - self.score)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table as shown (TABLE_HEADERS): one row per member, then b and the sum."""
        rows = [
            (m.model, f"{m.cosine:+.6f}", f"{m.weight:+.6f}", f"{m.contribution:+.6f}")
            for m in self.members
        ]
        rows += [
            ("intercept b", "", "", f"{self.intercept:+.6f}"),
            ("sum", "", "", f"{self.total:+.6f}"),
        ]
        return rows


def fusion_table(parts, score: float) -> FusionTable | None:
    """The member table of a fused decomposition's `parts` (a Decomposition's, or as a case
    stores them) and its score; None for a single model (no parts)."""
    if not parts:
        return None
    members = tuple(
        MemberRow(str(p["model"]), float(p["cosine"]), float(p["weight"]))
        for p in parts
        if p["model"] != "intercept"
    )
    (intercept,) = [float(p["weight"]) for p in parts if p["model"] == "intercept"]
    return FusionTable(members, intercept, float(score))


def is_demo_fit(model_record) -> bool:
    """Whether a fused model's describe() record says its fit is a DEMO."""
    return bool((model_record.get("fit") or {}).get("demo"))


def member_decomposition(decomposition: Decomposition, model_id: str) -> Decomposition:
    """Member `model_id`'s own exact terms, cut from a fused decomposition: its block and
    bias terms divided by w_m (so they sum to its own cosine, not to w_m cos_m)."""
    (part,) = [p for p in decomposition.parts if p["model"] == model_id]
    weight = float(part["weight"])
    if weight == 0.0 or "bias_bias" not in part:
        raise ValueError(f"member {model_id}'s own terms cannot be recovered (weight {weight})")
    start, end = part["cells"]
    layout = decomposition.layout
    own = CellLayout(
        kind="member",
        label=f"{model_id} cell (its own terms; boxes scaled onto the fused face)",
        boxes=layout.boxes[start:end],
        input_size=layout.input_size,
    )
    return Decomposition(
        layout=own,
        pair_matrix=decomposition.pair_matrix[start:end, start:end] / weight,
        bias_a=decomposition.bias_a[start:end] / weight,
        bias_b=decomposition.bias_b[start:end] / weight,
        bias_bias=float(part["bias_bias"]),
        cosine=float(part["cosine"]),
    )


def fusion_summary(decomposition: Decomposition) -> str:
    """'' for a single model; else each member's weight x cosine and the intercept."""
    table = fusion_table(decomposition.parts, decomposition.cosine)
    if table is None:
        return ""
    terms = [f"{m.weight:+.2f}×{m.cosine:+.3f} [{m.model}]" for m in table.members]
    return "fused = " + " ".join(terms) + f" {table.intercept:+.2f}"
