"""Optional analyses a case can carry: strength of evidence and explainer maps.

Both are recorded so that a re-run can repeat them:
- evidence: the calibration file's bytes travel in the .pwcase (member
  `calibration/<name>`, SHA-256 in `settings.calibration`), and the result is
  `EvidenceResult.to_json()`;
- explainers: method, settings and seed in `settings.explainers`; the result
  keeps the explanation's JSON, its fidelity figures (deletion/insertion AUCs
  against random maps, core/explainers/faithfulness.py) and a 28 x 28
  area-averaged copy of each map, which a re-run compares within
  EXPLAINER_TOLERANCE of the map's peak.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from core.case.case_model import _SAFE_NAME, Case, _plain

CALIBRATION_KEY = "calibration"  # the key of the calibration bytes among a case's stored files
EXPLAINER_TOLERANCE = 1e-4  # relative to the map's largest |value|
SUMMARY_SIDE = 28


# -- evidence ---------------------------------------------------------------------------


def calibration_record(calibration, data: bytes) -> dict:
    """What a case records about the calibration file it used (with its SHA-256)."""
    name = Path(calibration.path).name
    return {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
        "status": calibration.status,
        "demo": calibration.is_demo,
        "stored_as": f"calibration/{_SAFE_NAME.sub('_', name) or 'calibration.json'}",
    }


def add_evidence(case: Case, calibration=None, calibration_bytes: bytes | None = None) -> dict:
    """Compute the evidence section for the case's score and record it (and the calibration)."""
    from core.strength_of_evidence.evidence_section import evidence_for

    result = evidence_for(case.score, calibration, model_id=case.settings["model_id"])
    case.settings["calibration"] = (
        calibration_record(calibration, calibration_bytes) if calibration is not None else None
    )
    case.results["evidence"] = _plain(result.to_json())
    case.log("evidence computed", result.calibration_status)
    return case.results["evidence"]


def _stored_calibration(case: Case, files: dict[str, bytes]):
    record = case.settings.get("calibration")
    if not record:
        return None
    from core.strength_of_evidence.calibration_file import load_calibration

    with tempfile.TemporaryDirectory(prefix="patchwise-calibration-") as tmp:
        path = Path(tmp) / record["file"]
        path.write_bytes(files[CALIBRATION_KEY])
        return load_calibration(path, case.provenance["model"])


# -- explainers ---------------------------------------------------------------------------


def _summary(heatmap: np.ndarray) -> list:
    small = cv2.resize(
        np.asarray(heatmap, np.float32), (SUMMARY_SIDE, SUMMARY_SIDE), interpolation=cv2.INTER_AREA
    )
    return small.astype(np.float64).tolist()


