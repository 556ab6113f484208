"""The `evidence` section of a comparison: the API the CLI, GUI and report share.

    evidence_for(score, calibration=None, model_id=None, scale=None) -> EvidenceResult
    load_calibration(path, model_describe) -> Calibration   (calibration_file)
    default_calibration_path(model_id) -> Path | None       (the bundled DEMO calibration)

With a calibration: threshold and decision, C-Score (Knoche et al. Eq. 3) with its
fold spread, LR and log10 LR (unbounded and ELUB-bounded), the verbal category of
the bounded LR, and the calibration's provenance. Without one: "uncalibrated", and
only the score against the model's documented default threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.resource_paths import RESOURCES_DIR
from core.strength_of_evidence.calibration_file import (
    Calibration,
    default_calibration_path,
    load_calibration,
)
from core.strength_of_evidence.verbal_scale import VerbalScale, load_verbal_scale, verbal_category

__all__ = [
    "EvidenceResult",
    "default_calibration_path",
    "default_threshold",
    "evidence_for",
    "load_calibration",
]

SCHEMA = "patchwise.evidence/1"
UNCALIBRATED = "uncalibrated"
MAX_LOG10 = 300  # beyond this 10**x overflows a float; the LR is then reported as None
THRESHOLDS_PATH = RESOURCES_DIR / "config" / "default_thresholds.json"


def default_threshold(model_id: str) -> dict | None:
    """The model's documented default threshold entry (with its provenance), or None."""
    data = json.loads(THRESHOLDS_PATH.read_text(encoding="utf-8"))
    entry = data["models"].get(model_id)
    if entry is None:
        return None
    return {**entry, "config_version": data["version"], "config_file": str(THRESHOLDS_PATH)}


@dataclass(frozen=True)
class EvidenceResult:
    """Everything the evidence section shows; None where it does not apply (uncalibrated)."""

    score: float
    threshold: float | None
    threshold_source: str
    decision: str | None  # "same" (cosine >= threshold), "different", or None
    calibration_status: str  # "uncalibrated", DEMO_STATUS, or "lab calibration: NAME"
    calibration: dict | None = None  # provenance of the calibration file
    c_score: dict | None = None  # c_score in [0.5, 1], c_raw, fold_std/min/max, folds
    log10_lr: float | None = None  # ELUB-bounded
    lr: float | None = None  # ELUB-bounded
    log10_lr_unbounded: float | None = None
    lr_unbounded: float | None = None
    elub_log10: tuple[float, float] | None = None
    elub_applied: bool = False  # the unbounded LR lay outside the ELUB bounds
    verbal: dict | None = None  # category, supports (hp/hd/neither), statement, scale_version
    verbal_scale: dict | None = None

    @property
    def calibrated(self) -> bool:
        return self.calibration is not None

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA,
            "calibration_status": self.calibration_status,
            "score": {"cosine": self.score},
            "threshold": {"cosine": self.threshold, "source": self.threshold_source},
            "decision": self.decision,
            "c_score": self.c_score,
            "lr": self.lr,
            "log10_lr": self.log10_lr,
            "lr_unbounded": self.lr_unbounded,
            "log10_lr_unbounded": self.log10_lr_unbounded,
            "elub_log10": list(self.elub_log10) if self.elub_log10 else None,
            "elub_applied": self.elub_applied,
            "verbal": self.verbal,
            "verbal_scale": self.verbal_scale,
            "calibration": self.calibration,
        }

    def summary_lines(self) -> list[str]:
        """Plain-text lines for the CLI (and any text report)."""
        lines = [f"evidence: {self.calibration_status}"]
        if self.threshold is not None:
            lines.append(
                f"  cosine {self.score:+.4f} vs threshold {self.threshold:+.4f}: "
                f"decision '{self.decision}'"
            )
            lines.append(f"  threshold: {self.threshold_source}")
        else:
            lines.append(f"  cosine {self.score:+.4f}; {self.threshold_source}")
        if self.c_score is not None:
            c = self.c_score
            lines.append(
                f"  C-Score {c['c_score']:.3f} (folds {c['fold_min']:.3f}–{c['fold_max']:.3f})"
            )
        if self.log10_lr is not None:
            lo, hi = self.elub_log10
            bounded = " (ELUB-bounded)" if self.elub_applied else ""
            lines.append(
                f"  LR {self.lr:.3g}, log10 LR {self.log10_lr:+.2f}{bounded}; "
                f"ELUB [{lo:+.2f}, {hi:+.2f}]"
            )
            lines.append(f"  {self.verbal['statement']} [scale {self.verbal['scale_version']}]")
        return lines


def _uncalibrated(score: float, model_id: str | None) -> EvidenceResult:
    entry = default_threshold(model_id) if model_id else None
    if entry is None:
        return EvidenceResult(
            score, None, "no documented default threshold for this model", None, UNCALIBRATED
        )
    threshold = float(entry["cosine"])
    source = f"default threshold: {entry['rule']} ({entry['measured_on']})"
    return EvidenceResult(
        score, threshold, source, "same" if score >= threshold else "different", UNCALIBRATED
    )


def evidence_for(
    score: float,
    calibration: Calibration | None = None,
    model_id: str | None = None,
    scale: VerbalScale | None = None,
) -> EvidenceResult:
    """The evidence section for one cosine score (model_id is used when uncalibrated)."""
    score = float(score)
    if calibration is None:
        return _uncalibrated(score, model_id)
    scale = scale or load_verbal_scale()
    threshold = calibration.threshold
    unbounded = float(calibration.log10_lr(score)[0])
    lower, upper = calibration.elub
    bounded = min(max(unbounded, lower), upper)
    return EvidenceResult(
        score=score,
        threshold=threshold,
        threshold_source=calibration.data["threshold"]["rule"],
        decision="same" if score >= threshold else "different",
        calibration_status=calibration.status,
        calibration=calibration.provenance(),
        c_score=calibration.cscore.evaluate(1.0 - score),
        log10_lr=bounded,
        lr=10.0**bounded,
        log10_lr_unbounded=unbounded,
        lr_unbounded=10.0**unbounded if abs(unbounded) < MAX_LOG10 else None,
        elub_log10=(lower, upper),
        elub_applied=bounded != unbounded,
        verbal=verbal_category(bounded, scale).to_json(),
        verbal_scale=scale.describe(),
    )
