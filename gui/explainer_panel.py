"""The explainer panel: which map lies over the aligned faces, how opaque, in which colours.

One toggle per available map (exclusive). The exact decomposition marginals are
instant (each cell's row or column sum of pair terms, painted over its box).
A post-hoc explainer toggle starts a worker (progress bar and cancel here; the
main window runs the job and caches the result). SDD also needs a background
gallery: the "Choose background gallery…" button asks the window for one.
"Sanity check this map…" asks the window to run the randomisation check of the map
on show (core/workbench/map_sanity.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from gui.colormaps import DIVERGING

MARGINALS = "Decomposition marginals (exact)"
NONE = "No map"


class ExplainerPanel(QWidget):
    """Map toggles, opacity, colour map, progress and cancel, and a note on what is missing."""

    mapToggled = Signal(str)  # the chosen map's name (NONE for none)
    opacityChanged = Signal(float)
    colormapChanged = Signal(str)
    cancelRequested = Signal()
    galleryRequested = Signal()
    sanityRequested = Signal()

    def __init__(self, explainers: list[str], parent=None):
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        toggles = QVBoxLayout()
        toggles.setSpacing(2)
        for number, name in enumerate((NONE, MARGINALS, *explainers)):
            button = QPushButton(name)
            button.setCheckable(True)
            if number < 10:
                button.setShortcut(QKeySequence(f"Alt+{number}"))  # Alt+0 none, Alt+1 marginals
            self.group.addButton(button)
            self.buttons[name] = button
            toggles.addWidget(button)
        self.buttons[NONE].setChecked(True)
        self.group.buttonToggled.connect(self._toggled)

        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(55)
        self.opacity.valueChanged.connect(lambda v: self.opacityChanged.emit(v / 100.0))
        self.colormap = QComboBox()
        # Long names must not widen the panel (the window fits 1280 px): the box elides them.
        self.colormap.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.colormap.setMinimumContentsLength(14)
        self.colormap.addItems(list(DIVERGING))
        self.colormap.currentTextChanged.connect(self.colormapChanged)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(self.cancelRequested)
        self.gallery_button = QPushButton("Choose background gallery…")
        self.gallery_button.setToolTip(
            "A folder of face photos of other people: SDD contrasts the pair against "
            "the gallery faces most similar to each photo."
        )
        self.gallery_button.clicked.connect(self.galleryRequested)
        self.sanity_button = QPushButton("Sanity check this map…")
        self.sanity_button.clicked.connect(self.sanityRequested)
        self.gallery_label = QLabel("Background gallery: none (SDD needs one).")
        self.gallery_label.setWordWrap(True)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Opacity"))
        controls.addWidget(self.opacity, 1)
        colours = QHBoxLayout()
        colours.addWidget(QLabel("Colours"))
        colours.addWidget(self.colormap, 1)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(QLabel("<b>Maps over the aligned faces</b>"))
        layout.addLayout(toggles)
        layout.addWidget(self.sanity_button)
        layout.addWidget(self.gallery_button)
        layout.addWidget(self.gallery_label)
        layout.addLayout(controls)
        layout.addLayout(colours)
        layout.addLayout(busy)
        layout.addWidget(self.info)
        layout.addStretch(1)

    @property
    def current(self) -> str:
        button = self.group.checkedButton()
        return button.text() if button is not None else NONE

    def choose(self, name: str) -> None:
        self.buttons[name].setChecked(True)

    def set_busy(self, fraction: float | None, text: str = "") -> None:
        """Show progress (0..1) with the cancel button, or hide both (None)."""
        busy = fraction is not None
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)
        if busy:
            self.progress.setValue(int(round(100 * fraction)))
            self.progress.setFormat(f"{text} %p%" if text else "%p%")

    def _toggled(self, button, checked: bool) -> None:
        if checked:
            self.mapToggled.emit(button.text())
