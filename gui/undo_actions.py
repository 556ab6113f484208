"""Edit → Undo / Redo: reverse or repeat the examiner's photo, face, model and calibration
choices. A mixin of MainWindow; the stack and its Edits are core.workbench.undo's."""

from __future__ import annotations

from core.workbench.undo import Edit, EditKind


class UndoActions:
    def undo(self) -> bool:
        """Reverse the last choice; False when there is none."""
        edit = self.state.undo.undo()
        return edit is not None and self._apply(edit, edit.before)

    def redo(self) -> bool:
        """Repeat the last undone choice; False when there is none."""
        edit = self.state.undo.redo()
        return edit is not None and self._apply(edit, edit.after)

    def _apply(self, edit: Edit, value) -> bool:
        with self.state.undo.replay():
            if edit.kind is EditKind.PHOTO:
                if value is None:
                    self.state.clear_photo(edit.side)
                    self.panes[edit.side].clear_photo()
                else:
                    self.load_photo(edit.side, *value, record=False)
            elif edit.kind is EditKind.FACE:
                self.choose_face(edit.side, value)
            elif edit.kind is EditKind.MODEL:
                self.model_box.setCurrentText(value)
            else:
                self.set_calibration(value)
        self._undo_changed()
        return True

    def _undo_changed(self) -> None:
        """The Undo / Redo entries name what they would do."""
        stack = self.state.undo
        for action, label, title in (
            (self.undo_action, stack.undo_label, "Undo"),
            (self.redo_action, stack.redo_label, "Redo"),
        ):
            action.setEnabled(label is not None)
            action.setText(f"&{title} {label}" if label else f"&{title}")
