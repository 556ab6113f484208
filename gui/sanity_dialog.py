"""The result of the randomisation sanity check of a map: correlations, verdict, maps.

A small non-modal dialog: one row per randomisation level (Spearman rho of the
original map against the randomised model's map, for Q and K), the verdict with
its threshold (core/explainers/sanity.py says where the threshold comes from),
and the original and fully randomised maps side by side on each aligned face.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.explainers.overlay import render_overlay
from core.workbench.map_sanity import level_rows, verdict_line

HEADERS = ("Layers re-drawn", "ρ Q", "ρ K", "mean")
THUMB = 150  # px on screen per face


def _pixmap(rgb: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(
        THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class SanityDialog(QDialog):
    """Shows one sanity-check result; `table` and `verdict` are read by the tests."""

    def __init__(self, label: str, comparison, cached: dict, outcome: dict, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Sanity check of {label}")
        sanity = outcome["sanity"]
        intro = QLabel(
            f"<b>{label}</b> on model <b>{comparison.model.id}</b>, seed {sanity['seed']}: "
            "the model's layers are re-drawn at random from the top down (Adebayo et al., "
            "model-parameter randomisation) and the map is made again with the same seed. "
            "Spearman ρ compares each randomised map with the original: a map that explains "
            "the model must change (ρ falls towards 0)."
        )
        intro.setWordWrap(True)
        rows = level_rows(sanity)
        self.table = QTableWidget(len(rows), len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        heights = sum(self.table.rowHeight(r) for r in range(len(rows)))
        self.table.setFixedHeight(self.table.horizontalHeader().height() + heights + 4)
        self.verdict = QLabel(verdict_line(sanity))
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(self.verdict)
        if outcome["maps"]:
            layout.addLayout(self._maps(comparison, cached, outcome["maps"][-1]))
        self.resize(640, 680)

    @staticmethod
    def _maps(comparison, cached: dict, last) -> QGridLayout:
        """Original and fully randomised map on each aligned face (one colour scale each)."""
        level, random_a, random_b = last
        grid = QGridLayout()
        heads = ("original model", f"top {level['randomised_layers']} groups re-drawn")
        for column, head in enumerate(heads, start=1):
            grid.addWidget(QLabel(f"<b>{head}</b>"), 0, column)
        sides = (
            ("Q", comparison.a.aligned.image, cached["map_a"], random_a),
            ("K", comparison.b.aligned.image, cached["map_b"], random_b),
        )
        for row, (name, face, original, randomised) in enumerate(sides, start=1):
            grid.addWidget(QLabel(f"<b>{name}</b>"), row, 0)
            for column, heat in enumerate((original, randomised), start=1):
                picture = QLabel()
                picture.setPixmap(_pixmap(render_overlay(face, heat)))
                grid.addWidget(picture, row, column)
        note = QLabel("Red raises the score, blue lowers it; each map on its own scale.")
        note.setWordWrap(True)
        grid.addWidget(note, len(sides) + 1, 0, 1, 3)
        return grid
