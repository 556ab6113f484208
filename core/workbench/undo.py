"""Undo and redo for the examiner's choices: photo, face, model and calibration.

Each change of an input is an Edit (what changed, on which side, the value
before and after). The workbench pushes one per user action; undo hands back
the Edit to reverse (apply its `before`), redo the one to repeat (apply its
`after`). Applying them is the front end's job (a photo must be loaded and
detected again), done while `replaying` is set so that it records nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum


class EditKind(Enum):
    PHOTO = "photo"  # before/after: (path, source) or None (no photo)
    FACE = "face"  # before/after: a face index
    MODEL = "model"  # before/after: a model id
    CALIBRATION = "calibration"  # before/after: a calibration choice


@dataclass(frozen=True)
class Edit:
    kind: EditKind
    side: str | None
    before: object
    after: object

    def label(self) -> str:
        """What the Undo / Redo menu entries say (faces numbered from 1)."""
        where = {"q": " of Q", "k": " of K"}.get(self.side or "", "")
        if self.kind is EditKind.FACE:
            return f"face {self.after + 1}{where}"
        return f"{self.kind.value}{where}"


class UndoStack:
    """Two stacks of Edits; a new edit clears what could be redone."""

    def __init__(self):
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self.replaying = False

    def push(self, edit: Edit) -> None:
        if self.replaying or edit.before == edit.after:
            return
        self._undo.append(edit)
        self._redo.clear()

    def undo(self) -> Edit | None:
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._redo.append(edit)
        return edit

    def redo(self) -> Edit | None:
        if not self._redo:
            return None
        edit = self._redo.pop()
        self._undo.append(edit)
        return edit

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    @property
    def undo_label(self) -> str | None:
        return self._undo[-1].label() if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label() if self._redo else None

    @contextmanager
    def replay(self):
        """Apply an undone or redone Edit without recording it."""
        self.replaying = True
        try:
            yield
        finally:
            self.replaying = False
