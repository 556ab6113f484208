"""Re-run a case from its stored originals and settings, and compare with its stored result.

Reproduced means, against the result stored in the case:
- the same original SHA-256s, model weights and detector weights (exact);
- the same chosen face boxes, within BOX_TOLERANCE_PX pixels;
- the cosine, every pair term and every bias term within TERM_TOLERANCE (absolute).

TERM_TOLERANCE = 1e-6 is two orders above the float32 rounding we see between
runs of the same build on one device (0 on CPU here), and two below the 1e-4 a
report prints. A re-run on another device (CUDA vs CPU) or another torch build
may legitimately differ by more; the differences are then listed with their
sizes rather than hidden.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.case.analyses import rerun_analyses
from core.case.case_model import Case

TERM_TOLERANCE = 1e-6
BOX_TOLERANCE_PX = 1e-3


@dataclass(frozen=True)
class RerunResult:
    """The outcome of a re-run: reproduced or not, every difference, and the new comparison."""

    reproduced: bool
    differences: tuple[str, ...]
    measures: dict  # largest absolute differences found
    comparison: object  # core.engine.Comparison recomputed from the originals
    explanations: tuple = ()  # core.explainers Explanation objects, re-computed in case order

    def summary(self) -> str:
        sizes = (
            f"|Δcosine| {self.measures['cosine_abs_diff']:.1e}, "
            f"max |Δ pair term| {self.measures['pair_matrix_max_abs_diff']:.1e}"
        )
        if self.reproduced:
            return f"reproduced (tolerance {TERM_TOLERANCE:g}; {sizes})"
        return "NOT reproduced: " + "; ".join(self.differences)


def engine_for_case(case: Case, device=None):
    """An Engine with the detector kind, pack and pixel limit the case was computed with."""
    from core.detection.select import make_detector
    from core.device import select_device
    from core.engine import Engine

    device = device if device is not None else select_device("auto")
    settings = case.settings
    detector = make_detector(
        settings.get("detector_kind", "mtcnn"),
        pack_dir=settings.get("detector_pack"),
        device=device,
    )
    return Engine(detector, device, max_pixels=settings.get("max_pixels"))


def rerun_case(
    case: Case, originals: dict[str, bytes], engine, progress=None, cancel=None
) -> RerunResult:
    """Recompute the comparison (and any evidence and explainers) from the stored files.

    `originals` is what open_case returned. The outcome is logged in the case.
    `progress`/`cancel` are passed to the explainers, the only slow part.
    """
    a, b = case.input("A"), case.input("B")
    with tempfile.TemporaryDirectory(prefix="patchwise-rerun-") as tmp:
        paths = []
        for item in (a, b):
            folder = Path(tmp) / item.role
            folder.mkdir()
            path = folder / Path(item.archive_path).name
            path.write_bytes(originals[item.role])
            paths.append(path)
        placed = case.settings.get("landmarks") or {}  # points placed by hand, per role
        comparison = engine.compare(
            paths[0],
            paths[1],
            case.settings["model_id"],
            face_a=a.face_index,
            face_b=b.face_index,
            landmarks_a=np.asarray(placed["A"]) if "A" in placed else None,
            landmarks_b=np.asarray(placed["B"]) if "B" in placed else None,
        )
    differences, measures = compare_results(case.comparison_json, comparison.to_json())
    more, explanations = rerun_analyses(case, comparison, originals, progress, cancel)
    differences += more
    result = RerunResult(
        not differences, tuple(differences), measures, comparison, tuple(explanations)
    )
    case.log("re-run", result.summary())
    return result


def compare_results(stored: dict, fresh: dict) -> tuple[list[str], dict]:
    """Every difference between two comparison JSONs beyond the tolerances, and their sizes."""
    differences = []
    for role in ("a", "b"):
        old, new = stored[role], fresh[role]
        if old["image"]["sha256"] != new["image"]["sha256"]:
            differences.append(f"image {role.upper()}: different original (SHA-256)")
        box_diff = _box_diff(old, new)
        if box_diff is None:
            differences.append(f"image {role.upper()}: the chosen face no longer exists")
        elif box_diff > BOX_TOLERANCE_PX:
            differences.append(f"image {role.upper()}: face box moved by up to {box_diff:.3g} px")
    for part in ("model", "detector"):
        old_hashes, new_hashes = _hashes(stored[part]), _hashes(fresh[part])
        if old_hashes != new_hashes:
            differences.append(f"{part} weights differ: {old_hashes} then, {new_hashes} now")
    cosine_diff = abs(stored["score"]["cosine"] - fresh["score"]["cosine"])
    pair_diff = _max_abs_diff(
        stored["decomposition"]["pair_matrix"], fresh["decomposition"]["pair_matrix"]
    )
    bias_old, bias_new = stored["decomposition"]["bias_terms"], fresh["decomposition"]["bias_terms"]
    bias_diff = max(
        _max_abs_diff(bias_old["a"], bias_new["a"]),
        _max_abs_diff(bias_old["b"], bias_new["b"]),
        abs(bias_old["bias_bias"] - bias_new["bias_bias"]),
    )
    if cosine_diff > TERM_TOLERANCE:
        differences.append(f"cosine differs by {cosine_diff:.3g} (tolerance {TERM_TOLERANCE:g})")
    if pair_diff > TERM_TOLERANCE:
        differences.append(f"pair terms differ by up to {pair_diff:.3g}")
    if bias_diff > TERM_TOLERANCE:
        differences.append(f"bias terms differ by up to {bias_diff:.3g}")
    measures = {
        "cosine_abs_diff": cosine_diff,
        "pair_matrix_max_abs_diff": pair_diff,
        "bias_terms_max_abs_diff": bias_diff,
        "stored_cosine": stored["score"]["cosine"],
        "rerun_cosine": fresh["score"]["cosine"],
        "stored_app_version": stored.get("app_version"),
        "rerun_app_version": fresh.get("app_version"),
        "rerun_device": fresh.get("device"),
    }
    return differences, measures


def _box_diff(old_side: dict, new_side: dict) -> float | None:
    index = old_side["chosen_face"]
    if index >= len(new_side["faces"]):
        return None
    old_box = np.asarray(old_side["faces"][index]["box"], dtype=np.float64)
    new_box = np.asarray(new_side["faces"][index]["box"], dtype=np.float64)
    return float(np.abs(old_box - new_box).max())


def _max_abs_diff(old, new) -> float:
    old, new = np.asarray(old, dtype=np.float64), np.asarray(new, dtype=np.float64)
    if old.shape != new.shape:
        return float("inf")
    return float(np.abs(old - new).max()) if old.size else 0.0


def _hashes(description) -> list[str]:
    """Every value under a key containing 'sha256', anywhere in a description, sorted."""
    found = []
    if isinstance(description, dict):
        for key, value in description.items():
            if "sha256" in key and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_hashes(value))
    elif isinstance(description, list):
        for value in description:
            found.extend(_hashes(value))
    return sorted(found)
