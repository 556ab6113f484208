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
import math
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
        "stored_as": f"calibration/{_SAFE_NAME.sub('_', name).lstrip('.') or 'calibration.json'}",
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
    """The case's calibration, read from its stored bytes in memory (nothing is written)."""
    record = case.settings.get("calibration")
    if not record:
        return None
    from core.strength_of_evidence.calibration_file import calibration_from_bytes

    label = f"stored calibration {record['file']!r}"
    return calibration_from_bytes(files[CALIBRATION_KEY], label, case.provenance["model"])


# Fields a re-run does not compare: where the calibration and scale files lay on the machine.
_UNCOMPARED = ("calibration.file", "verbal_scale.file")
EVIDENCE_TOLERANCE = 1e-9  # relative; the evidence is recomputed from the same stored score
FRESH_LOG10_TOLERANCE = 1e-3  # absolute on log10 LR from the re-computed score


def evidence_differences(stored: dict, expected: dict, path: str = "") -> list[str]:
    """Every field of two evidence JSONs that differs (numbers: relative EVIDENCE_TOLERANCE)."""
    if path.lstrip(".") in _UNCOMPARED:
        return []
    if isinstance(stored, dict) and isinstance(expected, dict):
        if set(stored) != set(expected):
            return [f"evidence {path or 'section'}: fields differ"]
        return [
            d
            for key in sorted(expected)
            for d in evidence_differences(stored[key], expected[key], f"{path}.{key}")
        ]
    if isinstance(stored, list) and isinstance(expected, list):
        if len(stored) != len(expected):
            return [f"evidence {path.lstrip('.')}: lengths differ"]
        return [
            d
            for n, (a, b) in enumerate(zip(stored, expected, strict=True))
            for d in evidence_differences(a, b, f"{path}[{n}]")
        ]
    if _is_number(stored) and _is_number(expected):
        scale = max(abs(float(stored)), abs(float(expected)), 1e-300)
        if within(abs(float(stored) - float(expected)) / scale, EVIDENCE_TOLERANCE):
            return []
    elif stored == expected and type(stored) is type(expected):
        return []
    return [f"evidence {path.lstrip('.')}: {stored!r} stored, {expected!r} recomputed"]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    sanity_levels: int | None = None,
) -> list:
    """Run each explainer with its default settings and `seed`; record them; return them.

    With `sanity_levels`, each post-hoc explainer also gets the cascading
    randomisation check (core/explainers/sanity.py), recorded as its `sanity`.
    """
    from core.explainers.registry import randomisation_check, spec_for

    explanations = []
    for method in methods:
        settings = spec_for(method).default_settings()
        explanation, figures = run_explainer(
            comparison, method, settings, seed, progress, cancel, fidelity_settings
        )
        record_explanation(case, method, settings, seed, explanation, figures)
        if sanity_levels and spec_for(method).function is not None:
            result = randomisation_check(
                method, comparison, explanation, settings, seed, sanity_levels, cancel
            )
            record_sanity(case, len(case.results["explainers"]) - 1, result)
        explanations.append(explanation)
    return explanations


def record_sanity(case: Case, index: int, sanity: dict) -> bool:
    """Record the randomisation check (core/explainers/sanity.py) of the case's explainer
    run `index` and log its verdict; False when the case already holds this result."""
    from core.explainers.sanity import sanity_verdict

    record = case.results["explainers"][index]
    sanity = _plain(sanity)
    if record.get("sanity") == sanity:
        return False
    record["sanity"] = sanity
    verdict = sanity_verdict(sanity["levels"])
    outcome = "passed" if verdict["passed"] else "failed"
    case.log(
        "explainer sanity check",
        f"{record['method']} (seed {record['seed']}): {outcome}, largest |rho| "
        f"{verdict['value']:.3f} with every layer re-drawn (threshold {verdict['threshold']})",
    )
    return True


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


def within(difference: float, tolerance: float) -> bool:
    """True only for a finite difference within tolerance (NaN and inf fail)."""
    return math.isfinite(difference) and difference <= tolerance


def rerun_analyses(case: Case, comparison, files: dict[str, bytes], progress=None, cancel=None):
    """Repeat the case's evidence and explainers on a re-computed Comparison.

    Returns (differences, explanations): every difference beyond tolerance, and
    the re-computed explanations (for the report's figures).
    """
    differences = []
    stored = case.results.get("evidence")
    if stored is not None:
        differences += _evidence_check(case, stored, comparison.cosine, files)
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
            if not within(diff, EXPLAINER_TOLERANCE):
                differences.append(
                    f"{recorded['method']} map {role} differs by {diff:.2g} of its peak"
                )
    return differences, explanations


def _evidence_check(case: Case, stored: dict, fresh_score: float, files) -> list[str]:
    """Two checks of everything the report prints from the evidence section.

    1. Recomputed from the STORED score with the stored calibration, every
       field must equal the stored one (a forged LR, verbal statement,
       decision, threshold, C-Score or status is caught here).
    2. From the RE-COMPUTED score: the same decision and verbal category, and
       log10 LR within FRESH_LOG10_TOLERANCE.
    """
    from core.strength_of_evidence.evidence_section import evidence_for

    calibration = _stored_calibration(case, files)
    model_id = case.settings["model_id"]
    expected = _plain(evidence_for(case.score, calibration, model_id=model_id).to_json())
    differences = evidence_differences(stored, expected)
    if not math.isfinite(fresh_score):
        return [*differences, f"the re-computed score is not finite ({fresh_score})"]
    fresh = _plain(evidence_for(fresh_score, calibration, model_id=model_id).to_json())
    if fresh["decision"] != stored["decision"]:
        differences.append(f"decision: {stored['decision']} stored, {fresh['decision']} now")
    category = (fresh.get("verbal") or {}).get("category")
    if category != (stored.get("verbal") or {}).get("category"):
        differences.append(f"verbal category now {category!r}")
    if stored.get("log10_lr") is not None and not within(
        abs(stored["log10_lr"] - fresh["log10_lr"]), FRESH_LOG10_TOLERANCE
    ):
        differences.append(f"log10 LR {stored['log10_lr']} stored, {fresh['log10_lr']} now")
    return differences
