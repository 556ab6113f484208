"""A custom-painted gauge: the cosine against a threshold, and the evidence strength.

The scale runs over the cosine's full range [-1, 1]. The threshold is marked;
the needle is the comparison's score. Below it, the C-Score and log10 LR on
the verbal scale appear once a calibration gives them; the calibration's
status ("uncalibrated", "DEMO calibration — not for casework", or the lab
calibration's name) is always written out, wrapped to the gauge's width (never
cut off), and a legend names the two bands. A click asks for the details.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

UNCALIBRATED = "uncalibrated"
BELOW = QColor(205, 215, 235)  # the band below the threshold
ABOVE = QColor(240, 215, 190)  # the band at or above it
LEGEND = (
    (BELOW, 'below the threshold: decision "different"'),
    (ABOVE, 'at or above it: decision "same"'),
)
MARGIN, TOP, BAR_H, LEGEND_H = 16.0, 28.0, 16.0, 18.0
LEGEND_TOP = TOP + BAR_H + 22


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
        self.threshold = threshold  # before _fit_height: it decides whether a legend shows
        self.status = status
        self.evidence_lines = list(lines)
        self._fit_height()
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

    def text_lines(self) -> list[str]:
        return [f"Calibration: {self.status}", *self.evidence_lines]

    def _wrapped_heights(self, width: float) -> list[int]:
        metrics = QFontMetrics(self.font())
        box = QRect(0, 0, max(int(width), 40), 10_000)
        flags = Qt.TextFlag.TextWordWrap
        return [metrics.boundingRect(box, flags, line).height() + 2 for line in self.text_lines()]

    def _legend_font(self) -> QFont:
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        return small

    def _legend_positions(self, width: float) -> list[tuple[float, float]]:
        """Where each legend entry starts (x, y offset): side by side, or stacked when narrow."""
        if self.threshold is None:
            return []
        metrics = QFontMetrics(self._legend_font())
        x, y, positions = 0.0, 0.0, []
        for _, text in LEGEND:
            needed = 16 + metrics.horizontalAdvance(text)
            if x > 0 and x + needed > width:
                x, y = 0.0, y + LEGEND_H
            positions.append((x, y))
            x += needed + 18
        return positions

    def _text_top(self, width: float) -> float:
        positions = self._legend_positions(width)
        return LEGEND_TOP + (positions[-1][1] + LEGEND_H if positions else 0.0)

    def _fit_height(self) -> None:
        """Tall enough for the legend and every line, wrapped at the current width."""
        width = self.width() - 2 * MARGIN
        heights = self._wrapped_heights(width)
        self.setFixedHeight(int(self._text_top(width) + sum(heights) + 6))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_height()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()

    def _x(self, value: float, left: float, width: float) -> float:
        return left + (min(max(value, -1.0), 1.0) + 1.0) / 2.0 * width

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(250, 250, 250))
        margin, top, bar_h = MARGIN, TOP, BAR_H
        width = self.width() - 2 * margin
        painter.fillRect(QRectF(margin, top, width, bar_h), QColor(232, 232, 232))
        if self.threshold is not None:
            t_x = self._x(self.threshold, margin, width)
            painter.fillRect(QRectF(margin, top, t_x - margin, bar_h), BELOW)
            painter.fillRect(QRectF(t_x, top, margin + width - t_x, bar_h), ABOVE)
        painter.setPen(QPen(QColor(90, 90, 90), 1))
        painter.drawRect(QRectF(margin, top, width, bar_h))
        painter.setFont(self._legend_font())
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
        self._paint_legend(painter, margin, width)
        painter.setFont(self.font())
        status_color = QColor(170, 90, 0) if self.status != UNCALIBRATED else QColor(90, 90, 90)
        y = self._text_top(width)
        lines = self.text_lines()
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        for n, (line, height) in enumerate(zip(lines, self._wrapped_heights(width), strict=True)):
            painter.setPen(status_color if n == 0 else QColor(20, 20, 20))
            painter.drawText(QRectF(margin, y, width, height), flags, line)
            y += height
        painter.end()

    def _paint_legend(self, painter: QPainter, left: float, width: float) -> None:
        """The two bands' meaning, shown whenever a threshold splits the scale."""
        painter.setFont(self._legend_font())
        for (colour, text), (dx, dy) in zip(LEGEND, self._legend_positions(width), strict=False):
            x, y = left + dx, LEGEND_TOP + dy
            painter.fillRect(QRectF(x, y + 3, 12, 10), colour)
            painter.setPen(QColor(90, 90, 90))
            painter.drawRect(QRectF(x, y + 3, 12, 10))
            painter.setPen(QColor(40, 40, 40))
            painter.drawText(QRectF(x + 16, y, width, LEGEND_H), Qt.AlignmentFlag.AlignLeft, text)
