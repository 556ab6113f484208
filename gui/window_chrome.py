"""The window's settings toolbar and status bar widgets (views only; the window wires them)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

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


def show_about(parent) -> None:
    from core import __version__

    QMessageBox.about(
        parent,
        "About Patchwise",
        f"Patchwise {__version__}: forensic face comparison with exactly decomposed "
        "similarity scores. Runs offline.",
    )


def detector_tooltip(engine) -> str:
    info = engine.detector.describe()
    weights = info.get("weights") or {}
    sha = weights.get("sha256", "") if isinstance(weights, dict) else ""
    return f"Face detector in use: {info.get('id')} (weights SHA-256 {sha[:16]}…)"


def device_text(engine) -> str:
    device = str(engine.device)
    return "GPU (" + device + ")" if device.startswith("cuda") else "CPU"


class StatusWidgets:
    """The status bar's permanent widgets: report progress, busy bar + Cancel, model, device."""

    def __init__(self, status_bar, engine, on_cancel):
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
        for widget in (self.report_bar, busy, self.model_label, self.device_label):
            status_bar.addPermanentWidget(widget)

    def show_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
