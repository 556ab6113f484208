"""The fused model's members: each one's cosine, weight and contribution, summing to the score.

Shown above the pair grid when the model is `fused` (core/models/fused.py): one row
per member (cos_m, w_m, w_m·cos_m), the intercept b, and the sum beside the fused
score, with the DEMO label of the bundled fit. Hidden for a single model.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from core.models.fused import DEMO_NOTE, TABLE_HEADERS, fusion_table, is_demo_fit


class FusedMembersPanel(QWidget):
    """The member table of a fused comparison; `table` and `sum_label` are read by tests."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, len(TABLE_HEADERS))
        self.table.setHorizontalHeaderLabels(list(TABLE_HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # Compact rows: the grid below needs the height (the window fits 1280x800).
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.table.verticalHeader().setMinimumSectionSize(self.fontMetrics().height() + 4)
        self.sum_label = QLabel("")
        self.sum_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(self.sum_label)
        self.setVisible(False)

    def show_comparison(self, comparison) -> None:
        table = None
        if comparison is not None:
            d = comparison.decomposition
            table = fusion_table(d.parts, d.cosine)
        self.setVisible(table is not None)
        if table is None:
            self.table.setRowCount(0)
            return
        demo = is_demo_fit(comparison.model)
        self.title.setText(
            "<b>Fused score = Σ w_m·cos_m + b</b> (a log-odds, not a cosine)"
            + (" — <b>DEMO fusion weights, not for casework</b>" if demo else "")
        )
        self.title.setToolTip(DEMO_NOTE if demo else "")
        rows = table.rows()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        heights = sum(self.table.rowHeight(r) for r in range(len(rows)))
        self.table.setFixedHeight(self.table.horizontalHeader().height() + heights + 4)
        self.sum_label.setText(
            f"sum {table.total:+.6f} = fused score {table.score:+.6f} "
            f"(|difference| {table.difference:.1e})"
        )
