"""Score -> likelihood-ratio calibration with lir (the Netherlands Forensic Institute's library).

Everything statistical here is lir's own code: the calibrators (LogitCalibrator,
KDECalibrator with Silverman bandwidths, IsotonicCalibrator = PAV), the ELUB
bounds (lir.algorithms.bayeserror.elub, Vergeer et al. 2016) and the metrics
(lir.metrics.cllr / cllr_min / cllr_cal, Brümmer & du Preez 2006). Written here by
hand: the stratified cross-validation that yields out-of-fold LLRs, and the
parameter summaries stored in a calibration file.

Convention: scores are cosine similarities (higher = more similar); LLRs are
log10 likelihood ratios of Hp (same person, label 1) against Hd (label 0).
"""

from __future__ import annotations

import numpy as np
from lir.algorithms.bayeserror import elub
from lir.algorithms.isotonic_regression import IsotonicCalibrator
from lir.algorithms.kde import KDECalibrator
from lir.algorithms.logistic_regression import LogitCalibrator
from lir.data.models import LLRData
from lir.metrics import cllr, cllr_cal, cllr_min
from sklearn.model_selection import StratifiedKFold

from core.errors import CalibrationError

CALIBRATOR_KINDS = ("logistic", "kde", "isotonic")
LOGISTIC_C = 1e4


def make_calibrator(kind: str):
    """A fresh lir calibrator of this kind."""
    if kind == "logistic":
        # lir passes C on to scikit-learn. Its default C=1 shrinks the slope badly on
        # cosines (range ~1); C=1e4 is nearly maximum likelihood yet keeps the slope
        # finite on perfectly separated pairs (common with few pairs).
        return LogitCalibrator(C=LOGISTIC_C)
    if kind == "kde":
        return KDECalibrator(bandwidth="silverman")
    if kind == "isotonic":
        # One misleading point on each side keeps PAV's extreme LLRs finite (lir's option).
        return IsotonicCalibrator(add_misleading=1)
    raise CalibrationError(
        f"unknown calibrator {kind!r}; choose one of {', '.join(CALIBRATOR_KINDS)}"
    )


def check_pairs(scores: np.ndarray, same: np.ndarray, folds: int) -> None:
    """Clear error when there are too few pairs of either kind for `folds`-fold CV."""
    if folds < 2:
        raise CalibrationError(f"cross-validation needs at least 2 folds, got {folds}")
    genuine, impostor = int(same.sum()), int((~same).sum())
    if min(genuine, impostor) < folds:
        raise CalibrationError(
            f"too few pairs for {folds}-fold cross-validation: {genuine} genuine and "
            f"{impostor} impostor pairs (each kind needs at least {folds}); "
            "use fewer folds (--folds) or more images"
        )


def fit_calibrator(scores: np.ndarray, same: np.ndarray, kind: str):
    """Fit a lir calibrator of `kind` on scores (1-D) and labels (bool)."""
    calibrator = make_calibrator(kind)
    calibrator.fit(np.asarray(scores, dtype=np.float64), np.asarray(same, dtype=int))
    return calibrator


def log10_lrs(calibrator, scores) -> np.ndarray:
    """Unbounded log10 LRs of the scores under a fitted lir calibrator."""
    return np.asarray(calibrator.transform(np.asarray(scores, dtype=np.float64)), dtype=np.float64)


def cross_validated_llrs(
    scores: np.ndarray, same: np.ndarray, kind: str, folds: int, seed: int
) -> np.ndarray:
    """Out-of-fold log10 LRs: each fold is calibrated on the other folds only."""
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    check_pairs(scores, same, folds)
    llrs = np.empty_like(scores)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(scores, same):
        llrs[test] = log10_lrs(fit_calibrator(scores[train], same[train], kind), scores[test])
    return llrs


def elub_bounds(llrs: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """lir's empirical lower and upper bounds (log10), one misleading LR added per side."""
    lower, upper = elub(
        np.array(llrs, dtype=np.float64), np.asarray(same, dtype=int), add_misleading=1
    )
    return float(lower), float(upper)


def lr_metrics(llrs: np.ndarray, same: np.ndarray) -> dict:
    """Cllr, Cllr_min and Cllr_cal (lir.metrics) of log10 LRs against the labels."""
    data = LLRData(features=np.asarray(llrs, dtype=np.float64), labels=np.asarray(same, dtype=int))
    return {"cllr": cllr(data), "cllr_min": cllr_min(data), "cllr_cal": cllr_cal(data)}


def calibrator_parameters(calibrator, kind: str, scores: np.ndarray, same: np.ndarray) -> dict:
    """The fitted parameters, for the record (the file keeps the scores to refit exactly)."""
    if kind == "logistic":
        intercept = float(calibrator._logit.intercept_[0])
        slope = float(calibrator._logit.coef_[0][0])
        return {
            "form": "log10 LR = log10(e) * (intercept + slope * cosine)",
            "intercept": intercept,
            "slope": slope,
            "class_weight": "balanced",
            "C": LOGISTIC_C,
        }
    if kind == "kde":
        impostor_bw, genuine_bw = KDECalibrator.bandwidth_silverman(
            np.asarray(scores, dtype=np.float64).reshape(-1, 1), np.asarray(same, dtype=int)
        )
        return {
            "form": "log10 LR = log10(KDE_genuine(cosine) / KDE_impostor(cosine))",
            "kernel": "gaussian",
            "bandwidth_rule": "silverman",
            "bandwidth_genuine": float(genuine_bw),
            "bandwidth_impostor": float(impostor_bw),
        }
    regression = calibrator._ir
    return {
        "form": "PAV (isotonic regression) posterior, prior-weighted, as log10 odds",
        "add_misleading": calibrator.add_misleading,
        "x_points": [float(v) for v in regression._necessary_X_],
        "p_points": [float(v) for v in regression._necessary_y_],
    }
