"""A colour bar for a signed overlay: which colour raises the score, and the scale's ends.

The colours are core.signed_colormap's table (the same the grid, the CLI
overlays and the PDF use); a wrapped label says what they mean.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.signed_colormap import DEFAULT_TABLE, MEANING_BY_TABLE, table

BAR_H = 10


class _Strip(QWidget):
    """The gradient from -limit to +limit with its end and middle values."""

    def __init__(self, owner: SignedColourBar):
        super().__init__(owner)
        self._owner = owner
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(BAR_H + QFontMetrics(self.font()).height() + 4)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        limit = self._owner.limit
        if limit is None:
            return
        painter = QPainter(self)
        colours = table(self._owner.table_name)
        width = max(self.width() - 2, 1)
        for x in range(width):
            r, g, b = (int(c) for c in colours[round(x / max(width - 1, 1) * (len(colours) - 1))])
            painter.fillRect(QRectF(1 + x, 1, 1, BAR_H), QColor(r, g, b))
        painter.setPen(QColor(90, 90, 90))
        painter.drawRect(QRectF(1, 1, width - 1, BAR_H))
        painter.setPen(QColor(30, 30, 30))
        row = QRectF(1, BAR_H + 2, width, QFontMetrics(self.font()).height())
        painter.drawText(row, Qt.AlignmentFlag.AlignLeft, f"{-limit:+.3g}")
        painter.drawText(row, Qt.AlignmentFlag.AlignHCenter, "0")
        painter.drawText(row, Qt.AlignmentFlag.AlignRight, f"{limit:+.3g}")
        painter.end()


class SignedColourBar(QWidget):
    """-limit .. 0 .. +limit in the map's colours, with its meaning written out (wrapped)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table_name = DEFAULT_TABLE
        self.limit: float | None = None
        self.strip = _Strip(self)
        self.meaning_label = QLabel()
        self.meaning_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.strip)
        layout.addWidget(self.meaning_label)
        self.setVisible(False)

    def show_scale(self, table_name: str, limit: float | None) -> None:
        """Show the bar for a map on `table_name` scaled to ±limit; None hides it."""
        self.table_name, self.limit = table_name, limit
        self.meaning_label.setText(f"Overlay: {self.meaning()}.")
        self.setVisible(limit is not None)
        self.strip.update()

    def meaning(self) -> str:
        return MEANING_BY_TABLE[self.table_name]