def _settings_from_json(settings_class, data: dict):
    return settings_class(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def run_explainer(
    comparison, method: str, settings, seed: int, progress=None, cancel=None, fidelity_settings=None
):
    """(Explanation, fidelity dict) for one method on a Comparison.

    Fidelity uses FidelitySettings() (20 steps, 3 random maps) unless given.
    """
    from core.explainers.base import pair_from_comparison
    from core.explainers.faithfulness import FidelitySettings, fidelity
    from core.explainers.registry import explain

    explanation = explain(method, comparison, settings, seed, progress, cancel)
    pair = pair_from_comparison(comparison)
    figures = fidelity(
        pair, explanation, fidelity_settings or FidelitySettings(), seed, progress, cancel
    )
    figures.pop("curves", None)
    figures.pop("fractions", None)
    return explanation, figures


def add_explanations(
    case: Case,
    comparison,
    methods: list[str],
    seed: int = 0,
    progress=None,
    cancel=None,
    fidelity_settings=None,
) -> list:
    """Run each explainer with its default settings and `seed`; record them; return them."""
    from core.explainers.registry import spec_for

    explanations = []
    for method in methods:
        settings = spec_for(method).default_settings()
        explanation, figures = run_explainer(
            comparison, method, settings, seed, progress, cancel, fidelity_settings
        )
        record_explanation(case, method, settings, seed, explanation, figures)
        explanations.append(explanation)
    return explanations


def record_explanation(case: Case, method: str, settings, seed: int, explanation, figures: dict):
    """Record one computed explanation and its fidelity figures (as add_explanations does).

    The GUI uses this for the maps it has already computed; `figures` may still
    hold the fidelity curves, which are not recorded.
    """
    from core.explainers.registry import spec_for

    figures = {k: v for k, v in figures.items() if k not in ("curves", "fractions")}
    case.settings["explainers"].append(
        _plain({"method": method, "seed": seed, "settings": asdict(settings)})
    )
    case.results["explainers"].append(
        _plain(
            {
                "method": method,
                "label": spec_for(method).label,
                "seed": seed,
                "explanation": explanation.to_json(),
                "fidelity": figures,
                "map_summary": {
                    "A": _summary(explanation.map_a),
                    "B": _summary(explanation.map_b),
                },
            }
        )
    )
    case.log(
        "explainer run",
        f"{method} (seed {seed}): deletion AUC {figures['deletion_auc']:.4f} vs random "
        f"{figures['random_deletion_auc']:.4f}, insertion AUC {figures['insertion_auc']:.4f} "
        f"vs random {figures['random_insertion_auc']:.4f}",
    )


def explainer_index(case: Case, method: str, settings, seed: int) -> int | None:
    """Where the case records this explainer run (method, settings, seed), or None."""
    wanted = _plain({"method": method, "seed": seed, "settings": asdict(settings)})
    for index, recorded in enumerate(case.settings.get("explainers") or []):
        if recorded == wanted:
            return index
    return None


# -- re-run ---------------------------------------------------------------------------------


def rerun_analyses(case: Case, comparison, files: dict[str, bytes], progress=None, cancel=None):
    """Repeat the case's evidence and explainers on a re-computed Comparison.

    Returns (differences, explanations): every difference beyond tolerance, and
    the re-computed explanations (for the report's figures).
    """
    differences = []
    stored = case.results.get("evidence")
    if stored is not None:
        from core.strength_of_evidence.evidence_section import evidence_for

        calibration = _stored_calibration(case, files)
        fresh = _plain(
            evidence_for(
                comparison.cosine, calibration, model_id=case.settings["model_id"]
            ).to_json()
        )
        for key in ("log10_lr", "decision"):
            if not _close(stored.get(key), fresh.get(key)):
                differences.append(f"evidence {key}: {stored.get(key)} then, {fresh.get(key)} now")
        old_c, new_c = (stored.get("c_score") or {}), (fresh.get("c_score") or {})
        if not _close(old_c.get("c_score"), new_c.get("c_score")):
            differences.append(f"C-Score: {old_c.get('c_score')} then, {new_c.get('c_score')} now")
    explanations = []
    for recorded, result in zip(
        case.settings.get("explainers") or [], case.results.get("explainers") or [], strict=True
    ):
        from core.explainers.registry import explain, spec_for

        spec = spec_for(recorded["method"])
        settings = _settings_from_json(spec.settings_class, recorded["settings"])
        runtime = result.get("explanation", {}).get("runtime", {}).get("runtime", "torch")
        explanation = explain(
            recorded["method"],
            comparison,
            settings,
            recorded["seed"],
            progress,
            cancel,
            runtime=runtime,
        )
        explanations.append(explanation)
        for role, heat in (("A", explanation.map_a), ("B", explanation.map_b)):
            old = np.asarray(result["map_summary"][role])
            new = np.asarray(_summary(heat))
            peak = max(float(np.abs(old).max()), 1e-12)
            diff = float(np.abs(old - new).max()) / peak
            if diff > EXPLAINER_TOLERANCE:
                differences.append(
                    f"{recorded['method']} map {role} differs by {diff:.2g} of its peak"
                )
    return differences, explanations


def _close(old, new, tolerance: float = 1e-6) -> bool:
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return abs(float(old) - float(new)) <= tolerance
    return old == new
