"""The window's settings toolbar and status bar widgets (views only; the window wires them)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QToolBar,
    QWidget,
)

from core.models.registry import available_model_ids
from core.strength_of_evidence.calibration_choice import DEMO, NONE

DETECTORS = ("auto", "mtcnn", "insightface")
OTHER_FILE = ""  # the calibration box's "Lab calibration file…" entry


def model_box(ids: list[str], current: str) -> QComboBox:
    box = QComboBox()
    box.addItems(ids)
    box.setCurrentText(current)
    box.setToolTip("Recognition model; hover an entry for its provenance")
    return box


def detector_box(current: str) -> QComboBox:
    box = QComboBox()
    box.addItems(DETECTORS)
    box.setCurrentText(current)
    return box


def calibration_box(choice: str) -> QComboBox:
    box = QComboBox()
    box.addItem("Uncalibrated", NONE)
    box.addItem("DEMO calibration (bundled)", DEMO)
    box.addItem("Lab calibration file…", OTHER_FILE)
    show_calibration(box, choice)
    box.setToolTip(
        "Turns the score into C-Score and a likelihood ratio. The DEMO calibration "
        "comes from a few shared photos: it is not for casework."
    )
    return box


def show_calibration(box: QComboBox, choice: str) -> None:
    """Select `choice` in the box, adding a lab file's entry when it is new."""
    if box.findData(choice) < 0:
        box.insertItem(2, Path(choice).name, choice)
    box.setCurrentIndex(box.findData(choice))


def provenance_text(info: dict) -> str:
    """A model's provenance as tooltip text."""
    if "error" in info:
        return f"{info['id']}: unavailable ({info['error']})"
    lines = [f"<b>{info['id']}</b>: {info.get('label', '')}"]
    for key in ("weights_file", "weights_sha256", "source", "origin", "license", "input"):
        if info.get(key):
            lines.append(f"{key}: {info[key]}")
    return "<br>".join(lines)


def show_provenance(box: QComboBox, described: dict) -> None:
    """Each model entry's tooltip: its provenance (from a provenance job)."""
    for row in range(box.count()):
        info = described.get(box.itemText(row))
        if info is not None:
            box.setItemData(row, provenance_text(info), Qt.ItemDataRole.ToolTipRole)


def show_about(window) -> None:
    """Help → About: version, model provenance and third-party licences."""
    from gui.about_dialog import AboutDialog

    AboutDialog(window.runner, window).open()


def detector_tooltip(engine) -> str:
    info = engine.detector.describe()
    weights = info.get("weights") or {}
    sha = weights.get("sha256", "") if isinstance(weights, dict) else ""
    return f"Face detector in use: {info.get('id')} (weights SHA-256 {sha[:16]}…)"


def device_text(engine) -> str:
    device = str(engine.device)
    return "GPU (" + device + ")" if device.startswith("cuda") else "CPU"


SIGNATURE_STYLES = {
    "error": "background: #b71c1c; color: white; padding: 6px; font-weight: bold;",
    "warning": "background: #fff3cd; color: #6b4e00; padding: 4px; border: 1px solid #e0c060;",
}


def signature_banner() -> QLabel:
    """The banner above the workbench for a case modified after signing (red) or not
    signed by a trusted key (amber); hidden otherwise."""
    banner = QLabel()
    banner.setWordWrap(True)
    banner.setVisible(False)
    return banner


def show_signature(banner: QLabel, label: QLabel, text: str, severity: str) -> None:
    """Show a case's signature status in the status bar label and, when it is not
    signed by a trusted key, in the banner."""
    label.setText(text)
    label.setToolTip(text)
    if severity in SIGNATURE_STYLES:
        headline = (
            "MODIFIED AFTER SIGNING — do not rely on this case. "
            if severity == "error"
            else "This case is not signed by a trusted key. "
        )
        banner.setText(headline + text)
        banner.setStyleSheet(SIGNATURE_STYLES[severity])
    banner.setVisible(severity in SIGNATURE_STYLES)


def keep_place_when_hidden(widget: QWidget) -> None:
    """Hidden, `widget` keeps its space: showing it never re-lays out the window.

    A progress bar appearing in the status bar narrowed the word-wrapped case
    banner beside it; the taller status bar then shrank every view above, and
    pyqtgraph redrew them all while the report worker started (issue 15, the
    first export's GUI-thread gap in tests/test_gui_heartbeat.py).
    """
    policy = widget.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    widget.setSizePolicy(policy)


