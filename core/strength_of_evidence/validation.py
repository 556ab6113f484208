"""The validation report: verification metrics, LR metrics, curves and plots.

With a calibration file, its (ELUB-bounded) LRs are validated on these pairs (the
pairs should be independent of the calibration's). Without one, the calibration
*method* is validated: each fold's LRs come from a lir calibrator fitted on the
other folds, bounded by ELUB bounds of those out-of-fold LRs. Recorded in the
style of ISO/IEC 19795: data fingerprint, counts, failures to acquire.
"""

from __future__ import annotations

import datetime
import importlib.metadata
from pathlib import Path

import numpy as np
from sklearn.metrics import det_curve, roc_curve

from core import __version__
from core.atomic_write import write_json_atomically
from core.errors import CalibrationError
from core.strength_of_evidence.lr_calibration import cross_validated_llrs, elub_bounds, lr_metrics
from core.strength_of_evidence.validation_plots import write_plots
from core.verification_metrics import verification_report

SCHEMA = "patchwise.validation/1"


def validation_llrs(scores, same, calibration, kind: str, folds: int, seed: int):
    """(bounded log10 LRs, (lower, upper) ELUB, description of where they came from)."""
    if calibration is not None:
        lower, upper = calibration.elub
        llrs = calibration.log10_lr(scores)
        return (
            np.clip(llrs, lower, upper),
            (lower, upper),
            (f"calibration '{calibration.data['name']}' ({calibration.status})"),
        )
    llrs = cross_validated_llrs(scores, same, kind, folds, seed)
    lower, upper = elub_bounds(llrs, same)
    source = f"{folds}-fold cross-validated {kind} calibration (lir) on these pairs"
    return np.clip(llrs, lower, upper), (lower, upper), source


def _curves(scores, same, llrs) -> dict:
    fpr, tpr, thresholds = roc_curve(same, scores)
    det_fpr, det_fnr, det_thresholds = det_curve(same, scores)
    return {
        "roc": {
            "fpr": fpr.tolist(),
            "tpr": tpr.tolist(),
            "thresholds": np.nan_to_num(thresholds, posinf=1e308).tolist(),
        },
        "det": {
            "fpr": det_fpr.tolist(),
            "fnr": det_fnr.tolist(),
            "thresholds": det_thresholds.tolist(),
        },
        "tippett": {
            "log10_lr_genuine": sorted(llrs[same].tolist()),
            "log10_lr_impostor": sorted(llrs[~same].tolist()),
        },
    }


def validation_report(
    scored, dataset: dict, calibration=None, kind="logistic", folds=5, seed=0
) -> tuple[dict, np.ndarray]:
    """The validation.json content and the bounded log10 LRs it was computed from."""
    scores, same = scored.scores, scored.same
    if same.all() or not same.any():
        raise CalibrationError("validation needs both genuine and impostor pairs")
    llrs, (lower, upper), source = validation_llrs(scores, same, calibration, kind, folds, seed)
    verification = verification_report(scores, same, seed=seed)
    report = {
        "schema": SCHEMA,
        "created": {
            "utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "app_version": __version__,
            "lir_version": importlib.metadata.version("lir"),
        },
        "model": scored.evaluation["model"],
        "detector": scored.evaluation["detector"],
        "dataset": dataset,
        "failures": scored.failures,
        "counts": {
            "pairs": int(len(scores)),
            "genuine": int(same.sum()),
            "impostor": int((~same).sum()),
        },
        "auc": verification["roc_auc"],
        "eer": verification["eer"],
        "eer_threshold": verification["eer_threshold"],
        "tar_at_far": verification["tar_at_far"],
        **lr_metrics(llrs, same),
        "lr_source": source,
        "elub_log10": [lower, upper],
        "calibration": calibration.provenance() if calibration is not None else None,
        "verification": verification,
        "curves": _curves(scores, same, llrs),
        "per_pair": [
            {**p, "log10_lr": float(v)}
            for p, v in zip(scored.evaluation["per_pair"], llrs, strict=True)
        ],
    }
    return report, llrs


def write_validation(
    out_dir, scored, dataset: dict, calibration=None, kind="logistic", folds=5, seed=0
) -> dict:
    """Write validation.json and the PNG plots into out_dir; return the report."""
    out = Path(out_dir)
    report, llrs = validation_report(scored, dataset, calibration, kind, folds, seed)
    subtitle = f"{report['model']['id']}, {report['counts']['pairs']} pairs"
    report["plots"] = write_plots(out, scored.scores, scored.same, llrs, subtitle)
    write_json_atomically(out / "validation.json", report)
    return report
