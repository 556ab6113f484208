"""The workbench session, free of Qt: the state plus what an examiner's session keeps.

A Session holds the WorkbenchState, the engine in use, the calibration choice
(core.strength_of_evidence.calibration_choice), the explainer map cache and the
case lifecycle (new, open, save, export). The GUI calls these methods and only
shows their results; tests drive the same methods without Qt (as glue's
Application sits under its Qt front end).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.case.case_file import CaseVerification, open_case, save_case
from core.case.case_model import ROLES, Case
from core.case.workflow import (
    apply_details,
    case_files,
    case_for_comparison,
    record_explanations,
)
from core.errors import CaseFileError, ModelNotFoundError
from core.models.registry import model_ids
from core.strength_of_evidence.calibration_choice import NONE, CalibrationCache
from core.strength_of_evidence.evidence_section import EvidenceResult, evidence_for
from core.workbench import explainer_catalogue as catalogue
from core.workbench.state import SIDES, WorkbenchState
from core.workbench.undo import Edit, EditKind


@dataclass(frozen=True)
class OpenedCase:
    """A case file read and verified: what the workbench restores from."""

    path: str
    case: Case
    files: dict
    verification: CaseVerification

    def originals(self) -> dict[str, tuple[str, bytes]]:
        """side -> (the original's name, its stored bytes)."""
        return {
            side: (self.case.input(role).name, self.files[role])
            for side, role in zip(SIDES, ROLES, strict=True)
        }


class Session:
    """One examiner's workbench session over one engine."""

    def __init__(self, engine, model_id: str, detector: str = "auto", calibration: str = NONE):
        self.engine = engine
        self.state = WorkbenchState(model_id, detector)
        self.calibration_choice = calibration
        self._calibrations = CalibrationCache()
        self._maps: dict[tuple, dict] = {}
        self.runtime = catalogue.DEFAULT_RUNTIME  # what runs the explainers' black-box passes

    # -- strength of evidence ----------------------------------------------------------

    def choose_calibration(self, choice: str) -> None:
        """Choose "none", "demo" or a calibration file's path (checked once a pair is compared)."""
        edit = Edit(EditKind.CALIBRATION, None, self.calibration_choice, choice)
        self.state.undo.push(edit)
        self.calibration_choice = choice

    def calibration(self):
        """The chosen calibration for the compared model, or None; bad files raise."""
        comparison = self.state.comparison
        if comparison is None:
            return None
        return self._calibrations.get(self.calibration_choice, comparison.model)

    def evidence(self, calibration) -> EvidenceResult:
        comparison = self.state.comparison
        return evidence_for(comparison.cosine, calibration, comparison.model.id)

    # -- explainer maps -------------------------------------------------------------------

    def gallery_for(self, label: str):
        """The background gallery an explainer toggle uses (SDD only), else None."""
        return self.state.gallery if catalogue.TOGGLES[label][0] == "sdd" else None

    def map_key(self, label: str) -> tuple:
        state = self.state
        pair = tuple((state.prepared[s].evidence.sha256, state.face_index[s]) for s in SIDES)
        return catalogue.cache_key(
            label, pair, state.model_id, self.gallery_for(label), self.runtime
        )

    def cached_map(self, label: str) -> dict | None:
        """The toggle's computed maps for the current pair and model, if any."""
        if self.state.comparison is None:
            return None
        return self._maps.get(self.map_key(label))

    def store_map(self, key: tuple, result: dict) -> None:
        self._maps[key] = result

    def store_figures(self, key: tuple, label: str, figures: dict) -> None:
        """Add the fidelity figures (measured after the map) to a stored map."""
        result = self._maps.get(key)
        if result is not None:
            result["figures"] = figures
            result["info"] = catalogue.describe(label, result["explanation"].to_json(), figures)

    # -- the case ---------------------------------------------------------------------------

    def current_case(self) -> tuple[Case, tuple]:
        """The case brought up to date with the comparison, the calibration and the maps.

        Returns (case, the Explanations in the case's order). Raises
        PatchwiseError (a bad calibration) or OSError (an unreadable file).
        """
        state = self.state
        case = case_for_comparison(state.case, state.comparison, self.calibration())
        apply_details(case, state.take_case_details())
        computed = [self.cached_map(label) for label in catalogue.TOGGLES]
        # a map is recorded with its fidelity figures, so only once they are measured
        recordable = [
            c
            for c in computed
            if c and c["figures"] is not None and c["method"] not in catalogue.NOT_RECORDED
        ]
        explanations = record_explanations(case, recordable)
        state.set_case(case)
        return case, explanations

    def originals(self) -> dict[str, bytes]:
        """The compared photos' bytes: a case's stored originals, or the files on disk."""
        originals = {}
        for side, role in zip(SIDES, ROLES, strict=True):
            source = self.state.sources[side]
            originals[role] = source if isinstance(source, bytes) else Path(source).read_bytes()
        return originals

    def save(self, path: str) -> Case:
        """Bring the case up to date and write it atomically to `path`."""
        case, _ = self.current_case()
        save_case(case, path, case_files(case, self.originals(), self.calibration()))
        self.state.mark_saved(case, path)
        return case

    def read(self, path: str) -> OpenedCase:
        """Read and verify a .pwcase; CaseFileError when it cannot be restored here.

        An integrity problem does not stop the reading: `verification` lists it.
        """
        case, files, verification = open_case(path)
        missing = [role for role in ROLES if role not in files]
        if missing:
            raise CaseFileError(f"the stored original(s) {', '.join(missing)} are missing")
        model_id = case.settings["model_id"]
        if model_id not in model_ids():
            raise ModelNotFoundError(f"the case's model {model_id} is missing")
        return OpenedCase(str(path), case, files, verification)

    def restore(self, opened: OpenedCase) -> None:
        """Start restoring an opened case: its faces are chosen once its photos are detected."""
        self.state.begin_restoring(
            opened.case, opened.path, opened.verification, opened.case.settings["model_id"]
        )

    def suggested_name(self, suffix: str) -> str:
        case = self.state.case
        return (case.case_id if case is not None else "case") + suffix
