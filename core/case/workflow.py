"""The one case workflow: build a case from a comparison, keep it current, record analyses.

The CLI (`report`) and the workbench both build cases here, so a case has one
shape whichever front end made it. Every audit entry the workflow causes is
appended by a function of this package (`Case.log` is the only writer):

- build_case: "case created", "landmarks placed by hand" (when they were), then
  "evidence computed";
- case_for_comparison: "comparison replaced" when the pair, model or score
  changed, "evidence computed" when the calibration in use changed;
- apply_details: "case details edited";
- set_threshold: "examiner threshold set";
- record_explanations: "explainer run" for each map first recorded, "explainer sanity
  check" for each randomisation check first recorded (also core.case.analyses.add_explanations);
- record_report: "report exported" (after core.report.write_report wrote it);
- core.case.rerun.rerun_case: "re-run"; core.case.case_file.save_case: "case saved".

Re-running a saved case lives in core/case/rerun.py; verifying its file in
core/case/case_file.py.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, fields
from pathlib import Path

from core.case.analyses import (
    CALIBRATION_KEY,
    add_evidence,
    explainer_index,
    record_explanation,
    record_sanity,
)
from core.case.case_model import DEFAULT_HD, DEFAULT_HP, Case, check_case_id, check_case_text


@dataclass(frozen=True)
class CaseDetails:
    """Who asked, who examined, and the propositions; an empty case id means "generate one"."""

    case_id: str = ""
    examiner: str = ""
    agency: str = ""
    notes: str = ""
    hp: str = DEFAULT_HP
    hd: str = DEFAULT_HD

    @classmethod
    def from_mapping(cls, values: dict) -> CaseDetails:
        """From edited text (a dialog, the CLI), stripped.

        A bad case id, or a text longer than TEXT_LIMITS, raises UsageError.
        """
        edited = {f.name: str(values.get(f.name) or "").strip() for f in fields(cls)}
        if edited["case_id"]:
            edited["case_id"] = check_case_id(edited["case_id"])
        check_case_text(**{k: v for k, v in edited.items() if k != "case_id"})
        return cls(**edited)

    @classmethod
    def of_case(cls, case: Case) -> CaseDetails:
        return cls(**{f.name: getattr(case, f.name) for f in fields(cls)})

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def calibration_bytes(calibration) -> bytes | None:
    """The calibration file's bytes (stored in the case beside its SHA-256), or None."""
    return None if calibration is None else calibration.source_bytes


def build_case(
    comparison,
    details: CaseDetails | None = None,
    calibration=None,
    *,
    detector_pack: str | None = None,
    max_pixels: int | None = None,
    threshold: float | None = None,
) -> Case:
    """A new case recording `comparison`, its details and its evidence section."""
    details = details or CaseDetails()
    case = Case.from_comparison(
        comparison,
        case_id=details.case_id or None,
        examiner=details.examiner,
        agency=details.agency,
        notes=details.notes,
        hp=details.hp or DEFAULT_HP,
        hd=details.hd or DEFAULT_HD,
        detector_pack=detector_pack,
        max_pixels=max_pixels,
        threshold=threshold,
    )
    placed = hand_placed_landmarks(comparison)
    if placed:
        case.settings["landmarks"] = placed  # the re-run aligns with them again
        case.log("landmarks placed by hand", ", ".join(f"image {role}" for role in placed))
    add_evidence(case, calibration, calibration_bytes(calibration))
    return case


def hand_placed_landmarks(comparison) -> dict[str, list]:
    """Role -> the 5 points the examiner placed, for the sides whose face was placed by hand."""
    placed = {}
    for role, side in (("A", comparison.a), ("B", comparison.b)):
        face = side.prepared.faces[side.index]
        if face.placed_by_hand:
            placed[role] = [[float(x), float(y)] for x, y in face.landmarks]
    return placed


