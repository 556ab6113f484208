"""The "Case details…" dialog: case id, examiner, agency, notes and the propositions.

It only edits a dict of texts (WorkbenchState.current_details()); the window
hands the result to the view model, which keeps it until the case is saved.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

LINE_FIELDS = (
    ("case_id", "Case id", "empty: generated when the case is first saved"),
    ("examiner", "Examiner", ""),
    ("agency", "Agency", ""),
)
TEXT_FIELDS = (
    ("hp", "Hp (prosecution proposition)"),
    ("hd", "Hd (defence proposition)"),
    ("notes", "Notes"),
)


class CaseDetailsDialog(QDialog):
    """A form over the six case detail texts; `details()` reads them back."""

    def __init__(self, details: dict[str, str], parent=None, signature: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Case details")
        self.editors: dict[str, QLineEdit | QPlainTextEdit] = {}
        form = QFormLayout()
        for name, label, hint in LINE_FIELDS:
            editor = QLineEdit(details.get(name, ""))
            editor.setPlaceholderText(hint)
            self.editors[name] = editor
            form.addRow(label, editor)
        for name, label in TEXT_FIELDS:
            editor = QPlainTextEdit(details.get(name, ""))
            editor.setMinimumHeight(60)
            self.editors[name] = editor
            form.addRow(label, editor)
        if signature:  # read-only: the signature belongs to the saved file
            self.signature_label = QLabel(signature)
            self.signature_label.setWordWrap(True)
            form.addRow("Signature", self.signature_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(560, 480)

    def details(self) -> dict[str, str]:
        return {
            name: editor.text() if isinstance(editor, QLineEdit) else editor.toPlainText()
            for name, editor in self.editors.items()
        }
