"""Verification metrics over genuine/impostor pair scores (higher score = more similar).

ROC AUC and the ROC curve come from scikit-learn. The 10-fold accuracy follows
the LFW protocol used by the papers: for each fold, the threshold with the best
accuracy on the other nine folds is applied to the held-out fold.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import KFold

FAR_LEVELS = (1e-1, 1e-2, 1e-3)
FOLDS = 10


def best_accuracy(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """(accuracy, threshold t) maximising accuracy when 'same' is decided by score >= t."""
    order = np.argsort(scores)
    s, y = scores[order], same[order].astype(bool)
    # Threshold at each score: everything from index i upward is called 'same'.
    genuine_at_or_above = np.cumsum(y[::-1])[::-1]
    impostor_below = np.concatenate([[0], np.cumsum(~y)[:-1]])
    correct = genuine_at_or_above + impostor_below
    # Also the option of calling everything 'different' (threshold above the maximum).
    all_different = int((~y).sum())
    best = int(np.argmax(correct))
    if all_different > correct[best]:
        return all_different / len(s), float(s[-1]) + 1e-6
    return float(correct[best]) / len(s), float(s[best])


def equal_error_rate(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """(EER, threshold), interpolated between the two ROC points around FAR = FRR."""
    fpr, tpr, thresholds = roc_curve(same, scores)
    fnr = 1 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2), float(thresholds[i])


def tar_at_far(scores: np.ndarray, same: np.ndarray) -> dict[str, float | None]:
    """TAR at each FAR level; None where there are too few impostor pairs (< 1/FAR)."""
    impostors = int((~same.astype(bool)).sum())
    fpr, tpr, _ = roc_curve(same, scores)
    result: dict[str, float | None] = {}
    for far in FAR_LEVELS:
        if impostors < round(1 / far):
            result[f"{far:g}"] = None
            continue
        result[f"{far:g}"] = float(tpr[fpr <= far].max())
    return result


def protocol_fold_accuracy(scores: np.ndarray, same: np.ndarray, folds: np.ndarray) -> dict:
    """Mean and std of accuracy over a protocol's own folds (threshold from the others)."""
    names = sorted(set(folds.tolist()))
    if len(names) < 2:
        return {"mean": None, "std": None, "folds": "protocol", "note": "needs two folds"}
    accuracies = []
    for name in names:
        test = folds == name
        _, threshold = best_accuracy(scores[~test], same[~test])
        accuracies.append(float(np.mean((scores[test] >= threshold) == same[test].astype(bool))))
    return {
        "mean": float(np.mean(accuracies)),
        "std": float(np.std(accuracies)),
        "folds": "protocol",
        "fold_names": names,
        "per_fold": accuracies,
    }


def cross_validated_accuracy(scores: np.ndarray, same: np.ndarray, seed: int = 0) -> dict:
    """Mean and std of 10-fold accuracy (threshold chosen on the other nine folds)."""
    if len(scores) < FOLDS:
        return {
            "mean": None,
            "std": None,
            "folds": FOLDS,
            "seed": seed,
            "note": f"needs at least {FOLDS} pairs",
        }
    accuracies = []
    for train, test in KFold(FOLDS, shuffle=True, random_state=seed).split(scores):
        _, threshold = best_accuracy(scores[train], same[train])
        accuracies.append(float(np.mean((scores[test] >= threshold) == same[test].astype(bool))))
    return {
        "mean": float(np.mean(accuracies)),
        "std": float(np.std(accuracies)),
        "folds": FOLDS,
        "seed": seed,
    }


def verification_report(scores, same, seed: int = 0, folds=None) -> dict:
    """Every metric `evaluate` reports. Needs at least one genuine and one impostor pair.

    `folds` (one label per pair) replaces the seeded random 10 folds by a protocol's folds.
    """
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    genuine, impostor = int(same.sum()), int((~same).sum())
    report: dict = {"pairs": len(scores), "genuine": genuine, "impostor": impostor}
    if genuine == 0 or impostor == 0:
        report["note"] = "metrics need both genuine and impostor pairs"
        return report
    accuracy, threshold = best_accuracy(scores, same)
    eer, eer_threshold = equal_error_rate(scores, same)
    report.update(
        roc_auc=float(roc_auc_score(same, scores)),
        eer=eer,
        eer_threshold=eer_threshold,
        best_accuracy=accuracy,
        best_threshold=threshold,
        cv_accuracy=cross_validated_accuracy(scores, same, seed)
        if folds is None
        else protocol_fold_accuracy(scores, same, np.asarray(folds)),
        tar_at_far=tar_at_far(scores, same),
    )
    return report
