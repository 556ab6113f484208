"""The workbench's state, free of Qt: what is loaded, chosen and selected.

Views subscribe to typed events (`Event`) and redraw from this state; user
intents (choose face 2, select cell (i, j), click a point on K's face) are
methods here, and state changes only through them, so tests drive and inspect
the workbench without pixels (as napari's ViewerModel). Nothing here computes a
result: comparisons come from the engine (through core/workbench/jobs.py run
by the GUI's workers) and are only stored and indexed.

Case details (id, examiner, agency, notes, Hp, Hd) edited before or after a
case exists are kept in `case_details` and applied to the case when it is
created or saved (core.case.workflow.apply_details).

Unsaved work: `dirty` turns True when the photos, faces, model or comparison
change, and False when the case is saved, opened or a new one started. While
an opened case is being restored (its photos loaded and re-compared) nothing
counts as a change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from core.case.workflow import CaseDetails
from core.workbench.undo import Edit, EditKind, UndoStack

SIDES = ("q", "k")
SIDE_TITLES = {"q": "Questioned (Q)", "k": "Reference (K)"}


class Event(Enum):
    """What changed; listeners of PHOTO get the side ("q" or "k"), the others nothing."""

    PHOTO = "photo"  # a side's photo, its detected faces or its chosen face
    COMPARISON = "comparison"  # the comparison appeared, was replaced or cleared
    SELECTION = "selection"  # the selected pair cell
    ERROR = "error"  # the error message shown in the banner
    CASE = "case"  # the current case, its file, its details or its unsaved state
    GALLERY = "gallery"  # the background gallery for SDD


@dataclass(frozen=True)
class Selection:
    """A selected pair cell (i on Q, j on K) and which side's click made it.

    `focus` is "q" when the user picked a patch on Q (its row of terms is
    painted onto K), "k" for the reverse, None for a grid / list selection.
    """

    i: int
    j: int
    focus: str | None = None


def cell_at(boxes, x: float, y: float) -> int | None:
    """The cell whose box contains aligned-face point (x, y); nearest centre wins overlaps."""
    best, best_dist = None, None
    for index, (x1, y1, x2, y2) in enumerate(boxes):
        if x1 <= x < x2 and y1 <= y < y2:
            dist = (x - (x1 + x2) / 2) ** 2 + (y - (y1 + y2) / 2) ** 2
            if best_dist is None or dist < best_dist:
                best, best_dist = index, dist
    return best


class WorkbenchState:
    """Photos, chosen faces, model, the current comparison and the selection."""

    def __init__(self, model_id: str, detector: str = "auto"):
        self.model_id = model_id
        self.detector = detector
        self.paths: dict[str, str | None] = {s: None for s in SIDES}
        self.prepared: dict[str, object | None] = {s: None for s in SIDES}
        self.face_index: dict[str, int] = {s: 0 for s in SIDES}
        self.comparison = None
        self.selection: Selection | None = None
        self.error: str | None = None
        self.sources: dict[str, object | None] = {s: None for s in SIDES}  # path or bytes
        self.case = None  # core.case.Case, once saved or opened
        self.case_path: str | None = None
        self.case_verification = None  # from open_case, for the report
        self.case_signature = None  # core.signing SignatureCheck of the case file, or None
        self.case_details: CaseDetails | None = None  # edits not yet in the case
        self.gallery = None  # core.explainers.gallery.Gallery for SDD
        self.gallery_model: str | None = None  # the model that embedded it
        self.dirty = False
        self._restoring = False
        self._pending_face: dict[str, int] = {}
        self._pending_landmarks: dict[str, list] = {}
        self._listeners: dict[Event, list[Callable]] = defaultdict(list)
        self.undo = UndoStack()  # the examiner's photo, face, model and calibration choices

    # -- events -------------------------------------------------------------

    def subscribe(self, event: Event, callback: Callable) -> None:
        self._listeners[Event(event)].append(callback)

    def _emit(self, event: Event, *args) -> None:
        for callback in list(self._listeners[event]):
            callback(*args)

    # -- inputs ---------------------------------------------------------------

    def set_photo(self, side: str, path: str, source=None) -> None:
        """A new photo for one side: forget its faces and the old comparison.

        `source` is what to load (a path, or the bytes of a case's original);
        by default `path` itself.
        """
        source = path if source is None else source
        if not self._restoring:
            before = None if self.paths[side] is None else (self.paths[side], self.sources[side])
            self.undo.push(Edit(EditKind.PHOTO, side, before, (str(path), source)))
        self.paths[side] = str(path)
        self.sources[side] = source
        self._changed()
        self.prepared[side] = None
        self.face_index[side] = 0
        self._clear_comparison()
        self._emit(Event.PHOTO, side)
        if self.error is not None:
            self.set_error(None)

    def clear_photo(self, side: str) -> None:
        """No photo on `side` (undoing its first photo)."""
        if self.paths[side] is None:
            return
        self.undo.push(Edit(EditKind.PHOTO, side, (self.paths[side], self.sources[side]), None))
        self.paths[side] = self.sources[side] = self.prepared[side] = None
        self.face_index[side] = 0
        self._changed()
        self._clear_comparison()
        self._emit(Event.PHOTO, side)

    def set_prepared(self, side: str, prepared) -> None:
        """The photo of `side` was loaded and its faces detected (largest first).

        An opened case whose landmarks were placed by hand gets them back here.
        """
        landmarks = self._pending_landmarks.pop(side, None)
        if landmarks is not None:
            prepared = prepared.with_landmarks(np.asarray(landmarks, dtype=np.float64))
        self.prepared[side] = prepared
        pending = self._pending_face.pop(side, 0)
        self.face_index[side] = pending if 0 <= pending < len(prepared.faces) else 0
        self._emit(Event.PHOTO, side)

    def place_landmarks(self, side: str, points) -> bool:
        """The examiner's five points replace the detected faces of `side` (undoable).

        Raises core.errors.UsageError for points outside the photo; False
        when the side has no photo yet.
        """
        prepared = self.prepared[side]
        if prepared is None:
            return False
        placed = prepared.with_landmarks(np.asarray(points, dtype=np.float64))
        self.undo.push(Edit(EditKind.LANDMARKS, side, prepared, placed))
        self.replace_faces(side, placed)
        return True

    def replace_faces(self, side: str, prepared) -> None:
        """The same photo with other faces (placed by hand, or detected again): face 1 chosen."""
        self.prepared[side] = prepared
        self.face_index[side] = 0
        self._changed()
        self._clear_comparison()
        self._emit(Event.PHOTO, side)

    def choose_face(self, side: str, index: int) -> bool:
        """Choose face `index` of `side`; False when there is no such face or no change."""
        prepared = self.prepared[side]
        if prepared is None or not 0 <= index < len(prepared.faces):
            return False
        if index == self.face_index[side]:
            return False
        self.undo.push(Edit(EditKind.FACE, side, self.face_index[side], index))
        self.face_index[side] = index
        self._changed()
        self._clear_comparison()
        self._emit(Event.PHOTO, side)
        return True

    def set_model(self, model_id: str) -> None:
        if model_id != self.model_id:
            self.undo.push(Edit(EditKind.MODEL, None, self.model_id, model_id))
            self.model_id = model_id
            self._changed()
            self._clear_comparison()

    def set_detector(self, detector: str) -> None:
        """Another detector: every photo must be detected again."""
        if detector != self.detector:
            self.detector = detector
            for side in SIDES:
                self.prepared[side] = None
            self._clear_comparison()

    @property
    def ready_to_compare(self) -> bool:
        return all(p is not None and len(p.faces) > 0 for p in self.prepared.values())

    # -- results ----------------------------------------------------------------

    def set_comparison(self, comparison) -> None:
        """A finished comparison; the selection starts on its most positive pair."""
        self.comparison = comparison
        self.error = None
        if self._restoring:
            self._restoring = False
        else:
            self._changed()
        positive, negative = comparison.decomposition.top_pairs(1)
        top = (positive or negative)[0]
        self.selection = Selection(top["i"], top["j"])
        self._emit(Event.COMPARISON)
        self._emit(Event.SELECTION)

    def set_error(self, message: str | None) -> None:
        self.error = message
        if message:
            self._restoring = False
            self._pending_face.clear()
            self._pending_landmarks.clear()
        self._emit(Event.ERROR)

    def _clear_comparison(self) -> None:
        if self.comparison is not None or self.selection is not None:
            self.comparison = None
            self.selection = None
            self._emit(Event.COMPARISON)
            self._emit(Event.SELECTION)

    # -- the case and unsaved work ----------------------------------------------------

    def _changed(self) -> None:
        if self._restoring:
            return
        self.case_verification = None  # it described the file, not the new work
        if not self.dirty:
            self.dirty = True
            self._emit(Event.CASE)

    def signature_status(self) -> tuple[str, str]:
        """(one line for the status bar and case details, severity "ok"/"warning"/"error"/"none").

        The signature describes the case file; unsaved work on top of it is not signed.
        """
        if self.case_signature is None:
            return "Signature: not saved yet (the case is signed when saved)", "none"
        text = "Signature: " + self.case_signature.summary()
        if self.dirty:
            text += " — unsaved changes are not signed yet"
        return text, self.case_signature.severity

    def mark_dirty(self) -> None:
        """Something the case records changed outside the comparison (an audit entry)."""
        self.dirty = True
        self._emit(Event.CASE)

    def current_details(self) -> dict[str, str]:
        """The case details as they stand: edits, else the case's, else the defaults."""
        if self.case_details is not None:
            return self.case_details.as_dict()
        if self.case is None:
            return CaseDetails().as_dict()
        return CaseDetails.of_case(self.case).as_dict()

    def set_case_details(self, details: dict) -> bool:
        """Keep edited case details; False when nothing changed.

        An empty case id means "generate one when the case is created". A bad
        id raises core.errors.UsageError and changes nothing.
        """
        edited = CaseDetails.from_mapping(details)
        if edited.as_dict() == self.current_details():
            return False
        self.case_details = edited
        self.mark_dirty()
        return True

    def take_case_details(self) -> CaseDetails | None:
        """The pending edits, now handed to the case (none remain pending)."""
        details, self.case_details = self.case_details, None
        return details

    def set_case(self, case) -> None:
        """The case brought up to date with the work on screen (not yet saved)."""
        self.case = case

    def set_gallery(self, gallery, model_id: str | None) -> None:
        """The background gallery for SDD (None: none), embedded with `model_id`."""
        self.gallery, self.gallery_model = gallery, model_id
        self._emit(Event.GALLERY)

    def new_case(self) -> None:
        """Forget the case, its file and the photos: an empty workbench."""
        self.case, self.case_path, self.case_verification = None, None, None
        self.case_signature = None
        self.case_details = None
        self._restoring = False
        self._pending_face.clear()
        self._pending_landmarks.clear()
        self.undo.clear()
        self.set_error(None)
        for side in SIDES:
            self.paths[side] = self.sources[side] = self.prepared[side] = None
            self.face_index[side] = 0
        self._clear_comparison()
        for side in SIDES:
            self._emit(Event.PHOTO, side)
        self.dirty = False
        self._emit(Event.CASE)

    def begin_restoring(self, case, path: str, verification, model_id: str) -> None:
        """An opened case: its faces are chosen once its originals are re-detected."""
        self.case, self.case_path, self.case_verification = case, str(path), verification
        self.case_signature = verification.signature if verification is not None else None
        self.case_details = None
        self._restoring = True
        self.undo.clear()
        roles = zip(SIDES, ("A", "B"), strict=True)
        self._pending_face = {side: case.input(role).face_index for side, role in roles}
        placed = case.settings.get("landmarks") or {}
        self._pending_landmarks = {
            side: placed[role]
            for side, role in zip(SIDES, ("A", "B"), strict=True)
            if role in placed
        }
        self.model_id = model_id
        self.dirty = False
        self._emit(Event.CASE)

    def mark_saved(self, case, path: str, signature=None) -> None:
        """The case was written to `path`; `signature` is the SignatureCheck save_case made."""
        self.case, self.case_path, self.case_signature = case, str(path), signature
        self.dirty = False
        self._emit(Event.CASE)

    # -- selection ---------------------------------------------------------------

    @property
    def cell_count(self) -> int:
        return 0 if self.comparison is None else self.comparison.decomposition.layout.count

    def select_cell(self, i: int, j: int, focus: str | None = None) -> bool:
        """Select pair (i on Q, j on K); out-of-range cells are ignored."""
        k = self.cell_count
        if not (0 <= i < k and 0 <= j < k):
            return False
        self.selection = Selection(int(i), int(j), focus)
        self._emit(Event.SELECTION)
        return True

    def clear_selection(self) -> None:
        """No selected cell: every outline and painted row disappears (Escape)."""
        if self.selection is not None:
            self.selection = None
            self._emit(Event.SELECTION)

    def move_selection(self, di: int, dj: int) -> bool:
        """Arrow keys: move the selected cell by (di rows, dj columns), clamped to the grid."""
        if self.selection is None:
            return False
        k = self.cell_count
        i = min(max(self.selection.i + di, 0), k - 1)
        j = min(max(self.selection.j + dj, 0), k - 1)
        return self.select_cell(i, j)

    def select_patch_at(self, side: str, x: float, y: float) -> bool:
        """A click at aligned-face point (x, y) of `side` selects the cell under it.

        Its row (Q) or column (K) of pair terms is then painted onto the other
        face; the other side's cell becomes the best-matching one in that row.
        """
        if self.comparison is None:
            return False
        cell = cell_at(self.comparison.decomposition.layout.boxes, x, y)
        if cell is None:
            return False
        terms = self.linked_terms(side, cell)
        partner = int(np.argmax(terms))
        i, j = (cell, partner) if side == "q" else (partner, cell)
        return self.select_cell(i, j, focus=side)

    def linked_terms(self, side: str, cell: int) -> np.ndarray:
        """Q cell i's row of pair terms (over K's cells), or K cell j's column (over Q's)."""
        matrix = self.comparison.decomposition.pair_matrix
        return matrix[cell, :] if side == "q" else matrix[:, cell]

    def painted_terms(self, side: str) -> np.ndarray | None:
        """The per-cell terms to paint on `side`'s face for the current focus, if any."""
        sel = self.selection
        if self.comparison is None or sel is None or sel.focus is None or sel.focus == side:
            return None
        return self.linked_terms(sel.focus, sel.i if sel.focus == "q" else sel.j)

    def term_info(self, i: int, j: int) -> dict:
        """What hovering cell (i, j) shows: the term and its share of the score."""
        return self.comparison.decomposition.term_info(i, j)