def case_matches(case: Case, comparison) -> bool:
    """Whether `case` records exactly this comparison (originals, faces, model, score)."""
    sides = (("A", comparison.a), ("B", comparison.b))
    return (
        all(
            case.input(role).sha256 == side.prepared.evidence.sha256
            and case.input(role).face_index == side.index
            for role, side in sides
        )
        and case.settings.get("model_id") == comparison.model.id
        and abs(case.score - float(comparison.cosine)) <= 1e-6
    )


def case_for_comparison(case: Case | None, comparison, calibration=None) -> Case:
    """The current case brought up to date with `comparison` and the calibration in use.

    An unchanged pair, model and score keeps the case as it is; anything else
    replaces its inputs, settings, provenance and results and says so in its
    (append-only) audit log. The evidence section is recomputed only when the
    calibration differs from the one the case records.
    """
    if case is None:
        return build_case(comparison, calibration=calibration)
    if not case_matches(case, comparison):
        fresh = Case.from_comparison(comparison, case_id=case.case_id)
        case.inputs, case.settings = fresh.inputs, fresh.settings
        case.provenance, case.results = fresh.provenance, fresh.results
        case.log("comparison replaced", fresh.audit_log[-1].detail)
    data = calibration_bytes(calibration)
    recorded = case.settings.get("calibration")
    wanted = hashlib.sha256(data).hexdigest() if data else None
    if case.results.get("evidence") is None or (recorded or {}).get("sha256") != wanted:
        add_evidence(case, calibration, data)
    return case


def record_explanations(case: Case, computed: list[dict]) -> tuple:
    """Record explainer maps computed outside the case (once each), and the randomisation
    check of a map when it was run (`sanity`, which may come after the map was recorded).

    `computed` holds core.workbench.jobs.explain_job results. Returns the
    Explanation objects in the order of case.results["explainers"], None where
    the case records a run whose maps this session does not hold.
    """
    for item in computed:
        found = explainer_index(case, item["method"], item["settings"], item["seed"])
        if found is None:
            record_explanation(
                case,
                item["method"],
                item["settings"],
                item["seed"],
                item["explanation"],
                item["figures"],
            )
            found = len(case.results["explainers"]) - 1
        if item.get("sanity"):
            record_sanity(case, found, item["sanity"])
    explanations = [None] * len(case.results.get("explainers") or [])
    for item in computed:
        found = explainer_index(case, item["method"], item["settings"], item["seed"])
        explanations[found] = item["explanation"]
    return tuple(explanations)


def case_files(case: Case, originals: dict[str, bytes], calibration=None) -> dict[str, bytes]:
    """What save_case stores beside the manifest: photos "A", "B" and the calibration used."""
    files = dict(originals)
    if case.settings.get("calibration") and calibration is not None:
        files[CALIBRATION_KEY] = calibration_bytes(calibration)
    return files


def apply_details(case: Case, details: CaseDetails | None) -> bool:
    """Write edited case details into `case`; logs one "case details edited" entry.

    An empty case id keeps the case's own. False when nothing changed.
    """
    if details is None:
        return False
    wanted = details.as_dict()
    changed = [
        name
        for name, value in wanted.items()
        if (value or name != "case_id") and getattr(case, name) != value
    ]
    if not changed:
        return False
    for name in changed:
        setattr(case, name, wanted[name])
    case.log("case details edited", "changed: " + ", ".join(changed))
    return True


def record_report(case: Case, out_path: str | os.PathLike, digest: str) -> None:
    """Log the PDF report written to `out_path` (its size and SHA-256) in the case."""
    size = os.stat(out_path).st_size
    case.log("report exported", f"{Path(out_path).name}, {size:,} bytes, SHA-256 {digest}")


def set_threshold(case: Case, threshold: float | None) -> bool:
    """Record the examiner's decision threshold (None: the model's or calibration's own).

    It applies only without a calibration (which brings its own threshold). Logs
    one "examiner threshold set" entry; False when it did not change.
    """
    if case.settings.get("threshold") == threshold:
        return False
    case.settings["threshold"] = threshold
    detail = "cleared: the default applies" if threshold is None else f"{threshold:+.4f}"
    case.log("examiner threshold set", detail)
    return True
