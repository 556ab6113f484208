"""The workbench window: two photo panes, the pair grid, the gauge and the map panel.

Views and wiring only. The application is core.workbench.Session (state,
calibration choice, map cache, case lifecycle); every engine call runs in a
worker (gui/workers.py) as a core.workbench.jobs job. The case actions and the
map panel's wiring and the toolbar settings are mixins (gui/case_actions.py,
gui/map_overlays.py, gui/settings_actions.py).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import PatchwiseError
from core.models.face_model import ModelKind
from core.models.fused import FUSED_GAUGE_SPAN, fusion_summary
from core.models.registry import DEFAULT_MODEL, available_model_ids
from core.strength_of_evidence.calibration_choice import NONE
from core.workbench import explainer_catalogue as catalogue
from core.workbench import jobs
from core.workbench.session import Session
from core.workbench.state import SIDES, Event
from gui import recent_files
from gui import window_chrome as chrome
from gui.case_actions import CANCEL, DISCARD, LOADING_CHANNELS, SAVE, CaseActions
from gui.colormaps import DEFAULT_DIVERGING, DIVERGING
from gui.confidence_gauge import ConfidenceGauge
from gui.error_log import report_unexpected
from gui.explainer_panel import ExplainerPanel
from gui.figure_export import add_window_export_actions
from gui.map_overlays import MapOverlays
from gui.pair_grid import PairGridPanel
from gui.photo_pane import PhotoPane
from gui.search_page import SearchActions
from gui.settings_actions import SettingsActions
from gui.undo_actions import UndoActions
from gui.window_menus import build_menus
from gui.workers import JobRunner

__all__ = ["CANCEL", "DISCARD", "SAVE", "MainWindow"]

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp *.gif);;All files (*)"


class MainWindow(
    CaseActions, MapOverlays, SettingsActions, UndoActions, SearchActions, QMainWindow
):
    """Patchwise's main window. `ready` fires when the current pair is fully shown."""

    ready = Signal()
    explained = Signal(str)  # an explainer's maps arrived
    fidelity_measured = Signal(str)  # and, after them, their fidelity figures
    gallery_ready = Signal()  # a background gallery was loaded
    sanity_checked = Signal(str)  # a map's randomisation check finished and is shown

    def __init__(
        self,
        engine,
        settings: QSettings,
        model_id: str | None = None,
        threads: int | None = None,
        detector_factory=None,
        remember_geometry: bool = True,
        ask_before_discard: bool = True,
    ):
        super().__init__()
        self.settings = settings
        self._detector_factory = detector_factory
        self._remember_geometry = remember_geometry
        self._ask_before_discard = ask_before_discard
        # An explicit model (already loaded by gui/app.py) may be a checkpoint path; a
        # remembered one must still exist.
        explicit = model_id
        model_id = model_id or str(settings.value("model", DEFAULT_MODEL))
        if model_id != explicit and model_id not in available_model_ids():
            model_id = DEFAULT_MODEL
        self.session = Session(
            engine,
            model_id,
            str(settings.value("detector", "auto")),
            str(settings.value("calibration", NONE)),
        )
        runtime = str(settings.value("runtime", catalogue.DEFAULT_RUNTIME))
        self.session.runtime = runtime if runtime in catalogue.RUNTIME_LABELS else "torch"
        self.runner = JobRunner(threads, self)
        self.batch_page = None  # created when first opened
        self.setWindowTitle("Patchwise: forensic face comparison workbench")
        self.setAcceptDrops(False)

        self.panes = {side: PhotoPane(side) for side in SIDES}
        self.grid = PairGridPanel()
        self.grid.set_term_info(self.state.term_info)
        self.gauge = ConfidenceGauge()
        self.maps = ExplainerPanel(list(catalogue.TOGGLES))
        self.error_banner = QLabel("")
        self.error_banner.setWordWrap(True)
        self.error_banner.setStyleSheet(
            "background: #fde2e1; color: #7a1010; padding: 4px; border: 1px solid #e0a0a0;"
        )
        self.error_banner.setVisible(False)
        self.signature_banner = chrome.signature_banner()
        self.case_banner = chrome.DismissableBanner(
            "background: #e4eefb; color: #0d2a52; border: 1px solid #a8c0e0;"
        )
        self._overlay_opacity = 0.55
        self._cmap = str(settings.value("colormap", DEFAULT_DIVERGING))
        if self._cmap not in DIVERGING:
            self._cmap = DEFAULT_DIVERGING
        self._layout_widgets()
        chrome.build_toolbar(self)
        self.case_actions = build_menus(self)
        self.undo_action, self.redo_action = self.case_actions["undo"], self.case_actions["redo"]
        self.status = chrome.StatusWidgets(self.statusBar(), engine, self.cancel_comparison)
        self.model_label, self.report_bar = self.status.model_label, self.status.report_bar
        # In the status bar, not above the views: showing it must not re-lay out the window.
        self.statusBar().insertPermanentWidget(0, self.case_banner, 1)
        self._connect()
        add_window_export_actions(self)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.state.clear_selection)
        self.maps.colormap.setCurrentText(self._cmap)
        self.grid.set_colormap(self._cmap)
        self._update_evidence()
        self._update_toggles()
        self.resize(1400, 880)
        geometry = settings.value("geometry") if remember_geometry else None
        if geometry is not None:
            self.restoreGeometry(geometry)

    @property
    def state(self):
        return self.session.state

    @property
    def engine(self):
        return self.session.engine

    # -- layout ---------------------------------------------------------------------

    def _layout_widgets(self) -> None:
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addWidget(self.gauge)
        centre_layout.addWidget(self.grid, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.panes["q"])
        splitter.addWidget(centre)
        splitter.addWidget(self.panes["k"])
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.maps)
        side.addWidget(self.grid.top_box)
        side.setSizes([380, 420])
        splitter.addWidget(side)
        splitter.setSizes([320, 500, 320, 260])
        for index, stretch in enumerate((3, 5, 3, 2)):
            splitter.setStretchFactor(index, stretch)
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.signature_banner)
        layout.addWidget(self.error_banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(root)

    def _connect(self) -> None:
        for pane in self.panes.values():
            pane.fileDropped.connect(self.load_photo)
            pane.landmarksPlaced.connect(self.place_landmarks)
            pane.faceClicked.connect(self.choose_face)
            pane.alignedClicked.connect(self.state.select_patch_at)
        self.grid.cellClicked.connect(self.state.select_cell)
        self.grid.moveRequested.connect(self.state.move_selection)
        self.gauge.clicked.connect(self._gauge_details)
        self.model_box.currentTextChanged.connect(self._model_chosen)
        self.detector_box.currentTextChanged.connect(self._detector_chosen)
        self.calibration_box.activated.connect(self._calibration_chosen)
        self.threshold_box.valueChanged.connect(self._threshold_edited)
        self.maps.mapToggled.connect(self._map_toggled)
        self.maps.opacityChanged.connect(self._opacity_changed)
        self.maps.colormapChanged.connect(self._colormap_changed)
        self.maps.cancelRequested.connect(self._cancel_maps)
        self.maps.galleryRequested.connect(self.choose_gallery)
        self.maps.sanityRequested.connect(self.sanity_check_current_map)
        self.runner.started.connect(self._jobs_changed)
        self.runner.stopped.connect(self._jobs_changed)
        for event, slot in (
            (Event.PHOTO, self._photo_changed),
            (Event.COMPARISON, self._comparison_changed),
            (Event.SELECTION, self._selection_changed),
            (Event.ERROR, self._error_changed),
            (Event.CASE, self._case_changed),
            (Event.GALLERY, self._gallery_changed),
        ):
            self.state.subscribe(event, slot)

    # -- photos and the comparison ------------------------------------------------------

    def open_dialog(self, side: str) -> None:
        start = str(self.settings.value("last_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", start, IMAGE_FILTER)
        if path:
            self.settings.setValue("last_folder", str(Path(path).parent))
            self.load_photo(side, path)

    def load_photo(self, side: str, path: str, source=None, record: bool = True) -> None:
        """Load and detect a photo in a worker (`source`: bytes to load instead of `path`).

        The side keeps its previous photo until the new one has loaded: a file
        that fails leaves the work as it was (with the error shown).
        """
        self._stop_explainers()  # new work first: the old pair's maps are not waited for
        self.panes[side].show_message(f"Loading {Path(path).name}…")
        self.runner.start(
            f"prepare-{side}",
            jobs.prepare_job(self.engine, path if source is None else source, Path(path).name),
            on_done=lambda prepared, s=side: self._prepared(s, path, source, prepared, record),
            on_error=lambda message, expected, s=side: self._failed(message, expected, s),
        )

    def open_batch_page(self):
        """The batch page (one per window): many pairs, curves, a table to open from."""
        from gui.batch_page import BatchPage

        if self.batch_page is None:
            self.batch_page = BatchPage(self)
        self.batch_page.show()
        return self.batch_page

    def place_landmarks(self, side: str, points) -> bool:
        """Align `side` with five points placed by hand, and compare again."""
        try:
            placed = self.state.place_landmarks(side, points)
        except PatchwiseError as exc:
            self.state.set_error(str(exc))
            return False
        self._undo_changed()
        return placed and self.compare()

    def choose_face(self, side: str, index: int) -> None:
        if self.state.choose_face(side, index):
            self._undo_changed()
            self.compare()

    @property
    def loading(self) -> bool:
        """Whether a photo is still being loaded or a comparison computed."""
        return any(self.runner.is_busy(c) for c in LOADING_CHANNELS)

    def compare(self) -> bool:
        """Start (or restart) the comparison of the chosen faces; False when not ready."""
        state = self.state
        if not state.ready_to_compare:
            return False
        self.runner.start(
            "compare",
            jobs.compare_job(
                self.engine,
                state.prepared["q"],
                state.prepared["k"],
                state.model_id,
                state.face_index["q"],
                state.face_index["k"],
            ),
            on_done=self._compared,
            on_error=lambda message, expected: self._failed(message, expected, None),
        )
        return True

    def cancel_comparison(self) -> None:
        for channel in LOADING_CHANNELS:
            self.runner.cancel(channel)
        self.statusBar().showMessage("Cancelled.", 5000)

    def _prepared(self, side: str, path: str, source, prepared, record: bool) -> None:
        if source is None:
            recent_files.remember(self.settings, path)
        if record:
            self.state.set_photo(side, path, source)
        else:
            with self.state.undo.replay():
                self.state.set_photo(side, path, source)
        self.state.set_prepared(side, prepared)
        self._undo_changed()
        if not prepared.faces:
            self.state.set_error(f"{prepared.evidence.name}: no face found. Try another photo.")
        if not self.compare() and not self.loading:
            self.ready.emit()  # shown as far as it goes; nothing more will come

    def _compared(self, comparison) -> None:
        if comparison is None:
            return
        self.state.set_comparison(comparison)
        self.ready.emit()
        if not self.model_box.itemData(0, Qt.ItemDataRole.ToolTipRole):
            self.runner.start(
                "provenance",
                jobs.provenance_job(self.engine),
                on_done=lambda described: chrome.show_provenance(self.model_box, described),
            )

    def _failed(self, message: str, expected: bool, side: str | None) -> None:
        if not expected:
            report_unexpected(self, message)
            message = "An unexpected error occurred (see the log file named in the dialog)."
        if side is not None:
            self.panes[side].show_message(message)
        self.state.set_error(message)
        if not self.loading:
            self.ready.emit()

    # -- state -> views ------------------------------------------------------------------

    def _photo_changed(self, side: str) -> None:
        self._stop_explainers()  # a new photo or face: never keep explaining the old pair
        prepared = self.state.prepared[side]
        if prepared is not None:
            self.panes[side].show_photo(prepared, self.state.face_index[side])

    def _comparison_changed(self) -> None:
        self._pair_changed()
        comparison = self.state.comparison
        self.grid.show_comparison(comparison)
        fused = comparison is not None and comparison.model.kind is ModelKind.FUSED
        self.gauge.set_scale(*((FUSED_GAUGE_SPAN, "Fused log-odds") if fused else (1.0, "Cosine")))
        self._update_evidence()
        self._update_toggles()
        if comparison is None:
            for pane in self.panes.values():
                pane.show_aligned(None)
            return
        self.panes["q"].show_aligned(comparison.a.aligned)
        self.panes["k"].show_aligned(comparison.b.aligned)
        model = comparison.model
        sha = str(model.get("weights_sha256", ""))
        # The label stays short (the status bar's messages need the room); a fused
        # model's terms are in the member table and in the label's tooltip.
        self.model_label.setText(f"model: {model['id']} sha256 {sha[:12]}")
        fusion = fusion_summary(comparison.decomposition)
        self.model_label.setToolTip(
            chrome.provenance_text(model) + (f"<br>{fusion}" if fusion else "")
        )
        timings = ", ".join(f"{k} {v:.0f} ms" for k, v in comparison.timings_ms.items())
        self.statusBar().showMessage(f"Compared ({timings or 'from cache'}).", 10000)
        self._refresh_overlays()

    def _selection_changed(self) -> None:
        selection, comparison = self.state.selection, self.state.comparison
        if selection is None or comparison is None:
            self.grid.show_selection(None, None)
            for pane in self.panes.values():
                pane.clear_patch()
        else:
            boxes = comparison.decomposition.layout.boxes
            self.grid.show_selection(selection.i, selection.j)
            self.panes["q"].show_patch(boxes[selection.i], selection.i)
            self.panes["k"].show_patch(boxes[selection.j], selection.j)
        self._refresh_overlays()

    def _error_changed(self) -> None:
        message = self.state.error
        self.error_banner.setText(message or "")
        self.error_banner.setVisible(bool(message))
        if message:
            self.statusBar().showMessage(message.splitlines()[0], 10000)

    def _jobs_changed(self, _channel: str) -> None:
        self.status.show_busy(self.loading)
        if not any(self.runner.is_busy(c) for c in ("explain", "gallery", "sanity")):
            self.maps.set_busy(None)

    def _case_changed(self) -> None:
        self._undo_changed()  # a new or opened case starts without undo history
        case = self.state.case
        name = Path(self.state.case_path).name if self.state.case_path else "unsaved"
        title = f"case {case.case_id} ({name})" if case is not None else "no case"
        self.setWindowTitle(
            f"Patchwise: forensic face comparison workbench — {title}"
            + (" *" if self.state.dirty else "")
        )
        chrome.show_signature(
            self.signature_banner, self.status.signature_label, *self.state.signature_status()
        )

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.may_discard():
            event.ignore()
            return
        if self._remember_geometry:
            self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        self.runner.shutdown()
        super().closeEvent(event)
