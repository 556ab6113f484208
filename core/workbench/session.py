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
from core.case.search_origin import add_search_origin, origin_applies
from core.case.workflow import (
    apply_details,
    case_files,
    case_for_comparison,
    record_explanations,
    set_threshold,
)
from core.errors import CaseFileError, ModelNotFoundError
from core.models.registry import load_model
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


def read_originals(sources: dict) -> dict[str, bytes]:
    """Role -> bytes for the sides' sources (a case's stored bytes, or a path to read)."""
    return {
        role: source if isinstance(source, bytes) else Path(source).read_bytes()
        for role, source in ((role, sources[side]) for side, role in zip(SIDES, ROLES, strict=True))
    }


class Session:
    """One examiner's workbench session over one engine."""

    def __init__(self, engine, model_id: str, detector: str = "auto", calibration: str = NONE):
        self.engine = engine
        self.state = WorkbenchState(model_id, detector)
        self.calibration_choice = calibration
        self.threshold: float | None = None  # the examiner's; None: the default applies
        self._calibrations = CalibrationCache()
        self._maps: dict[tuple, dict] = {}
        self.search_origin: dict | None = None  # set when K was opened from a gallery search
        self.runtime = catalogue.DEFAULT_RUNTIME  # what runs the explainers' black-box passes

    # -- strength of evidence ----------------------------------------------------------

    def choose_calibration(self, choice: str) -> None:
        """Choose "none", "demo" or a calibration file's path (checked once a pair is compared)."""
        edit = Edit(EditKind.CALIBRATION, None, self.calibration_choice, choice)
        self.state.undo.push(edit)
        self.calibration_choice = choice

    def choose_threshold(self, threshold: float | None) -> None:
        """The examiner's decision threshold on the score (None: the documented default).

        Used only without a calibration, which brings its own threshold.
        """
        self.state.undo.push(Edit(EditKind.THRESHOLD, None, self.threshold, threshold))
        self.threshold = threshold
        if self.state.comparison is not None:
            self.state.mark_dirty()

    def decision_threshold(self, result: EvidenceResult) -> tuple[float | None, str]:
        """(threshold, where it comes from) for the gauge: the examiner's when set and
        uncalibrated, beside the default's provenance; else the evidence's own."""
        if self.threshold is None or result.calibration is not None:
            return result.threshold, result.threshold_source
        default = (
            f"default {result.threshold:+.3f}: {result.threshold_source}"
            if result.threshold is not None
            else result.threshold_source
        )
        return self.threshold, f"set by the examiner ({default})"

    def calibration(self):
        """The chosen calibration for the compared model, or None; bad files raise."""
        comparison = self.state.comparison
        if comparison is None:
            return None
        return self.calibration_for(comparison.model)

    def calibration_for(self, model_describe) -> object | None:
        """The chosen calibration for a model (its describe() record), or None; bad ones raise."""
        return self._calibrations.get(self.calibration_choice, model_describe)

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

    def store_sanity(self, key: tuple, sanity: dict) -> None:
        """Add the randomisation check's record to a stored map (the case records it)."""
        result = self._maps.get(key)
        if result is not None:
            result["sanity"] = sanity

    # -- the case ---------------------------------------------------------------------------

    def current_case(self) -> tuple[Case, tuple]:
        """The case brought up to date with the comparison, the calibration and the maps.

        Returns (case, the Explanations in the case's order). Raises
        PatchwiseError (a bad calibration) or OSError (an unreadable file).
        """
        state = self.state
        case = case_for_comparison(state.case, state.comparison, self.calibration())
        origin = self.search_origin
        if origin and case.settings.get("search") != origin and origin_applies(case, origin):
            add_search_origin(case, origin)
        apply_details(case, state.take_case_details())
        set_threshold(case, self.threshold)
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
        return read_originals(dict(self.state.sources))

    def save_job(self, path: str):
        """(the case brought up to date, a worker job that writes it to `path`).

        The case is updated here, on the caller's thread; the job reads the
        photos, writes and signs the file and returns the SignatureCheck (call mark_saved
        with it when it has finished).
        """
        case, _ = self.current_case()
        sources, calibration = dict(self.state.sources), self.calibration()

        def job(progress, cancelled):
            try:
                return save_case(case, path, case_files(case, read_originals(sources), calibration))
            except OSError as exc:
                raise CaseFileError(f"cannot write the case to {path}: {exc}") from None

        return case, job

    def save(self, path: str) -> Case:
        """Bring the case up to date and write (and sign) it atomically to `path`, here."""
        case, job = self.save_job(path)
        signature = job(lambda *_: None, lambda: False)
        self.state.mark_saved(case, path, signature)
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
        try:
            load_model(model_id, self.engine.device)  # bundled, checkpoint or pack model
        except ModelNotFoundError as exc:
            raise ModelNotFoundError(f"the case's model {model_id} is missing: {exc}") from exc
        return OpenedCase(str(path), case, files, verification)

    def new_case(self) -> None:
        """An empty workbench: no photos, no case, the default threshold."""
        self.threshold = None
        self.state.new_case()

    def restore(self, opened: OpenedCase) -> None:
        """Start restoring an opened case: its faces are chosen once its photos are detected."""
        self.threshold = opened.case.settings.get("threshold")
        self.state.begin_restoring(
            opened.case, opened.path, opened.verification, opened.case.settings["model_id"]
        )

    def suggested_name(self, suffix: str) -> str:
        case = self.state.case
        return (case.case_id if case is not None else "case") + suffix
