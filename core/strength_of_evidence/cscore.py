"""C-Score (Knoche et al., "Explainable model-agnostic similarity and confidence in
face verification", §3.1, Eq. 1-3).

With cosine distance d = 1 - cosine (Eq. 1), the genuine and impostor distances
are binned into one 400-bin histogram over their joint range; each class's counts
are divided by that class's total (per-class densities, as the authors' XFV code
does), so the bin-wise ratio p_gen / (p_gen + p_imp) does not depend on how many
genuine and impostor pairs the calibration set holds. It is fitted with the
logistic sigmoid of Eq. 2,

    c(d) = L / (1 + exp(-k (d - d0))) + b,

by scipy's curve_fit(method="dogbox"), and c is clipped to [0, 1]. Eq. 3 then gives
C = c(d) for d <= t and C = 1 - c(d) for d > t.

Choices where the paper is vague (also in docs/evidence.md):
- Empty bins (no pair of either kind) carry no ratio and are left out of the fit.
- Eq. 2 is not identifiable: (L, k, b) and (-L, -k, b + L) are the same curve. Fitted
  parameters are reported in the form with L >= 0.
- Fold-wise fitting (the paper's last paragraph of §3.1): the pairs are split into
  stratified folds and one sigmoid is fitted on the pairs outside each fold (the
  training part, as in the paper's 10-fold protocol). A new distance gets the mean
  of the folds' C values; their standard deviation and range are its uncertainty.
- t is one decision threshold for all folds (the calibration's threshold), so C is
  monotone on each side of t. Where a fitted midpoint d0 differs from t, Eq. 3 can
  dip below 0.5 between d0 and t; C is clipped to [0.5, 1], the range the paper
  states, and the unclipped mean is reported beside it as `c_raw`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from sklearn.model_selection import StratifiedKFold

from core.errors import CalibrationError

BINS = 400


def sigmoid(d, L: float, k: float, d0: float, b: float):  # noqa: N803 - the paper's symbol
    """Eq. 2 (exp overflow gives inf, so the term tends to 0 as it should)."""
    with np.errstate(over="ignore"):
        return L / (1.0 + np.exp(-k * (np.asarray(d, dtype=np.float64) - d0))) + b


def ratio_histogram(distances: np.ndarray, same: np.ndarray, bins: int = BINS):
    """Bin centres and p_gen / (p_gen + p_imp) of each non-empty bin (Fig. 2 of the paper),
    with p the class's own density (counts / class total): independent of class balance."""
    distances = np.asarray(distances, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    lo, hi = float(distances.min()), float(distances.max())
    if hi <= lo:
        hi = lo + 1e-9
    edges = np.linspace(lo, hi, bins + 1)
    genuine, _ = np.histogram(distances[same], bins=edges)
    impostor, _ = np.histogram(distances[~same], bins=edges)
    p_gen = genuine / max(int(genuine.sum()), 1)
    p_imp = impostor / max(int(impostor.sum()), 1)
    total = p_gen + p_imp
    filled = total > 0
    centres = (edges[:-1] + edges[1:]) / 2
    return centres[filled], p_gen[filled] / total[filled]


def fit_sigmoid(distances: np.ndarray, same: np.ndarray, bins: int = BINS) -> dict:
    """Fit Eq. 2 to the bin-wise ratio with dogbox; parameters in the L >= 0 form."""
    same = np.asarray(same, dtype=bool)
    if same.all() or not same.any():
        raise CalibrationError("the C-Score fit needs both genuine and impostor pairs")
    x, ratio = ratio_histogram(distances, same, bins)
    if len(x) < 4:
        raise CalibrationError(
            f"the C-Score fit needs at least 4 filled histogram bins, got {len(x)}"
        )
    spread = float(x.max() - x.min()) or 1.0
    genuine_mean = float(np.mean(np.asarray(distances)[same]))
    impostor_mean = float(np.mean(np.asarray(distances)[~same]))
    start = [1.0, -10.0 / spread, (genuine_mean + impostor_mean) / 2, 0.0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            (L, k, d0, b), _ = curve_fit(sigmoid, x, ratio, p0=start, method="dogbox", maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        raise CalibrationError(f"the C-Score sigmoid fit did not converge: {exc}") from exc
    if L < 0:
        L, k, b = -L, -k, b + L
    return {"L": float(L), "k": float(k), "d0": float(d0), "b": float(b)}


@dataclass(frozen=True)
class CScoreModel:
    """Fold-wise fitted sigmoids and the decision threshold t (on cosine distance)."""

    folds: tuple[dict, ...]
    threshold_distance: float
    bins: int = BINS

    def evaluate(self, distance: float) -> dict:
        """C for one distance: mean over folds, with the fold spread as uncertainty."""
        values = []
        for p in self.folds:
            c = float(np.clip(sigmoid(distance, p["L"], p["k"], p["d0"], p["b"]), 0.0, 1.0))
            values.append(c if distance <= self.threshold_distance else 1.0 - c)
        raw = float(np.mean(values))
        return {
            "c_score": float(np.clip(raw, 0.5, 1.0)),
            "c_raw": raw,
            "fold_std": float(np.std(values)),
            "fold_min": float(np.min(values)),
            "fold_max": float(np.max(values)),
            "folds": len(values),
        }

    def to_json(self) -> dict:
        return {
            "method": "Knoche et al. 2022, §3.1 Eq. 2-3 (C-Score)",
            "distance": "cosine distance d = 1 - cosine (Eq. 1)",
            "bins": self.bins,
            "threshold_distance": self.threshold_distance,
            "folds": list(self.folds),
        }

    @classmethod
    def from_json(cls, data: dict) -> CScoreModel:
        return cls(
            tuple(dict(f) for f in data["folds"]),
            float(data["threshold_distance"]),
            int(data["bins"]),
        )


def fit_cscore(
    distances: np.ndarray, same: np.ndarray, threshold_distance: float, folds: int, seed: int
) -> CScoreModel:
    """One Eq. 2 fit per stratified fold (on the pairs outside it)."""
    same = np.asarray(same, dtype=bool)
    distances = np.asarray(distances, dtype=np.float64)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    fitted = tuple(
        fit_sigmoid(distances[train], same[train]) for train, _ in splitter.split(distances, same)
    )
    return CScoreModel(fitted, float(threshold_distance))
