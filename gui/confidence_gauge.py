"""A custom-painted gauge: the cosine against a threshold, and the evidence strength.

The scale runs over the cosine's full range [-1, 1]. The threshold is marked;
the needle is the comparison's score. Below it, the C-Score and log10 LR on
the verbal scale appear once a calibration gives them; the calibration's
status ("uncalibrated", "DEMO calibration — not for casework", or the lab
calibration's name) is always written out. A click asks for the details.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

UNCALIBRATED = "uncalibrated"


class ConfidenceGauge(QWidget):
    """Score vs threshold on a [-1, 1] scale, with calibration status and evidence text."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.score: float | None = None
        self.threshold: float | None = None
        self.status = UNCALIBRATED
        self.evidence_lines: list[str] = []
        self.setFixedHeight(108)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click for the score distributions and the Tippett plot")

    def set_result(
        self, score: float | None, threshold: float | None, status: str, lines: list[str]
    ) -> None:
        """The score, the threshold in force (None: none documented), calibration status, text."""
        self.score = score
        self.threshold = threshold
        self.status = status
        self.evidence_lines = list(lines)
        self.setFixedHeight(72 + 18 * (1 + len(self.evidence_lines)))
        self.setToolTip(
            "<br>".join([f"Calibration: {status}", *self.evidence_lines])
            + "<br><i>Click for the score distributions and the Tippett plot.</i>"
        )
        self.update()

    def summary(self) -> str:
        """The gauge's readout as text (tests and the accessible description use it)."""
        score = "no score" if self.score is None else f"cosine {self.score:+.4f}"
        threshold = "no threshold" if self.threshold is None else f"threshold {self.threshold:+.3f}"
        return "; ".join([score, threshold, self.status, *self.evidence_lines])

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()

    def _x(self, value: float, left: float, width: float) -> float:
        return left + (min(max(value, -1.0), 1.0) + 1.0) / 2.0 * width

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(250, 250, 250))
        margin, top, bar_h = 16.0, 28.0, 16.0
        width = self.width() - 2 * margin
        painter.fillRect(QRectF(margin, top, width, bar_h), QColor(232, 232, 232))
        if self.threshold is not None:
            t_x = self._x(self.threshold, margin, width)
            painter.fillRect(QRectF(margin, top, t_x - margin, bar_h), QColor(205, 215, 235))
            painter.fillRect(QRectF(t_x, top, margin + width - t_x, bar_h), QColor(240, 215, 190))
        painter.setPen(QPen(QColor(90, 90, 90), 1))
        painter.drawRect(QRectF(margin, top, width, bar_h))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        painter.setFont(small)
        for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
            x = self._x(tick, margin, width)
            painter.drawLine(int(x), int(top + bar_h), int(x), int(top + bar_h + 4))
            painter.drawText(
                QRectF(x - 20, top + bar_h + 4, 40, 14),
                Qt.AlignmentFlag.AlignCenter,
                f"{tick:+.1f}",
            )
        if self.threshold is not None:
            painter.setPen(QPen(QColor(0, 0, 0), 2, Qt.PenStyle.DashLine))
            painter.drawLine(int(t_x), int(top - 4), int(t_x), int(top + bar_h + 4))
        title = QFont(self.font())
        title.setBold(True)
        painter.setFont(title)
        painter.setPen(QColor(20, 20, 20))
        if self.score is None:
            headline = "Score: —"
        else:
            headline = f"Cosine {self.score:+.4f}"
            if self.threshold is not None:
                side = "at or above" if self.score >= self.threshold else "below"
                headline += f": {side} the threshold {self.threshold:+.3f}"
            x = self._x(self.score, margin, width)
            painter.setPen(QPen(QColor(180, 0, 0), 4))
            painter.drawLine(int(x), int(top - 6), int(x), int(top + bar_h + 6))
            painter.setPen(QColor(20, 20, 20))
        painter.drawText(QRectF(margin, 4, width, 20), Qt.AlignmentFlag.AlignLeft, headline)
        painter.setFont(self.font())
        status_color = QColor(170, 90, 0) if self.status != UNCALIBRATED else QColor(90, 90, 90)
        lines = [f"Calibration: {self.status}", *self.evidence_lines]
        y = top + bar_h + 22
        metrics = QFontMetrics(self.font())
        for n, line in enumerate(lines):
            painter.setPen(status_color if n == 0 else QColor(20, 20, 20))
            text = metrics.elidedText(line, Qt.TextElideMode.ElideRight, int(width))
            painter.drawText(QRectF(margin, y, width, 18), Qt.AlignmentFlag.AlignLeft, text)
            y += 18
        painter.end()
