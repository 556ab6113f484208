"""Evidence strength in the GUI: the gauge's text and the details dialog.

All numbers come from core.strength_of_evidence; the calibration choice and its
loading are core.strength_of_evidence.calibration_choice, used through
core.workbench.Session.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout

from core.strength_of_evidence.evidence_section import EvidenceResult

PROPOSITIONS = {"hp": "Hp (same person)", "hd": "Hd (different persons)"}
NO_CALIBRATION_TEXT = (
    "The score distributions and the Tippett plot come from a calibration. "
    "Choose the DEMO calibration or a lab calibration file in the toolbar "
    "(after a comparison). Without one, the cosine is not a likelihood ratio."
)


def gauge_text(result: EvidenceResult) -> list[str]:
    """The evidence lines under the gauge."""
    lines = [f"Threshold: {result.threshold_source}"]
    if result.c_score is not None:
        c = result.c_score
        lines.append(f"C-Score {c['c_score']:.3f} (folds {c['fold_min']:.3f}–{c['fold_max']:.3f})")
    if result.log10_lr is not None:
        bounded = " (ELUB-bounded)" if result.elub_applied else ""
        verbal = result.verbal
        support = (
            "neutral"
            if verbal["category"] == "neutral"
            else f"{verbal['category']} support for {PROPOSITIONS.get(verbal['supports'], '?')}"
        )
        lines.append(f"log10 LR {result.log10_lr:+.2f}{bounded}: {support}")
        lines.append(verbal["statement"])
    else:
        lines.append("No likelihood ratio: load a calibration (toolbar) for C-Score and LR.")
    return lines


class EvidenceDetails(QDialog):
    """The calibration's genuine/impostor score distributions and Tippett plot, case marked."""

    def __init__(self, calibration, result: EvidenceResult, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Evidence details: {calibration.status}")
        self.resize(900, 460)
        data = calibration.data
        plots = pg.GraphicsLayoutWidget()
        plots.setBackground("w")
        genuine = np.asarray(data["scores"]["genuine"])
        impostor = np.asarray(data["scores"]["impostor"])
        dist = plots.addPlot(title="Calibration scores (cosine)")
        dist.addLegend()
        edges = np.linspace(min(genuine.min(), impostor.min()), 1.0, 31)
        for values, colour, name in (
            (impostor, (60, 90, 200), "impostor"),
            (genuine, (200, 60, 50), "genuine"),
        ):
            counts, _ = np.histogram(values, bins=edges, density=True)
            dist.plot(
                edges,
                counts,
                stepMode="center",
                fillLevel=0,
                brush=(*colour, 80),
                pen=pg.mkPen(colour, width=2),
                name=name,
            )
        dist.addItem(pg.InfiniteLine(result.score, pen=pg.mkPen("k", width=2), label="this case"))
        dist.setLabel("bottom", "cosine")
        tippett = plots.addPlot(title="Tippett plot (cross-validated, ELUB-bounded)")
        tippett.addLegend()
        for key, colour, name in (
            ("log10_lr_genuine", (200, 60, 50), "genuine"),
            ("log10_lr_impostor", (60, 90, 200), "impostor"),
        ):
            llrs = np.sort(np.asarray(data["tippett"][key]))
            share = 1.0 - np.arange(len(llrs)) / len(llrs)  # proportion with log10 LR >= x
            tippett.plot(llrs, share, stepMode=None, pen=pg.mkPen(colour, width=2), name=name)
        if result.log10_lr is not None:
            tippett.addItem(
                pg.InfiniteLine(result.log10_lr, pen=pg.mkPen("k", width=2), label="this case")
            )
        tippett.setLabel("bottom", "log10 LR")
        tippett.setLabel("left", "proportion ≥ x")
        counts = data["counts"]
        note = QLabel(
            f"{calibration.status}: {data['name']} ({counts['genuine']} genuine, "
            f"{counts['impostor']} impostor pairs; calibrator {data['calibrator']['kind']}). "
            f"File: {calibration.path}"
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(plots, 1)
        layout.addWidget(note)
