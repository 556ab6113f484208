"""The window's toolbar settings: model, detector and calibration, and the gauge they feed.

A mixin of MainWindow. The calibration choice and the evidence numbers are
core.workbench.Session's; here are only the boxes and the gauge's text.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.errors import PatchwiseError
from core.strength_of_evidence.calibration_choice import DEMO, NONE
from core.workbench.state import SIDES
from gui import strength_of_evidence_view as lr_view
from gui import window_chrome as chrome


class SettingsActions:
    """Model, detector and calibration choices; the confidence gauge."""

    def _model_chosen(self, model_id: str) -> None:
        self.settings.setValue("model", model_id)
        self.state.set_model(model_id)
        self._undo_changed()
        self._refresh_gallery()
        self.compare()

    def _detector_chosen(self, kind: str) -> None:
        if self._detector_factory is None or kind == self.state.detector:
            return
        try:
            self.session.engine = self._detector_factory(kind)
        except PatchwiseError as exc:
            self.state.set_error(str(exc))
            self.detector_box.blockSignals(True)
            self.detector_box.setCurrentText(self.state.detector)
            self.detector_box.blockSignals(False)
            return
        self.settings.setValue("detector", kind)
        self.detector_box.setToolTip(chrome.detector_tooltip(self.engine))
        self.state.set_detector(kind)
        for side in SIDES:
            if self.state.paths[side]:
                self.load_photo(side, self.state.paths[side], self.state.sources[side])

    def _calibration_chosen(self, index: int) -> None:
        choice = self.calibration_box.itemData(index)
        if choice == chrome.OTHER_FILE:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open a calibration file", "", "Calibration (*.json)"
            )
            if not path:
                chrome.show_calibration(self.calibration_box, self.session.calibration_choice)
                return
            choice = path
        self.set_calibration(choice)

    def set_calibration(self, choice: str) -> None:
        """Use no calibration ("none"), the bundled DEMO one ("demo"), or a file's path."""
        chrome.show_calibration(self.calibration_box, choice)
        self.session.choose_calibration(choice)
        self._undo_changed()
        self.settings.setValue("calibration", choice)
        self._update_evidence()

    def _calibration(self):
        """The chosen calibration for the current model; errors go to the banner."""
        try:
            return self.session.calibration()
        except PatchwiseError as exc:
            self.state.set_error(str(exc))
            return None

    def _update_evidence(self) -> None:
        comparison, choice = self.state.comparison, self.session.calibration_choice
        if comparison is None:
            chosen = self.calibration_box.currentText()
            status = (
                "uncalibrated"
                if choice == NONE
                else f"{chosen} chosen; it applies once a pair is compared"
            )
            self.gauge.set_result(None, None, status, [])
            return
        result = self.session.evidence(self._calibration())
        status = result.calibration_status
        if choice == DEMO and result.calibration is None:
            status += f" (no DEMO calibration is bundled for {comparison.model.id})"
        self.gauge.set_result(result.score, result.threshold, status, lr_view.gauge_text(result))

    def _gauge_details(self) -> None:
        calibration = self._calibration()
        if calibration is None:
            QMessageBox.information(self, "Evidence details", lr_view.NO_CALIBRATION_TEXT)
            return
        self._details = lr_view.EvidenceDetails(
            calibration, self.session.evidence(calibration), self
        )
        self._details.open()
