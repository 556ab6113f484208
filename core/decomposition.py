"""Exact decomposition of a cosine similarity into cell-pair terms.

With embeddings e_A = sum_i a_i + b and e_B = sum_j b_j + b (core/models/face_model.py),

    cos(e_A, e_B) = [ sum_ij a_i.b_j + sum_i a_i.b + sum_j b.b_j + b.b ] / (|e_A| |e_B|)

This is Eq. 5-8 of the RRFNet paper (Ozturk et al.), with the mean's 1/K folded
into the cell vectors and the bias terms that affine heads add. Terms are
computed in float64; `residual` is |sum of all terms - cosine| with the cosine
computed from the same cell vectors: a rounding check, which cannot catch a
wrong split. The independent check against the model's own forward pass is
`forward_residual` (core/forward_check.py, Comparison.forward_residual).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.models.face_model import CellFeatures, CellLayout


@dataclass(frozen=True)
class Decomposition:
    layout: CellLayout
    pair_matrix: np.ndarray  # K x K: term (i on A, j on B)
    bias_a: np.ndarray  # K: a_i . b / norm   (zeros when the model has no bias)
    bias_b: np.ndarray  # K: b . b_j / norm
    bias_bias: float  # b . b / norm
    cosine: float  # the score the terms sum to (a fused model's log-odds; see `parts`)
    parts: tuple = ()  # fused models: one dict per member block (model, weight, cosine, cells)

    def __post_init__(self):
        for array in (self.pair_matrix, self.bias_a, self.bias_b):
            array.setflags(write=False)  # a frozen result: nobody edits its terms

    @property
    def total(self) -> float:
        return float(
            self.pair_matrix.sum() + self.bias_a.sum() + self.bias_b.sum() + self.bias_bias
        )

    @property
    def residual(self) -> float:
        """Rounding check: |sum of terms - score computed from the same cells|."""
        return abs(self.total - self.cosine)

    def row_marginals(self) -> np.ndarray:
        """How much each cell of A contributes (its row of pair terms plus its bias term)."""
        return self.pair_matrix.sum(axis=1) + self.bias_a

    def column_marginals(self) -> np.ndarray:
        """How much each cell of B contributes."""
        return self.pair_matrix.sum(axis=0) + self.bias_b

    def term_info(self, i: int, j: int) -> dict:
        """Pair (i, j)'s term and its share of the score (None when the score is about 0)."""
        term = float(self.pair_matrix[i, j])
        share = term / self.cosine if abs(self.cosine) > 1e-9 else None
        return {"i": i, "j": j, "term": term, "share": share}

    def top_pairs(self, n: int = 10) -> tuple[list[dict], list[dict]]:
        """(the n largest positive terms, the n most negative terms), each largest first.

        Either list may be shorter than n: a model whose cell vectors are all
        non-negative (faceres after ReLU6) has no negative terms at all.
        """
        flat = self.pair_matrix.ravel()
        order = np.argsort(flat)
        k = self.pair_matrix.shape[1]

        def pick(indices) -> list[dict]:
            return [
                {"i": int(ix // k), "j": int(ix % k), "term": float(flat[ix])} for ix in indices
            ]

        positive = [ix for ix in order[::-1][:n] if flat[ix] > 0]
        negative = [ix for ix in order[:n] if flat[ix] < 0]
        return pick(positive), pick(negative)

    def to_json(self) -> dict:
        return {
            "layout": self.layout.to_json(),
            "pair_matrix": self.pair_matrix.tolist(),
            "bias_terms": {
                "a": self.bias_a.tolist(),
                "b": self.bias_b.tolist(),
                "bias_bias": self.bias_bias,
            },
            "sum_of_terms": self.total,
            "residual": self.residual,
            **({"parts": list(self.parts)} if self.parts else {}),
        }


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def decompose(a: CellFeatures, b: CellFeatures, layout: CellLayout) -> Decomposition:
    """Split cos(e_A, e_B) exactly into K x K pair terms plus bias terms."""
    cells_a = np.asarray(a.cells, dtype=np.float64)
    cells_b = np.asarray(b.cells, dtype=np.float64)
    e_a, e_b = a.embedding.astype(np.float64), b.embedding.astype(np.float64)
    norm = float(np.linalg.norm(e_a) * np.linalg.norm(e_b))
    if norm == 0.0:
        raise ValueError("an embedding is all zeros; the cosine is undefined")
    k = cells_a.shape[0]
    bias = None if a.bias is None else np.asarray(a.bias, dtype=np.float64)
    if bias is None:
        bias_a = np.zeros(k)
        bias_b = np.zeros(k)
        bias_bias = 0.0
    else:
        bias_a = cells_a @ bias / norm
        bias_b = cells_b @ bias / norm
        bias_bias = float(bias @ bias / norm)
    return Decomposition(
        layout=layout,
        pair_matrix=cells_a @ cells_b.T / norm,
        bias_a=bias_a,
        bias_b=bias_b,
        bias_bias=bias_bias,
        cosine=cosine(e_a, e_b),
    )
