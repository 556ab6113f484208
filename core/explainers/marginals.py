"""Decomposition marginals as maps: no new forward pass, read from the engine's Decomposition.

Row marginals (A's cell i: its row of pair terms plus its bias term) are
painted onto A's layout boxes, column marginals onto B's (core/decomposition.py).
Where boxes overlap (restricted-field layouts, RRF-28), a pixel takes the mean
of the marginals of the boxes covering it (sum divided by coverage); a pixel no
box covers is 0. Values stay in cosine units, so the maps can be compared with
the post-hoc maps by rank. The marginals themselves are recorded in the
parameters: A's row marginals plus B's bias terms plus the bias-bias term sum
to the cosine (Decomposition.total, residual <= 1e-5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.explainers.base import Explanation, Stopwatch


@dataclass(frozen=True)
class MarginalSettings:
    pass


def paint_boxes(values: np.ndarray, boxes, size: int) -> np.ndarray:
    """size x size map: each pixel the mean value of the boxes that cover it (0 if none)."""
    total = np.zeros((size, size))
    coverage = np.zeros((size, size))
    for v, (x1, y1, x2, y2) in zip(values, boxes, strict=True):
        xs, ys, xe, ye = round(x1), round(y1), round(x2), round(y2)
        total[ys:ye, xs:xe] += v
        coverage[ys:ye, xs:xe] += 1
    return np.where(coverage > 0, total / np.maximum(coverage, 1), 0.0)


def explain_marginals(decomposition, model_id: str, seed=None) -> Explanation:
    """Maps of the per-cell marginals of a Decomposition (exact, model-intrinsic)."""
    watch = Stopwatch()
    layout = decomposition.layout
    rows = decomposition.row_marginals()
    cols = decomposition.column_marginals()
    return Explanation(
        method="marginals",
        map_a=paint_boxes(rows, layout.boxes, layout.input_size).astype(np.float32),
        map_b=paint_boxes(cols, layout.boxes, layout.input_size).astype(np.float32),
        parameters={
            "layout": layout.kind,
            "layout_label": layout.label,
            "cells": layout.count,
            "overlap": "mean of covering boxes (sum / coverage)",
            "row_marginals": rows.tolist(),
            "column_marginals": cols.tolist(),
            "bias_bias": decomposition.bias_bias,
            "cosine": decomposition.cosine,
        },
        seed=seed,
        forward_passes=0,
        seconds=watch.seconds,
        model_id=model_id,
        units="cosine contribution of the cell(s) covering the pixel",
    )
