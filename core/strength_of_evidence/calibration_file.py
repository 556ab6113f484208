"""Calibration files (schema patchwise.calibration/1): build, write, load, check.

A file records what the calibration was made from and for (model id and weights
SHA-256, dataset fingerprint, counts), how (calibrator kind, folds, seed, lir
version) and what came out (threshold, C-Score fold parameters, calibrator
parameters, ELUB bounds, cross-validated Cllr metrics). It keeps the genuine and
impostor scores: loading refits the lir calibrator from them (no pickles) and
checks that it reproduces the stored score-to-LLR curve; the GUI plots them.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import __version__
from core.atomic_write import write_json_atomically
from core.errors import CalibrationError
from core.resource_paths import RESOURCES_DIR
from core.safe_read import read_regular_file
from core.schemas.calibration import CalibrationFileModel
from core.schemas.common import validated
from core.signing import SignatureCheck, key_store, sign_bytes, verify_bytes
from core.signing.envelope import MODIFIED, UNSIGNED
from core.strength_of_evidence.cscore import CScoreModel, fit_cscore
from core.strength_of_evidence.lr_calibration import (
    CALIBRATOR_KINDS,
    calibrator_parameters,
    check_pairs,
    cross_validated_llrs,
    elub_bounds,
    fit_calibrator,
    log10_lrs,
    lr_metrics,
)
from core.strict_json import parse_json
from core.verification_metrics import best_accuracy, verification_report

SCHEMA = "patchwise.calibration/1"
DEMO_LABEL = "DEMO — not for casework"
DEMO_STATUS = "DEMO calibration — not for casework"
CALIBRATION_DIR = RESOURCES_DIR / "calibration"
CURVE_POINTS = 101
REFIT_TOLERANCE = 1e-6
MAX_CALIBRATION_BYTES = 256 << 20  # 2 million scores as JSON text is about 40 MB
SIGNATURE_FIELD = "signature"


def default_calibration_path(model_id: str) -> Path | None:
    """The bundled DEMO calibration of a model, or None when there is none."""
    path = CALIBRATION_DIR / f"{model_id}.demo.json"
    return path if path.is_file() else None


def _curve_grid(scores: np.ndarray) -> np.ndarray:
    return np.linspace(float(scores.min()), float(scores.max()), CURVE_POINTS)


def build_calibration(
    scores,
    same,
    *,
    model: dict,
    detector: dict,
    dataset: dict,
    kind: str = "logistic",
    folds: int = 5,
    seed: int = 0,
    name: str,
    demo: bool = False,
) -> dict:
    """Fit threshold, C-Score and LR calibrator on labelled pair scores; the file's content."""
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if kind not in CALIBRATOR_KINDS:
        raise CalibrationError(f"unknown calibrator {kind!r}; choose {', '.join(CALIBRATOR_KINDS)}")
    check_pairs(scores, same, folds)
    _, threshold = best_accuracy(scores, same)
    cscore = fit_cscore(1.0 - scores, same, 1.0 - threshold, folds, seed)
    cv_llrs = cross_validated_llrs(scores, same, kind, folds, seed)
    lower, upper = elub_bounds(cv_llrs, same)
    bounded_cv = np.clip(cv_llrs, lower, upper)
    calibrator = fit_calibrator(scores, same, kind)
    grid = _curve_grid(scores)
    versions = {p: importlib.metadata.version(p) for p in ("lir", "scikit-learn", "scipy", "numpy")}
    return {
        "schema": SCHEMA,
        "name": name,
        "kind": "demo" if demo else "lab",
        "label": DEMO_LABEL if demo else "lab calibration",
        "status": DEMO_STATUS if demo else f"lab calibration: {name}",
        "created": {
            "utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "app_version": __version__,
            "lir_version": versions["lir"],
            "library_versions": versions,
        },
        "model": {k: model.get(k) for k in ("id", "label", "weights_file", "weights_sha256")},
        "detector": detector,
        "dataset": dataset,
        "counts": {
            "pairs": int(len(scores)),
            "genuine": int(same.sum()),
            "impostor": int((~same).sum()),
        },
        "threshold": {
            "cosine": float(threshold),
            "distance": float(1.0 - threshold),
            "rule": "maximum accuracy on the calibration pairs (Knoche et al. §3.1); "
            "decision 'same' when cosine >= threshold",
        },
        "cscore": cscore.to_json(),
        "calibrator": {
            "kind": kind,
            "library": f"lir {versions['lir']}",
            "parameters": calibrator_parameters(calibrator, kind, scores, same),
            "folds": folds,
            "seed": seed,
        },
        "elub": {
            "lower_log10": lower,
            "upper_log10": upper,
            "method": "lir.algorithms.bayeserror.elub (Vergeer et al. 2016), add_misleading=1, "
            "on the cross-validated LLRs",
        },
        "metrics": {
            "cross_validated_bounded": lr_metrics(bounded_cv, same),
            "cross_validated_unbounded": lr_metrics(cv_llrs, same),
            "verification": verification_report(scores, same, seed=seed),
        },
        "scores": {"genuine": scores[same].tolist(), "impostor": scores[~same].tolist()},
        "tippett": {
            "note": "cross-validated, ELUB-bounded log10 LRs of the calibration pairs",
            "log10_lr_genuine": sorted(bounded_cv[same].tolist()),
            "log10_lr_impostor": sorted(bounded_cv[~same].tolist()),
        },
        "curve": {"cosine": grid.tolist(), "log10_lr": log10_lrs(calibrator, grid).tolist()},
    }


