"""The window's File and Edit actions for cases: new, open, save, export, details, gallery.

A mixin of MainWindow: the case rules are core.workbench.Session's and
core.case.workflow's; here are only the dialogs and the progress display.
Dialogs go through ask_* / show_* methods so that tests can replace them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.case.case_file import CASE_SUFFIX
from core.case.workflow import record_report
from core.errors import PatchwiseError
from core.workbench import jobs
from gui import recent_files
from gui import window_chrome as chrome
from gui.case_details_dialog import CaseDetailsDialog
from gui.error_log import report_unexpected
from gui.explainer_panel import NONE as NO_MAP

LOADING_CHANNELS = ("prepare-q", "prepare-k", "compare")
CASE_FILTER = f"Patchwise case (*{CASE_SUFFIX});;All files (*)"
PDF_FILTER = "PDF report (*.pdf);;All files (*)"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


class CaseActions:
    """New / Open / Save / Save as / Export report / Case details / Background gallery."""

    # -- dialogs (replaced in tests) -----------------------------------------------------

    def ask_discard(self) -> str:
        """SAVE, DISCARD or CANCEL: what to do with unsaved work."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Unsaved work",
            "The current comparison has unsaved changes. Save the case first?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: SAVE, buttons.Discard: DISCARD}.get(answer, CANCEL)

    def ask_open_path(self, title: str, file_filter: str) -> str:
        start = str(self.settings.value("last_case_folder", str(Path.home())))
        return QFileDialog.getOpenFileName(self, title, start, file_filter)[0]

    def ask_save_path(self, title: str, file_filter: str, suggested: str) -> str:
        start = str(self.settings.value("last_case_folder", str(Path.home())))
        return QFileDialog.getSaveFileName(self, title, str(Path(start) / suggested), file_filter)[
            0
        ]

    def ask_case_details(self, current: dict[str, str]) -> dict[str, str] | None:
        """The edited case details, or None when the dialog was cancelled."""
        dialog = CaseDetailsDialog(current, self, signature=self.state.signature_status()[0])
        return dialog.details() if dialog.exec() == CaseDetailsDialog.DialogCode.Accepted else None

    def ask_gallery_folder(self) -> str:
        start = str(self.settings.value("gallery_folder", str(Path.home())))
        return QFileDialog.getExistingDirectory(self, "Choose a background gallery", start)

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def show_warning(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    # -- actions ---------------------------------------------------------------------------

    def may_discard(self) -> bool:
        """True when there is no unsaved comparison, or the user saved or discarded it."""
        unsaved = self.state.dirty and self.state.comparison is not None
        if not unsaved or not self._ask_before_discard:
            return True
        answer = self.ask_discard()
        if answer == SAVE:
            return self.save_case()
        return answer == DISCARD

    def new_case(self) -> bool:
        if not self.may_discard():
            return False
        for channel in ("explain", "gallery", *LOADING_CHANNELS):
            self.runner.cancel(channel)
        self.session.new_case()
        chrome.show_threshold(self.threshold_box, None)
        for pane in self.panes.values():
            pane.reset()
        self.maps.choose(NO_MAP)
        self.maps.set_busy(None)
        self.case_banner.hide()
        self.statusBar().clearMessage()
        return True

    def open_recent_case(self, path: str) -> bool:
        return self.may_discard() and self.open_case(path)

    def open_case_dialog(self) -> bool:
        if not self.may_discard():
            return False
        path = self.ask_open_path("Open a case", CASE_FILTER)
        return bool(path) and self.open_case(path)

    def in_worker(self, channel: str, job):
        """Run `job` in a worker and wait for it while the GUI keeps handling events.

        Returns the job's result; a failure raises PatchwiseError with its message
        (unexpected ones are logged first). The window's own file I/O goes through
        here, so the GUI thread is never blocked by a disk or a large photo.
        """
        loop, outcome = QEventLoop(), {}

        def done(result):
            outcome["result"] = result
            loop.quit()

        def failed(message, expected):
            if not expected:
                report_unexpected(self, message)
                message = "An unexpected error occurred (see the log file named in the dialog)."
            outcome["error"] = message
            loop.quit()

        stopped = lambda stopped_channel: stopped_channel == channel and loop.quit()  # noqa: E731
        self.runner.stopped.connect(stopped)
        self.runner.start(channel, job, on_done=done, on_error=failed)
        if self.runner.is_busy(channel):
            loop.exec()
        self.runner.stopped.disconnect(stopped)
        if "error" in outcome or "result" not in outcome:
            raise PatchwiseError(outcome.get("error", "cancelled"))
        return outcome["result"]

    def open_case(self, path: str) -> bool:
        """Verify a .pwcase, load its stored originals and recompute its comparison."""
        try:
            opened = self.in_worker(
                "case-file", lambda progress, cancelled: self.session.read(path)
            )
        except PatchwiseError as exc:
            self.show_error("Cannot open the case", str(exc))
            return False
        self.settings.setValue("last_case_folder", str(Path(path).parent))
        recent_files.remember(self.settings, path)
        verification = opened.verification
        if not verification.ok:
            self.show_warning(
                "Case integrity check FAILED",
                f"{Path(path).name} was altered or damaged since it was saved:\n\n"
                + "\n".join(f"• {p}" for p in verification.problems)
                + "\n\nIts results cannot be relied on.",
            )
        self.runner.cancel("explain")
        self.cancel_comparison()  # no stale result may end the restoring
        self.session.restore(opened)
        chrome.show_threshold(self.threshold_box, self.session.threshold)
        self.model_box.blockSignals(True)
        self.model_box.setCurrentText(self.state.model_id)
        self.model_box.blockSignals(False)
        self._refresh_gallery()
        for side, (name, data) in opened.originals().items():
            self.load_photo(side, name, data)
        self.case_banner.show_text(f"Opened case {opened.case.case_id}: {verification.summary()}")
        return True

    def save_case(self) -> bool:
        if self.state.case_path is None:
            return self.save_case_as()
        return self.save_case_to(self.state.case_path)

    def save_case_as(self) -> bool:
        if not self._has_comparison("save a case"):
            return False
        path = self.ask_save_path(
            "Save the case", CASE_FILTER, self.session.suggested_name(CASE_SUFFIX)
        )
        if not path:
            return False
        if not path.lower().endswith(CASE_SUFFIX):
            path += CASE_SUFFIX
        return self.save_case_to(path)

    def save_case_to(self, path: str) -> bool:
        """Bring the case up to date with the comparison and write it; errors are shown."""
        if not self._has_comparison("save a case") or self.runner.is_busy("report"):
            return False
        try:
            case, job = self.session.save_job(path)
            signature = self.in_worker("case-file", job)
        except (PatchwiseError, OSError) as exc:
            self.show_error("Cannot save the case", str(exc))
            return False
        self.state.mark_saved(case, path, signature)
        self.settings.setValue("last_case_folder", str(Path(path).parent))
        recent_files.remember(self.settings, path)
        self.statusBar().showMessage(f"Case {case.case_id} saved to {path}.", 10000)
        return True

    def export_report_dialog(self) -> bool:
        if not self._has_comparison("export a report"):
            return False
        path = self.ask_save_path(
            "Export the PDF report", PDF_FILTER, self.session.suggested_name(".pdf")
        )
        if not path:
            return False
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        return self.export_report(path)

    def export_report(self, path: str) -> bool:
        """Render the case's PDF report in a worker, with a progress bar (not cancellable)."""
        if not self._has_comparison("export a report") or self.runner.is_busy("report"):
            return False
        try:
            case, explanations = self.session.current_case()
        except (PatchwiseError, OSError) as exc:
            self.show_error("Cannot export the report", str(exc))
            return False
        state = self.state
        self.report_bar.setValue(0)
        self.report_bar.setVisible(True)
        self.runner.start(
            "report",
            jobs.report_job(
                self.engine, case, state.comparison, path, state.case_verification, explanations
            ),
            on_done=lambda result, c=case: self._report_written(c, result),
            on_error=self._report_failed,
            on_progress=lambda fraction, text: self.report_bar.setValue(round(100 * fraction)),
        )
        return True

    def edit_case_details(self) -> bool:
        """Edit the case id, examiner, agency, notes, Hp and Hd; True when something changed."""
        edited = self.ask_case_details(self.state.current_details())
        if edited is None:
            return False
        try:
            return self.state.set_case_details(edited)
        except PatchwiseError as exc:
            self.show_error("Case details not changed", str(exc))
            return False

    def choose_gallery(self) -> bool:
        """Pick a folder of face photos as SDD's background gallery and embed it."""
        folder = self.ask_gallery_folder()
        if not folder:
            return False
        self.settings.setValue("gallery_folder", folder)
        self.load_gallery(folder)
        return True

    def _report_written(self, case, result) -> None:
        path, digest = result
        self.report_bar.setVisible(False)
        record_report(case, path, digest)  # on the GUI thread, which owns the case
        self.state.mark_dirty()
        self.statusBar().showMessage(
            f"Report written: {Path(path).name} (SHA-256 {digest[:16]}…).", 10000
        )

    def _report_failed(self, message: str, expected: bool) -> None:
        self.report_bar.setVisible(False)
        if not expected:
            report_unexpected(self, message)
            message = "An unexpected error occurred (see the log file named in the dialog)."
        self.show_error("Cannot export the report", message)

    def _has_comparison(self, what: str) -> bool:
        if self.state.comparison is None:
            self.show_error("Nothing to record", f"Compare two faces first, then {what}.")
            return False
        return True
