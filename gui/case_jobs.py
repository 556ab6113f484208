"""The case workflow's core calls, free of Qt: build, save and report a case.

The workbench keeps one current case (core.case.Case). Saving or exporting
first brings it up to date with the comparison on screen: an unchanged pair,
model and score keeps the case as it is; anything else replaces its inputs,
settings, provenance and results and says so in its audit log (the log is
append-only, so nothing earlier is lost). The evidence section is recomputed
only when the calibration in use differs from the one the case records.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.case import Case
from core.case.analyses import (
    CALIBRATION_KEY,
    add_evidence,
    explainer_index,
    record_explanation,
)
from core.errors import PatchwiseError
from core.report.pdf_report import write_report
from gui.workers import ENGINE_LOCK


def case_matches(case: Case, comparison) -> bool:
    """Whether `case` records exactly this comparison (originals, faces, model, score)."""
    sides = (("A", comparison.a), ("B", comparison.b))
    return (
        all(
            case.input(role).sha256 == side.prepared.evidence.sha256
            and case.input(role).face_index == side.index
            for role, side in sides
        )
        and case.settings.get("model_id") == comparison.model["id"]
        and abs(case.score - float(comparison.cosine)) <= 1e-6
    )


def case_for_comparison(
    case: Case | None, comparison, calibration=None, calibration_bytes: bytes | None = None
) -> Case:
    """The current case, brought up to date with `comparison` and the calibration in use."""
    if case is None:
        case = Case.from_comparison(comparison)
    elif not case_matches(case, comparison):
        fresh = Case.from_comparison(comparison, case_id=case.case_id)
        case.inputs, case.settings = fresh.inputs, fresh.settings
        case.provenance, case.results = fresh.provenance, fresh.results
        case.log("comparison replaced", fresh.audit_log[-1].detail)
    recorded = case.settings.get("calibration")
    wanted = hashlib.sha256(calibration_bytes).hexdigest() if calibration_bytes else None
    if case.results.get("evidence") is None or (recorded or {}).get("sha256") != wanted:
        add_evidence(case, calibration, calibration_bytes)
    return case


def record_explanations(case: Case, computed: list[dict]) -> tuple:
    """Record the explainer maps the workbench computed for this pair (once each).

    `computed` holds explainer_jobs results. Returns the Explanation objects in
    the order of case.results["explainers"], None where the case records a run
    whose maps this session does not hold (the report then says so).
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
    explanations = [None] * len(case.results.get("explainers") or [])
    for item in computed:
        found = explainer_index(case, item["method"], item["settings"], item["seed"])
        explanations[found] = item["explanation"]
    return tuple(explanations)


def stored_files(case: Case, originals: dict[str, bytes], calibration_bytes: bytes | None):
    """The files save_case needs: the photos ("A", "B") and the calibration's bytes, if used."""
    files = dict(originals)
    if case.settings.get("calibration") and calibration_bytes is not None:
        files[CALIBRATION_KEY] = calibration_bytes
    return files


def report_job(case: Case, comparison, out_pdf: str, verification=None, explanations=()):
    """Render the case's PDF report in a worker; returns (path, SHA-256).

    core.report.write_report has no cancel flag: once started, the export runs
    to the end (it takes seconds). A file that cannot be written is an expected
    error (PatchwiseError), shown as such.
    """

    def job(progress, cancelled):
        try:
            with ENGINE_LOCK:
                digest = write_report(
                    case,
                    comparison,
                    out_pdf,
                    verification=verification,
                    explanations=explanations,
                    progress=progress,
                )
        except OSError as exc:
            raise PatchwiseError(f"cannot write the report to {out_pdf}: {exc}") from None
        return str(Path(out_pdf)), digest

    return job


def apply_details(case: Case, details: dict | None) -> bool:
    """Write edited case details (WorkbenchState.case_details) into `case`.

    Logs one "case details edited" audit entry naming the fields that changed;
    an empty case id keeps the case's own. False when nothing changed.
    """
    if not details:
        return False
    changed = [
        name
        for name, value in details.items()
        if (value or name != "case_id") and getattr(case, name) != value
    ]
    if not changed:
        return False
    for name in changed:
        setattr(case, name, details[name])
    case.log("case details edited", "changed: " + ", ".join(changed))
    return True