@dataclass(frozen=True)
class Calibration:
    """A loaded, checked calibration file, ready to turn scores into evidence."""

    data: dict
    cscore: CScoreModel
    calibrator: object  # a fitted lir calibrator (refitted from the stored scores)
    path: str
    source_bytes: bytes = b""  # the file's bytes exactly as read (stored in cases)
    signature: SignatureCheck = SignatureCheck(UNSIGNED)

    @property
    def status(self) -> str:
        return self.data["status"]

    @property
    def is_demo(self) -> bool:
        return self.data["kind"] == "demo"

    @property
    def threshold(self) -> float:
        return float(self.data["threshold"]["cosine"])

    @property
    def elub(self) -> tuple[float, float]:
        return float(self.data["elub"]["lower_log10"]), float(self.data["elub"]["upper_log10"])

    def log10_lr(self, scores) -> np.ndarray:
        """Unbounded log10 LRs (apply `elub` to bound them)."""
        return log10_lrs(self.calibrator, np.atleast_1d(np.asarray(scores, dtype=np.float64)))

    def provenance(self) -> dict:
        d = self.data
        return {
            "file": self.path,
            "name": d["name"],
            "kind": d["kind"],
            "label": d["label"],
            "status": d["status"],
            "created": d["created"],
            "model": d["model"],
            "dataset_file_list_sha256": d["dataset"].get("file_list_sha256"),
            "counts": d["counts"],
            "calibrator": d["calibrator"]["kind"],
            "metrics": d["metrics"].get("cross_validated_bounded"),
            "signature": self.signature.to_json(),
        }


def write_calibration(path: str | Path, data: dict) -> None:
    """Write a calibration; a lab calibration is signed with the examiner key first."""
    write_json_atomically(path, sign_calibration(data) if data.get("kind") == "lab" else data)


def _check_model(data: dict, model_describe: dict, path: str) -> None:
    made_for = data["model"]
    if made_for["id"] != model_describe["id"]:
        raise CalibrationError(
            f"{path}: calibration was made for model {made_for['id']!r}, "
            f"not {model_describe['id']!r}; use a calibration of this model"
        )
    if made_for["weights_sha256"] != model_describe["weights_sha256"]:
        raise CalibrationError(
            f"{path}: calibration was made with weights sha256 {made_for['weights_sha256']}, "
            f"but model {model_describe['id']!r} has {model_describe['weights_sha256']}"
        )


def load_calibration(path: str | Path, model_describe: dict | None) -> Calibration:
    """Read a calibration file (a regular file within MAX_CALIBRATION_BYTES) and check it.

    `model_describe` is the model it must be for (None: skip that check).
    """
    cal_path = Path(path)
    data = read_regular_file(cal_path, MAX_CALIBRATION_BYTES, CalibrationError, "calibration")
    return calibration_from_bytes(data, str(cal_path), model_describe)


def calibration_from_bytes(data: bytes, label: str, model_describe: dict | None) -> Calibration:
    """Check a calibration file's bytes (schema, signature, model, refit) and load it.

    Checks, in order: strict JSON and the schema (core/schemas/calibration.py:
    finite, bounded, ordered ELUB bounds, threshold in [-1, 1], monotone curve,
    kind and status agree); a "lab" calibration's signature (unsigned or
    untrusted: its status says so; modified after signing: refused); the model
    and weights it was made for; and that refitting the calibrator from the
    stored scores reproduces the stored curve.
    """
    raw = parse_json(data, label, CalibrationError)
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise CalibrationError(f"{label}: not a calibration file (schema must be {SCHEMA})")
    signature = raw.pop(SIGNATURE_FIELD, None)
    validated(CalibrationFileModel, raw, label, CalibrationError)
    check = _signature_check(raw, signature, label)
    if raw["kind"] == "lab" and not check.verified:
        raw = {**raw, "status": f"UNVERIFIED ({check.status}) {raw['status']}"}
    if model_describe is not None:
        _check_model(raw, model_describe, label)
    try:
        genuine = np.asarray(raw["scores"]["genuine"], dtype=np.float64)
        impostor = np.asarray(raw["scores"]["impostor"], dtype=np.float64)
        scores = np.concatenate([genuine, impostor])
        same = np.concatenate([np.ones(len(genuine), bool), np.zeros(len(impostor), bool)])
        calibrator = fit_calibrator(scores, same, raw["calibrator"]["kind"])
        cscore = CScoreModel.from_json(raw["cscore"])
        grid = np.asarray(raw["curve"]["cosine"], dtype=np.float64)
        stored = np.asarray(raw["curve"]["log10_lr"], dtype=np.float64)
        refit = log10_lrs(calibrator, grid)
    except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
        raise CalibrationError(f"{label}: damaged calibration file ({exc!r:.200})") from None
    if refit.shape != stored.shape or not np.allclose(refit, stored, rtol=0, atol=REFIT_TOLERANCE):
        raise CalibrationError(
            f"{label}: refitting the {raw['calibrator']['kind']} calibrator from the stored "
            "scores does not reproduce the stored curve (edited file, or different lir/"
            "scikit-learn versions than recorded in 'created')"
        )
    return Calibration(raw, cscore, calibrator, label, data, check)


def _signature_check(content: dict, signature, label: str):
    """The signature of a calibration: over its canonical JSON without the signature."""
    check = verify_bytes(signature, canonical_bytes(content), key_store())
    if check.status == MODIFIED:
        raise CalibrationError(f"{label}: the calibration was {check.summary()}")
    return check


def canonical_bytes(content: dict) -> bytes:
    """The bytes a calibration's signature covers (sorted keys, UTF-8, no spaces)."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign_calibration(content: dict) -> dict:
    """The calibration with a `signature` field made by this installation's examiner key."""
    unsigned = {k: v for k, v in content.items() if k != SIGNATURE_FIELD}
    return {**unsigned, SIGNATURE_FIELD: sign_bytes(canonical_bytes(unsigned), key_store())}