class StatusWidgets:
    """The status bar's permanent widgets: report progress, busy bar + Cancel, signature,
    model, device."""

    def __init__(self, status_bar, engine, on_cancel):
        self.signature_label = QLabel("Signature: not saved yet")
        self.signature_label.setMaximumWidth(420)
        self.device_label = QLabel(f"device: {device_text(engine)}")
        self.model_label = QLabel("model: —")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(140)
        self.busy_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(on_cancel)
        self.report_bar = QProgressBar()
        self.report_bar.setRange(0, 100)
        self.report_bar.setFormat("report %p%")
        self.report_bar.setMaximumWidth(160)
        self.report_bar.setVisible(False)
        busy = QWidget()
        busy_layout = QHBoxLayout(busy)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        busy_layout.addWidget(self.busy_bar)
        busy_layout.addWidget(self.cancel_button)
        for widget in (self.report_bar, self.busy_bar, self.cancel_button):
            keep_place_when_hidden(widget)
        widgets = (self.report_bar, busy, self.signature_label, self.model_label, self.device_label)
        for widget in widgets:
            status_bar.addPermanentWidget(widget)
        # The permanent widgets keep their place, so a long message can be cut at the
        # window's edge (seen at 1280 px): hovering the bar shows it whole.
        # (a plain function: PySide cannot take the C++ setter itself as a slot, and warns)
        status_bar.messageChanged.connect(lambda message: status_bar.setToolTip(message))

    def show_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)


class DismissableBanner(QWidget):
    """A message that stays until the examiner dismisses it (e.g. an opened case's integrity)."""

    def __init__(self, style: str):
        super().__init__()
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(dismiss)
        self.setStyleSheet(style)
        self.setVisible(False)

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(True)


def link_zoom_box(panes: dict) -> QCheckBox:
    """A toggle that makes Q's and K's aligned faces zoom and pan together."""
    box = QCheckBox("Link Q/K zoom")
    box.setToolTip("Zoom and pan the two aligned faces together (they share one frame)")

    def link(checked: bool) -> None:
        view_q, view_k = panes["q"].aligned_view, panes["k"].aligned_view
        view_k.setXLink(view_q if checked else None)
        view_k.setYLink(view_q if checked else None)

    box.toggled.connect(link)
    return box


def threshold_box() -> QDoubleSpinBox:
    """The examiner's threshold on the score; its lowest value reads "default"."""
    box = QDoubleSpinBox()
    box.setRange(-1.01, 1.0)
    box.setDecimals(3)
    box.setSingleStep(0.01)
    box.setSpecialValueText("default")
    box.setValue(box.minimum())
    box.setKeyboardTracking(False)
    box.setToolTip(
        "Your decision threshold on the score, recorded in the case and the report beside "
        "the default's provenance. Ignored with a calibration (it brings its own)."
    )
    return box


def show_threshold(box: QDoubleSpinBox, threshold: float | None) -> None:
    box.blockSignals(True)
    box.setValue(box.minimum() if threshold is None else threshold)
    box.blockSignals(False)


def display_controls(panes: dict) -> QWidget:
    """Brightness and contrast sliders for looking at the photos (display only)."""
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    box.brightness, box.contrast = (
        QSlider(Qt.Orientation.Horizontal),
        QSlider(Qt.Orientation.Horizontal),
    )
    box.brightness.setRange(-100, 100)
    box.contrast.setRange(20, 400)
    box.contrast.setValue(100)

    def apply() -> None:
        for pane in panes.values():
            pane.set_display(box.brightness.value() / 100, box.contrast.value() / 100)

    for label, slider in (("  Brightness", box.brightness), ("Contrast", box.contrast)):
        slider.setMaximumWidth(80)
        slider.setToolTip("Display only: the compared, stored and reported pixels are unchanged")
        slider.valueChanged.connect(apply)
        layout.addWidget(QLabel(label))
        layout.addWidget(slider)
    return box


def build_toolbar(window) -> None:
    """The settings toolbar: model, detector, calibration, threshold, zoom link, display.

    The boxes become attributes of the window (model_box, detector_box, ...).
    """
    bar = QToolBar("Settings")
    bar.setObjectName("settings-toolbar")
    window.addToolBar(bar)
    menu = available_model_ids()  # bundled, checkpoints, pack models
    if window.state.model_id not in menu:
        menu.append(window.state.model_id)  # a checkpoint directory given by path
    window.model_box = model_box(menu, window.state.model_id)
    window.detector_box = detector_box(window.state.detector)
    window.detector_box.setToolTip(detector_tooltip(window.engine))
    window.calibration_box = calibration_box(window.session.calibration_choice)
    window.threshold_box = threshold_box()
    window.link_zoom = link_zoom_box(window.panes)
    window.display = display_controls(window.panes)
    for title, box in (
        (" Model ", window.model_box),
        ("  Detector ", window.detector_box),
        ("  Calibration ", window.calibration_box),
        ("  Threshold ", window.threshold_box),
        ("", window.link_zoom),
        ("", window.display),
    ):
        bar.addWidget(QLabel(title))
        bar.addWidget(box)
