"""The workbench window: two evidence panes, the pair grid, the gauge and the map panel.

It wires views to the Qt-free WorkbenchState and runs every core call in a
worker (gui/workers.py). It computes nothing itself: maps painted on the faces
are the decomposition's own numbers laid over their cells, or explainer maps
from core.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from core.case import open_case as read_case_file
from core.case import save_case
from core.case.case_file import CASE_SUFFIX
from core.errors import PatchwiseError
from core.explainers.marginals import paint_boxes
from core.models.registry import load_model, model_ids
from gui import case_jobs, explainer_jobs
from gui import strength_of_evidence_view as lr_view
from gui.case_details_dialog import CaseDetailsDialog
from gui.colormaps import DEFAULT_DIVERGING, DIVERGING, overlay_rgba
from gui.confidence_gauge import ConfidenceGauge
from gui.error_log import report_unexpected
from gui.explainer_panel import MARGINALS, NONE, ExplainerPanel
from gui.jobs import compare_job, prepare_job
from gui.pair_grid import PairGridPanel
from gui.photo_pane import PhotoPane
from gui.view_model import SIDES, WorkbenchState
from gui.workers import ENGINE_LOCK, JobRunner

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp);;All files (*)"
DETECTORS = ("auto", "mtcnn", "insightface")
CASE_FILTER = f"Patchwise case (*{CASE_SUFFIX});;All files (*)"
PDF_FILTER = "PDF report (*.pdf);;All files (*)"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


class MainWindow(QMainWindow):
    """Patchwise's main window. `ready` fires when the current pair is fully shown."""

    ready = Signal()
    explained = Signal(str)  # an explainer's maps arrived
    gallery_ready = Signal()  # a background gallery was loaded

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
        self.engine = engine
        self.settings = settings
        self._detector_factory = detector_factory
        self._remember_geometry = remember_geometry
        self._ask_before_discard = ask_before_discard
        model_id = model_id or str(settings.value("model", "faceres"))
        if model_id not in model_ids():
            model_id = "faceres"
        self.state = WorkbenchState(model_id, str(settings.value("detector", "auto")))
        self.runner = JobRunner(threads, self)
        self.setWindowTitle("Patchwise: forensic face comparison workbench")
        self.setAcceptDrops(False)

        self.panes = {side: PhotoPane(side) for side in SIDES}
        self.grid = PairGridPanel()
        self.grid.set_term_info(self.state.term_info)
        self.gauge = ConfidenceGauge()
        self.maps = ExplainerPanel(list(explainer_jobs.TOGGLES))
        self.calibrations = lr_view.CalibrationCache()
        self.calibration_choice = str(settings.value("calibration", lr_view.NONE))
        self.error_banner = QLabel("")
        self.error_banner.setWordWrap(True)
        self.error_banner.setStyleSheet(
            "background: #fde2e1; color: #7a1010; padding: 4px; border: 1px solid #e0a0a0;"
        )
        self.error_banner.setVisible(False)
        self._overlay_opacity = 0.55
        self._cmap = str(settings.value("colormap", DEFAULT_DIVERGING))
        if self._cmap not in DIVERGING:
            self._cmap = DEFAULT_DIVERGING
        self._map_cache: dict = {}
        self._layout_widgets()
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.maps.colormap.setCurrentText(self._cmap)
        self.grid.set_colormap(self._cmap)
        self._update_evidence()
        self._update_toggles()
        self.resize(1400, 880)
        geometry = settings.value("geometry") if remember_geometry else None
        if geometry is not None:
            self.restoreGeometry(geometry)

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
        layout.addWidget(self.error_banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(root)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Settings")
        bar.setObjectName("settings-toolbar")
        self.addToolBar(bar)
        self.model_box = QComboBox()
        self.model_box.addItems(model_ids())
        self.model_box.setCurrentText(self.state.model_id)
        self.model_box.setToolTip("Recognition model; hover an entry for its provenance")
        self.detector_box = QComboBox()
        self.detector_box.addItems(DETECTORS)
        self.detector_box.setCurrentText(self.state.detector)
        self.detector_box.setToolTip(self._detector_tooltip())
        self.calibration_box = QComboBox()
        self.calibration_box.addItem("Uncalibrated", lr_view.NONE)
        self.calibration_box.addItem("DEMO calibration (bundled)", lr_view.DEMO)
        self.calibration_box.addItem("Lab calibration file…", "")
        if self.calibration_choice not in (lr_view.NONE, lr_view.DEMO):
            self.calibration_box.insertItem(
                2, Path(self.calibration_choice).name, self.calibration_choice
            )
        self.calibration_box.setCurrentIndex(
            max(0, self.calibration_box.findData(self.calibration_choice))
        )
        self.calibration_box.setToolTip(
            "Turns the score into C-Score and a likelihood ratio. The DEMO calibration "
            "comes from a few shared photos: it is not for casework."
        )
        bar.addWidget(QLabel(" Model "))
        bar.addWidget(self.model_box)
        bar.addWidget(QLabel("  Detector "))
        bar.addWidget(self.detector_box)
        bar.addWidget(QLabel("  Calibration "))
        bar.addWidget(self.calibration_box)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.case_actions = {}
        for name, title, keys, slot in (
            ("new", "&New case", QKeySequence.StandardKey.New, self.new_case),
            ("open", "Open &case…", QKeySequence("Ctrl+Alt+O"), self.open_case_dialog),
            ("save", "&Save case", QKeySequence.StandardKey.Save, self.save_case),
            ("save_as", "Save case &as…", QKeySequence.StandardKey.SaveAs, self.save_case_as),
            ("export", "&Export report…", QKeySequence("Ctrl+E"), self.export_report_dialog),
        ):
            action = QAction(title, self)
            action.setShortcut(keys)
            action.triggered.connect(lambda _=False, f=slot: f())
            file_menu.addAction(action)
            self.case_actions[name] = action
        file_menu.addSeparator()
        for side, title, keys in (
            ("q", "Open &Questioned (Q)…", QKeySequence.StandardKey.Open),
            ("k", "Open &Reference (K)…", QKeySequence("Ctrl+Shift+O")),
        ):
            action = QAction(title, self)
            action.setShortcut(keys)
            action.triggered.connect(lambda _=False, s=side: self.open_dialog(s))
            file_menu.addAction(action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        for name, title, slot in (
            ("details", "Case &details…", self.edit_case_details),
            ("gallery", "Choose background &gallery…", self.choose_gallery),
        ):
            action = QAction(title, self)
            action.triggered.connect(lambda _=False, f=slot: f())
            edit_menu.addAction(action)
            self.case_actions[name] = action
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("About Patchwise", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.device_label = QLabel(f"device: {self._device_text()}")
        self.model_label = QLabel("model: —")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(140)
        self.busy_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_comparison)
        self.report_bar = QProgressBar()
        self.report_bar.setRange(0, 100)
        self.report_bar.setFormat("report %p%")
        self.report_bar.setMaximumWidth(160)
        self.report_bar.setVisible(False)
        status.addPermanentWidget(self.report_bar)
        busy = QWidget()
        busy_layout = QHBoxLayout(busy)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        busy_layout.addWidget(self.busy_bar)
        busy_layout.addWidget(self.cancel_button)
        status.addPermanentWidget(busy)
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.device_label)

    def _device_text(self) -> str:
        device = str(self.engine.device)
        return "GPU (" + device + ")" if device.startswith("cuda") else "CPU"

    def _detector_tooltip(self) -> str:
        info = self.engine.detector.describe()
        weights = info.get("weights") or {}
        sha = weights.get("sha256", "") if isinstance(weights, dict) else ""
        return f"Face detector in use: {info.get('id')} (weights SHA-256 {sha[:16]}…)"

    # -- wiring -------------------------------------------------------------------------

    def _connect(self) -> None:
        for pane in self.panes.values():
            pane.fileDropped.connect(self.load_photo)
            pane.faceClicked.connect(self.choose_face)
            pane.alignedClicked.connect(self.state.select_patch_at)
        self.grid.cellClicked.connect(self.state.select_cell)
        self.grid.moveRequested.connect(self.state.move_selection)
        self.gauge.clicked.connect(self._gauge_details)
        self.model_box.currentTextChanged.connect(self._model_chosen)
        self.detector_box.currentTextChanged.connect(self._detector_chosen)
        self.calibration_box.activated.connect(self._calibration_chosen)
        self.maps.mapToggled.connect(self._map_toggled)
        self.maps.opacityChanged.connect(self._opacity_changed)
        self.maps.colormapChanged.connect(self._colormap_changed)
        self.maps.cancelRequested.connect(self._cancel_maps)
        self.maps.galleryRequested.connect(self.choose_gallery)
        self.runner.started.connect(self._jobs_changed)
        self.runner.stopped.connect(self._jobs_changed)
        self.state.subscribe("photo", self._photo_changed)
        self.state.subscribe("comparison", self._comparison_changed)
        self.state.subscribe("selection", self._selection_changed)
        self.state.subscribe("error", self._error_changed)
        self.state.subscribe("case", self._case_changed)
        self.state.subscribe("gallery", self._gallery_changed)

    # -- user intents ----------------------------------------------------------------

    def open_dialog(self, side: str) -> None:
        start = str(self.settings.value("last_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", start, IMAGE_FILTER)
        if path:
            self.settings.setValue("last_folder", str(Path(path).parent))
            self.load_photo(side, path)

    def load_photo(self, side: str, path: str, source=None) -> None:
        """Load and detect a photo in a worker; compare once both sides have a face.

        `source` (bytes, e.g. a case's stored original) is loaded instead of the
        file at `path`, which then only names it.
        """
        self.state.set_photo(side, path, source)
        self.panes[side].clear_photo()
        self.panes[side].show_message(f"Loading {Path(path).name}…")
        self.runner.start(
            f"prepare-{side}",
            prepare_job(self.engine, self.state.sources[side], Path(path).name),
            on_done=lambda prepared, s=side: self._prepared(s, prepared),
            on_error=lambda message, expected, s=side: self._failed(message, expected, s),
        )

    def choose_face(self, side: str, index: int) -> None:
        if self.state.choose_face(side, index):
            self.compare()

    @property
    def loading(self) -> bool:
        """Whether a photo is still being loaded or a comparison computed."""
        return any(self.runner.is_busy(c) for c in ("prepare-q", "prepare-k", "compare"))

    def compare(self) -> bool:
        """Start (or restart) the comparison of the chosen faces, discarding stale work.

        False when there is nothing to compare yet (a side has no photo or no face).
        """
        if not self.state.ready_to_compare:
            return False
        state = self.state
        self.runner.start(
            "compare",
            compare_job(
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
        for channel in ("prepare-q", "prepare-k", "compare"):
            self.runner.cancel(channel)
        self.statusBar().showMessage("Cancelled.", 5000)

    # -- results -----------------------------------------------------------------------

    def _prepared(self, side: str, prepared) -> None:
        self.state.set_prepared(side, prepared)
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
            self._load_provenance()

    def _failed(self, message: str, expected: bool, side: str | None) -> None:
        if not expected:
            report_unexpected(self, message)
            message = "An unexpected error occurred (see the log file named in the dialog)."
        if side is not None:
            self.panes[side].show_message(message)
        self.state.set_error(message)
        if not self.loading:
            self.ready.emit()

    def _load_provenance(self) -> None:
        """Describe every registered model in a worker, for the model box's tooltips."""
        device = self.engine.device

        def job(progress, cancelled):
            described = {}
            for model_id in model_ids():
                if cancelled():
                    break
                try:
                    with ENGINE_LOCK:
                        described[model_id] = load_model(model_id, device).describe()
                except PatchwiseError as exc:
                    described[model_id] = {"id": model_id, "error": str(exc)}
            return described

        self.runner.start("provenance", job, on_done=self._show_provenance)

    def _show_provenance(self, described: dict) -> None:
        for row in range(self.model_box.count()):
            info = described.get(self.model_box.itemText(row))
            if info is not None:
                self.model_box.setItemData(row, provenance_text(info), Qt.ItemDataRole.ToolTipRole)

    # -- state -> views ------------------------------------------------------------------

    def _photo_changed(self, side: str) -> None:
        prepared = self.state.prepared[side]
        if prepared is not None:
            self.panes[side].show_photo(prepared, self.state.face_index[side])

    def _comparison_changed(self) -> None:
        comparison = self.state.comparison
        self.grid.show_comparison(comparison)
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
        self.model_label.setText(f"model: {model['id']} sha256 {sha[:12]}")
        self.model_label.setToolTip(provenance_text(model))
        timings = ", ".join(f"{k} {v:.0f} ms" for k, v in comparison.timings_ms.items())
        self.statusBar().showMessage(f"Compared ({timings or 'from cache'}).", 10000)
        if self.maps.current not in (NONE, MARGINALS):
            self._map_toggled(self.maps.current)

    def _selection_changed(self) -> None:
        selection = self.state.selection
        comparison = self.state.comparison
        if selection is None or comparison is None:
            self.grid.show_selection(None, None)
            for pane in self.panes.values():
                pane.clear_patch()
            self._refresh_overlays()
            return
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
        busy = self.loading
        self.busy_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if not (self.runner.is_busy("explain") or self.runner.is_busy("gallery")):
            self.maps.set_busy(None)

    # -- maps over the aligned faces -------------------------------------------------------

    def _refresh_overlays(self) -> None:
        comparison = self.state.comparison
        for side in SIDES:
            self.panes[side].show_overlay(None if comparison is None else self._overlay(side))

    def _overlay(self, side: str):
        """Painted linked terms win; else the chosen map; the scale is symmetric about 0."""
        comparison = self.state.comparison
        layout = comparison.decomposition.layout
        painted = self.state.painted_terms(side)
        if painted is not None:
            values = paint_boxes(painted, layout.boxes, layout.input_size)
        elif self.maps.current == MARGINALS:
            d = comparison.decomposition
            marginals = d.row_marginals() if side == "q" else d.column_marginals()
            values = paint_boxes(marginals, layout.boxes, layout.input_size)
        elif self.maps.current in explainer_jobs.TOGGLES:
            cached = self._map_cache.get(self._map_key(self.maps.current))
            if cached is None:
                return None
            values = cached["map_a" if side == "q" else "map_b"]
        else:
            return None
        return overlay_rgba(values, self._cmap, self._overlay_opacity)

    def _map_key(self, name: str) -> tuple:
        state = self.state
        pair = tuple((state.prepared[s].evidence.sha256, state.face_index[s]) for s in SIDES)
        return explainer_jobs.cache_key(name, pair, state.model_id, self._gallery_for(name))

    def _gallery_for(self, name: str):
        """The background gallery an explainer toggle uses (SDD only), else None."""
        return self.state.gallery if explainer_jobs.TOGGLES[name][0] == "sdd" else None

    def _map_toggled(self, name: str) -> None:
        """Show a map; an explainer not yet cached for this pair starts in a worker."""
        self.runner.cancel("explain")
        self.maps.set_busy(None)
        comparison = self.state.comparison
        if name in explainer_jobs.TOGGLES and comparison is not None:
            key = self._map_key(name)
            if key not in self._map_cache:
                self.maps.set_busy(0.0, name)
                self.runner.start(
                    "explain",
                    explainer_jobs.explain_job(name, comparison, self._gallery_for(name)),
                    on_done=lambda result, k=key, n=name: self._explained(k, n, result),
                    on_error=lambda message, expected: self._failed(message, expected, None),
                    on_progress=lambda fraction, text: self.maps.set_busy(fraction, text),
                )
        self.maps.info.setText(self._map_info(name))
        self._refresh_overlays()

    def _explained(self, key: tuple, name: str, result: dict) -> None:
        self._map_cache[key] = result
        self.maps.set_busy(None)
        if self.maps.current == name:
            self.maps.info.setText(self._map_info(name))
            self._refresh_overlays()
        self.explained.emit(name)

    def _map_info(self, name: str) -> str:
        if name == MARGINALS:
            return (
                "Each cell is painted with its exact share of the score: Q with its row "
                "sums, K with its column sums (pair terms plus head-bias terms)."
            )
        if name == NONE:
            return "Click a cell on one aligned face to paint its terms onto the other."
        if self.state.comparison is None:
            return ""
        cached = self._map_cache.get(self._map_key(name))
        return cached["info"] if cached is not None else f"Computing {name}…"

    def _update_toggles(self) -> None:
        """Disable the explainers that cannot run for the current model, saying why."""
        comparison = self.state.comparison
        if comparison is None:
            for name in explainer_jobs.TOGGLES:
                reason = explainer_jobs.gallery_reason(
                    name, self.state.model_id, self._gallery_for(name), self.state.gallery_model
                )
                self.maps.buttons[name].setEnabled(reason is None)
                self.maps.buttons[name].setToolTip(reason or explainer_jobs.settings_text(name))
            return
        model = load_model(comparison.model["id"], self.engine.device)
        state = self.state
        for name in explainer_jobs.TOGGLES:
            reason = explainer_jobs.unavailable_reason(
                name, model, self._gallery_for(name), state.gallery_model
            )
            button = self.maps.buttons[name]
            button.setEnabled(reason is None)
            button.setToolTip(reason or explainer_jobs.settings_text(name, self._gallery_for(name)))
        if not self.maps.group.checkedButton().isEnabled():
            self.maps.choose(NONE)

    def _opacity_changed(self, value: float) -> None:
        self._overlay_opacity = value
        self._refresh_overlays()

    def _colormap_changed(self, name: str) -> None:
        self._cmap = name
        self.settings.setValue("colormap", name)
        self.grid.set_colormap(name)
        self._refresh_overlays()

    # -- settings -------------------------------------------------------------------------

    def _model_chosen(self, model_id: str) -> None:
        self.settings.setValue("model", model_id)
        self.state.set_model(model_id)
        self._refresh_gallery()
        self.compare()

    def _detector_chosen(self, kind: str) -> None:
        if self._detector_factory is None or kind == self.state.detector:
            return
        try:
            self.engine = self._detector_factory(kind)
        except PatchwiseError as exc:
            self.state.set_error(str(exc))
            self.detector_box.blockSignals(True)
            self.detector_box.setCurrentText(self.state.detector)
            self.detector_box.blockSignals(False)
            return
        self.settings.setValue("detector", kind)
        self.detector_box.setToolTip(self._detector_tooltip())
        self.state.set_detector(kind)
        for side in SIDES:
            if self.state.paths[side]:
                self.load_photo(side, self.state.paths[side], self.state.sources[side])

    def _calibration_chosen(self, index: int) -> None:
        choice = self.calibration_box.itemData(index)
        if choice == "":
            path, _ = QFileDialog.getOpenFileName(
                self, "Open a calibration file", "", "Calibration (*.json)"
            )
            if not path:
                self.calibration_box.setCurrentIndex(
                    max(0, self.calibration_box.findData(self.calibration_choice))
                )
                return
            choice = path
        self.set_calibration(choice)

    def set_calibration(self, choice: str) -> None:
        """Use no calibration ("none"), the bundled DEMO one ("demo"), or a file's path."""
        if self.calibration_box.findData(choice) < 0:
            self.calibration_box.insertItem(2, Path(choice).name, choice)
        self.calibration_box.setCurrentIndex(self.calibration_box.findData(choice))
        self.calibration_choice = choice
        self.settings.setValue("calibration", choice)
        self._update_evidence()

    def _calibration(self):
        """The chosen calibration for the current model; errors go to the banner."""
        comparison = self.state.comparison
        try:
            return self.calibrations.get(self.calibration_choice, comparison.model)
        except PatchwiseError as exc:
            self.state.set_error(str(exc))
            return None

    def _update_evidence(self) -> None:
        comparison = self.state.comparison
        if comparison is None:
            chosen = self.calibration_box.currentText()
            status = (
                "uncalibrated"
                if self.calibration_choice == lr_view.NONE
                else (f"{chosen} chosen; it applies once a pair is compared")
            )
            self.gauge.set_result(None, None, status, [])
            return
        result = lr_view.evidence(comparison, self._calibration())
        status = result.calibration_status
        if self.calibration_choice == lr_view.DEMO and result.calibration is None:
            status += f" (no DEMO calibration is bundled for {comparison.model['id']})"
        self.gauge.set_result(result.score, result.threshold, status, lr_view.gauge_text(result))

    def _gauge_details(self) -> None:
        comparison = self.state.comparison
        calibration = self._calibration() if comparison is not None else None
        if calibration is None:
            QMessageBox.information(
                self,
                "Evidence details",
                "The score distributions and the Tippett plot come from a calibration. "
                "Choose the DEMO calibration or a lab calibration file in the toolbar "
                "(after a comparison). Without one, the cosine is not a likelihood ratio.",
            )
            return
        dialog = lr_view.EvidenceDetails(
            calibration, lr_view.evidence(comparison, calibration), self
        )
        dialog.open()
        self._details = dialog

    def _about(self) -> None:
        from gui.about_dialog import AboutDialog

        AboutDialog(self.runner, self).open()

    # -- cases and reports ----------------------------------------------------------------
    # Dialogs go through ask_* / show_* methods so that tests can replace them.

    def ask_discard(self) -> str:
        """SAVE, DISCARD or CANCEL: what to do with unsaved work."""
        answer = QMessageBox.question(
            self,
            "Unsaved work",
            "The current comparison has unsaved changes. Save the case first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {
            QMessageBox.StandardButton.Save: SAVE,
            QMessageBox.StandardButton.Discard: DISCARD,
        }.get(answer, CANCEL)

    def ask_open_path(self, title: str, file_filter: str) -> str:
        start = str(self.settings.value("last_case_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, title, start, file_filter)
        return path

    def ask_save_path(self, title: str, file_filter: str, suggested: str) -> str:
        start = str(self.settings.value("last_case_folder", str(Path.home())))
        suggested_path = str(Path(start) / suggested)
        path, _ = QFileDialog.getSaveFileName(self, title, suggested_path, file_filter)
        return path

    def ask_case_details(self, current: dict[str, str]) -> dict[str, str] | None:
        """The edited case details, or None when the dialog was cancelled."""
        dialog = CaseDetailsDialog(current, self)
        return dialog.details() if dialog.exec() == CaseDetailsDialog.DialogCode.Accepted else None

    def ask_gallery_folder(self) -> str:
        start = str(self.settings.value("gallery_folder", str(Path.home())))
        return QFileDialog.getExistingDirectory(self, "Choose a background gallery", start)

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def show_warning(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

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
        self.runner.cancel("explain")
        self.cancel_comparison()
        self.state.new_case()
        for pane in self.panes.values():
            pane.clear_photo()
        return True

    def open_case_dialog(self) -> bool:
        if not self.may_discard():
            return False
        path = self.ask_open_path("Open a case", CASE_FILTER)
        return bool(path) and self.open_case(path)

    def open_case(self, path: str) -> bool:
        """Verify a .pwcase, load its stored originals and recompute its comparison."""
        try:
            case, files, verification = read_case_file(path)
        except PatchwiseError as exc:
            self.show_error("Cannot open the case", str(exc))
            return False
        self.settings.setValue("last_case_folder", str(Path(path).parent))
        if not verification.ok:
            self.show_warning(
                "Case integrity check FAILED",
                f"{Path(path).name} was altered or damaged since it was saved:\n\n"
                + "\n".join(f"• {p}" for p in verification.problems)
                + "\n\nIts results cannot be relied on.",
            )
        missing = [r for r in ("A", "B") if r not in files]
        if missing:
            self.show_error(
                "Cannot open the case", f"The stored original(s) {', '.join(missing)} are missing."
            )
            return False
        model_id = case.settings["model_id"]
        if model_id not in model_ids():
            self.show_error("Cannot open the case", f"The case's model {model_id} is missing.")
            return False
        self.runner.cancel("explain")
        self.cancel_comparison()  # no stale result may end the restoring
        self.state.begin_restoring(case, path, verification, model_id)
        self.model_box.blockSignals(True)
        self.model_box.setCurrentText(model_id)
        self.model_box.blockSignals(False)
        self._refresh_gallery()
        for side, role in zip(SIDES, ("A", "B"), strict=True):
            self.load_photo(side, case.input(role).name, files[role])
        self.statusBar().showMessage(f"Opened case {case.case_id}: {verification.summary()}")
        return True

    def save_case(self) -> bool:
        if self.state.case_path is None:
            return self.save_case_as()
        return self.save_case_to(self.state.case_path)

    def save_case_as(self) -> bool:
        if not self._has_comparison("save a case"):
            return False
        path = self.ask_save_path("Save the case", CASE_FILTER, self._suggested(CASE_SUFFIX))
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
            case, calibration_bytes, _ = self._current_case()
            files = case_jobs.stored_files(case, self._originals(), calibration_bytes)
            save_case(case, path, files)
        except (PatchwiseError, OSError) as exc:
            self.show_error("Cannot save the case", str(exc))
            return False
        self.settings.setValue("last_case_folder", str(Path(path).parent))
        self.state.mark_saved(case, path)
        self.statusBar().showMessage(f"Case {case.case_id} saved to {path}.", 10000)
        return True

    def export_report_dialog(self) -> bool:
        if not self._has_comparison("export a report"):
            return False
        path = self.ask_save_path("Export the PDF report", PDF_FILTER, self._suggested(".pdf"))
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
            case, _, explanations = self._current_case()
        except (PatchwiseError, OSError) as exc:
            self.show_error("Cannot export the report", str(exc))
            return False
        comparison, verification = self.state.comparison, self.state.case_verification
        self.report_bar.setValue(0)
        self.report_bar.setVisible(True)
        self.runner.start(
            "report",
            case_jobs.report_job(case, comparison, path, verification, explanations),
            on_done=self._report_written,
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

    def load_gallery(self, folder: str) -> None:
        """Embed the gallery with the current model in a worker (progress and cancel)."""
        model_id = self.state.model_id
        self.maps.set_busy(0.0, "gallery")
        self.runner.start(
            "gallery",
            explainer_jobs.gallery_job(folder, self.engine, model_id),
            on_done=lambda gallery, m=model_id: self.state.set_gallery(gallery, m),
            on_error=lambda message, expected: self._failed(message, expected, None),
            on_progress=lambda fraction, text: self.maps.set_busy(fraction, text),
        )

    def _refresh_gallery(self) -> None:
        """Embed the chosen gallery again when the model changed (embeddings are per model)."""
        gallery = self.state.gallery
        if gallery is not None and self.state.gallery_model != self.state.model_id:
            self.load_gallery(gallery.folder)

    def _cancel_maps(self) -> None:
        self.runner.cancel("explain")
        self.runner.cancel("gallery")

    def _gallery_changed(self) -> None:
        self.maps.gallery_label.setText(explainer_jobs.gallery_text(self.state.gallery))
        self._update_toggles()
        self.maps.info.setText(self._map_info(self.maps.current))
        self.gallery_ready.emit()

    def _report_written(self, result) -> None:
        path, digest = result
        self.report_bar.setVisible(False)
        self.state.mark_dirty()  # the case's audit log has a "report exported" entry
        self.statusBar().showMessage(f"Report written to {path} (SHA-256 {digest[:16]}…).", 10000)

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

    def _suggested(self, suffix: str) -> str:
        case = self.state.case
        return (case.case_id if case is not None else "case") + suffix

    def _current_case(self):
        """The case brought up to date with the comparison, the calibration and the maps.

        Returns (case, the calibration file's bytes or None, the Explanations in
        the case's order).
        """
        calibration = self._calibration()
        data = Path(calibration.path).read_bytes() if calibration is not None else None
        case = case_jobs.case_for_comparison(
            self.state.case, self.state.comparison, calibration, data
        )
        case_jobs.apply_details(case, self.state.case_details)
        self.state.case_details = None  # now in the case
        computed = [self._map_cache.get(self._map_key(label)) for label in explainer_jobs.TOGGLES]
        recordable = [c for c in computed if c and c["method"] not in explainer_jobs.NOT_RECORDED]
        explanations = case_jobs.record_explanations(case, recordable)
        self.state.case = case
        return case, data, explanations

    def _originals(self) -> dict[str, bytes]:
        """The compared photos' bytes: a case's stored originals, or the files on disk."""
        originals = {}
        for side, role in zip(SIDES, ("A", "B"), strict=True):
            source = self.state.sources[side]
            originals[role] = source if isinstance(source, bytes) else Path(source).read_bytes()
        return originals

    def _case_changed(self) -> None:
        case = self.state.case
        name = Path(self.state.case_path).name if self.state.case_path else "unsaved"
        title = f"case {case.case_id} ({name})" if case is not None else "no case"
        self.setWindowTitle(
            f"Patchwise: forensic face comparison workbench — {title}"
            + (" *" if self.state.dirty else "")
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


def provenance_text(info: dict) -> str:
    """A model's provenance as tooltip text."""
    if "error" in info:
        return f"{info['id']}: unavailable ({info['error']})"
    lines = [f"<b>{info['id']}</b>: {info.get('label', '')}"]
    for key in ("weights_file", "weights_sha256", "source", "origin", "license", "input"):
        if info.get(key):
            lines.append(f"{key}: {info[key]}")
    return "<br>".join(lines)
