"""The patch-pair grid: the K x K pair terms as a heatmap with marginals and a colour bar.

Row i is cell i of Q, column j is cell j of K (the decomposition's pair_matrix).
The colour scale is diverging and symmetric about 0. Hovering shows the term
and its share of the score; a click or the arrow keys select a pair; the top
contributing pairs (positive and negative) are listed and select on click.

For the `fused` model the member table (gui/fused_members.py) sits above the grid,
and "Grid" chooses what it shows: the fused block matrix (every member's terms
scaled by its weight), or one member's own terms (summing to its own cosine).
Cells keep their member-local numbers there; a click selects the same pair of the
fused grid, so the outlines on the faces follow.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.models.fused import member_decomposition
from gui.colormaps import DEFAULT_DIVERGING, colormap, sign_colours, symmetric_limit
from gui.fused_members import FusedMembersPanel

ARROWS = {
    Qt.Key.Key_Up: (-1, 0),
    Qt.Key.Key_Down: (1, 0),
    Qt.Key.Key_Left: (0, -1),
    Qt.Key.Key_Right: (0, 1),
}


def forward_text(comparison) -> str:
    """The independent check of the terms against the model's own forward pass."""
    if comparison.forward_residual is None:
        return "Forward check: not computed."
    return (
        f"Forward check: the model's own forward pass gives {comparison.forward_score:+.6f}; "
        f"|forward − Σ terms| = {comparison.forward_residual:.1e} (forward residual)"
    )


FUSED_VIEW = "fused (all members, scaled by their weights)"


def describe_term(info: dict) -> str:
    share = "n/a (score ≈ 0)" if info["share"] is None else f"{100 * info['share']:+.2f}%"
    return (
        f"Q cell i={info['i']}, K cell j={info['j']}: term {info['term']:+.5f}, "
        f"share of score {share}"
    )


def cell_ticks(k: int) -> list[tuple[int, str]]:
    """Integer cell numbers for a K x K grid axis: every cell up to 10, every 2nd up to 20
    (two-digit labels of neighbouring cells would touch), else every 5th."""
    step = 1 if k <= 10 else 2 if k <= 20 else 5
    return [(i, str(i)) for i in range(0, k, step)]


class PairGridPanel(QWidget):
    """Heatmap of pair terms, row/column marginals, colour bar, hover readout, top pairs."""

    cellClicked = Signal(int, int)
    moveRequested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._term_info = None
        self._k = 0
        self._offset = 0  # where the shown block starts in the comparison's grid
        self._selected: tuple[int, int] | None = None  # (i, j) of the comparison's grid
        self._comparison = None
        self._cmap_name = DEFAULT_DIVERGING
        self.members = FusedMembersPanel()
        self.member_box = QComboBox()
        self.member_box.setToolTip("The fused grid, or one member model's own terms")
        self.member_box.currentIndexChanged.connect(lambda _index: self._draw())
        self.member_row = QWidget()
        member_layout = QHBoxLayout(self.member_row)
        member_layout.setContentsMargins(0, 0, 0, 0)
        member_layout.addWidget(QLabel("Grid:"))
        member_layout.addWidget(self.member_box, 1)

        self.layout_label = QLabel("No comparison yet.")
        self.layout_label.setWordWrap(True)
        self.hover_label = QLabel("Hover over a cell to read its term.")
        self.hover_label.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.graphics.setBackground("w")

        self.columns_plot = self.graphics.addPlot(row=0, col=1)
        self.columns_plot.setLabel("left", "K Σ")
        self.columns_plot.setMaximumHeight(90)
        self.rows_plot = self.graphics.addPlot(row=1, col=0)
        self.rows_plot.setLabel("bottom", "Q Σ")
        self.rows_plot.setMaximumWidth(110)
        self.rows_plot.invertY(True)
        self.heat_plot = self.graphics.addPlot(row=1, col=1)
        self.heat_plot.setLabel("bottom", "j: cell of K (Reference)")
        self.heat_plot.setLabel("left", "i: cell of Q (Questioned)")
        self.heat_plot.invertY(True)
        self.heat_plot.setMouseEnabled(False, False)
        self.heat_plot.hideButtons()
        self.heat_plot.setMenuEnabled(False)
        for plot in (self.columns_plot, self.rows_plot):
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
        # Plain numbers on the column sums (no clipped SI label), equal left axes to align.
        self.columns_plot.getAxis("left").enableAutoSIPrefix(False)
        for plot in (self.columns_plot, self.heat_plot):
            plot.getAxis("left").setWidth(62)
        self.columns_plot.setXLink(self.heat_plot)
        self.rows_plot.setYLink(self.heat_plot)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.heat_plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(-1, 1), colorMap=colormap(self._cmap_name), interactive=False, width=14
        )
        self.colorbar.setImageItem(self.image)
        self.graphics.addItem(self.colorbar, row=1, col=2)
        self.cursor = QGraphicsRectItem()
        pen = QPen(QColor(0, 0, 0))
        pen.setWidthF(2.5)
        pen.setCosmetic(True)
        self.cursor.setPen(pen)
        self.cursor.setZValue(10)
        self.cursor.setVisible(False)
        self.heat_plot.addItem(self.cursor)
        self._bars: list = []
        self._marginals: list = []

        self.top_list = QListWidget()
        self.top_list.itemClicked.connect(self._top_clicked)
        # The list sits wherever the window puts `top_box` (it needs height, not width).
        self.top_box = QWidget()
        top_layout = QVBoxLayout(self.top_box)
        top_layout.setContentsMargins(2, 2, 2, 2)
        top_title = QLabel("<b>Top contributing pairs</b> (click to select)")
        top_title.setWordWrap(True)
        top_layout.addWidget(top_title)
        top_layout.addWidget(self.top_list)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.members)
        layout.addWidget(self.member_row)
        layout.addWidget(self.layout_label)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.hover_label)

        scene = self.graphics.scene()
        scene.sigMouseMoved.connect(self._hovered)
        scene.sigMouseClicked.connect(self._clicked)
        self.show_comparison(None)

    # -- data ---------------------------------------------------------------------

    def set_term_info(self, provider) -> None:
        """`provider(i, j) -> {"i", "j", "term", "share"}` (the view model's term_info)."""
        self._term_info = provider

    def set_colormap(self, name: str) -> None:
        self._cmap_name = name
        self.colorbar.setColorMap(colormap(name))
        for bars, values in zip(self._bars, self._marginals, strict=False):
            bars.setOpts(brushes=self._bar_brushes(values))

    def show_comparison(self, comparison) -> None:
        if comparison is not self._comparison:
            self._selected = None  # the window shows the new comparison's selection
        self._comparison = comparison
        self.members.show_comparison(comparison)
        parts = () if comparison is None else comparison.decomposition.parts
        members = [p["model"] for p in parts if p["model"] != "intercept"]
        chosen = self.member_box.currentText()
        self.member_box.blockSignals(True)
        self.member_box.clear()
        self.member_box.addItems([FUSED_VIEW, *members] if members else [])
        self.member_box.setCurrentText(chosen if chosen in members else FUSED_VIEW)
        self.member_box.blockSignals(False)
        self.member_row.setVisible(bool(members))
        self._draw()

    def shown_member(self) -> str | None:
        """The member model whose own terms the grid shows, or None (the whole grid)."""
        chosen = self.member_box.currentText()
        return None if self.member_box.count() == 0 or chosen == FUSED_VIEW else chosen

    def shown_decomposition(self):
        """What the grid shows: the comparison's decomposition or one member's own."""
        d = self._comparison.decomposition
        member = self.shown_member()
        return d if member is None else member_decomposition(d, member)

    def _draw(self) -> None:
        for plot, bars in zip((self.columns_plot, self.rows_plot), self._bars, strict=False):
            plot.removeItem(bars)
        self._bars = []
        self.top_list.clear()
        comparison = self._comparison
        if comparison is None:
            self._k = 0
            self.image.clear()
            self.cursor.setVisible(False)
            self.graphics.setVisible(False)
            self.hover_label.setVisible(False)
            self.layout_label.setText(
                "No comparison yet. The pair-term grid appears here once both photos show a face."
            )
            return
        self.graphics.setVisible(True)
        self.hover_label.setVisible(True)
        d = self.shown_decomposition()
        member = self.shown_member()
        self._offset = 0
        if member is not None:
            (part,) = [p for p in comparison.decomposition.parts if p["model"] == member]
            self._offset = part["cells"][0]
        self._k = d.layout.count
        limit = symmetric_limit(d.pair_matrix)
        self.image.setImage(d.pair_matrix, autoLevels=False)
        # Cell (i, j) is centred on (x=j, y=i), so the axis ticks name cells.
        self.image.setRect(QRectF(-0.5, -0.5, self._k, self._k))
        self.colorbar.setLevels((-limit, limit))
        self.heat_plot.setRange(
            xRange=(-0.5, self._k - 0.5), yRange=(-0.5, self._k - 0.5), padding=0
        )
        ticks = [cell_ticks(self._k)]
        for axis in (
            self.heat_plot.getAxis("bottom"),
            self.heat_plot.getAxis("left"),
            self.columns_plot.getAxis("bottom"),
            self.rows_plot.getAxis("left"),
        ):
            axis.setTicks(ticks)
        columns, rows = d.column_marginals(), d.row_marginals()
        idx = np.arange(self._k)
        col_bars = pg.BarGraphItem(
            x=idx, height=columns, width=0.8, brushes=self._bar_brushes(columns)
        )
        row_bars = pg.BarGraphItem(
            x0=np.minimum(rows, 0),
            y=idx,
            width=np.abs(rows),
            height=0.8,
            brushes=self._bar_brushes(rows),
        )
        self.columns_plot.addItem(col_bars)
        self.rows_plot.addItem(row_bars)
        self._bars = [col_bars, row_bars]
        self._marginals = [columns, rows]
        bias = float(d.bias_a.sum() + d.bias_b.sum() + d.bias_bias)
        bias_text = f"; head-bias terms {bias:+.4f} (in the marginals)" if bias else ""
        if member is None:
            head = f"model <b>{comparison.model.id}</b>"
            sums = f"Σ terms {d.total:+.6f} = score {d.cosine:+.6f}"
            check = forward_text(comparison)
        else:
            head = f"member <b>{member}</b>'s own terms (not scaled by its weight)"
            sums = f"Σ terms {d.total:+.6f} = cos[{member}] {d.cosine:+.6f}"
            check = "In the fused score they count × its weight (the table above)."
        self.layout_label.setText(
            f"<b>{self._k}×{self._k} cell pairs</b>, {head}. "
            f"A cell is a <b>{d.layout.label}</b>.<br>"
            f"{sums} (residual {d.residual:.1e}, rounding){bias_text}<br>{check}"
        )
        positive, negative = d.top_pairs(12)
        self._add_top("Most similar (positive terms)", positive)
        self._add_top("Most dissimilar (negative terms)", negative)
        self.show_selection(*(self._selected or (None, None)))

    def _add_top(self, title: str, pairs: list[dict]) -> None:
        header = QListWidgetItem(title if pairs else f"{title}: none")
        header.setFlags(Qt.ItemFlag.NoItemFlags)
        self.top_list.addItem(header)
        for pair in pairs:
            item = QListWidgetItem(
                f"   {pair['term']:+.4f}   Q cell {pair['i']} ↔ K cell {pair['j']}"
            )
            cell = (pair["i"] + self._offset, pair["j"] + self._offset)
            item.setData(Qt.ItemDataRole.UserRole, cell)
            self.top_list.addItem(item)

    def show_selection(self, i: int | None, j: int | None) -> None:
        """Outline pair (i, j) of the comparison's grid (hidden when the shown member's
        block does not hold it)."""
        self._selected = None if i is None else (i, j)
        local = None if i is None else (i - self._offset, j - self._offset)
        if local is None or self._k == 0 or not all(0 <= v < self._k for v in local):
            self.cursor.setVisible(False)
            return
        self.cursor.setRect(QRectF(local[1] - 0.5, local[0] - 0.5, 1, 1))
        self.cursor.setVisible(True)
        self.hover_label.setText("Selected: " + self._describe(*local))

    def _describe(self, i: int, j: int) -> str:
        """The hover text of shown cell (i, j): the term and its share of the shown score."""
        member = self.shown_member()
        if member is None and self._term_info is not None:
            return describe_term(self._term_info(i, j))
        text = describe_term(self.shown_decomposition().term_info(i, j))
        return text if member is None else f"{text} ({member}'s own cells, share of its cosine)"

    # -- input --------------------------------------------------------------------------

    def cell_at_scene(self, pos) -> tuple[int, int] | None:
        if self._k == 0 or not self.heat_plot.vb.sceneBoundingRect().contains(pos):
            return None
        point = self.heat_plot.vb.mapSceneToView(pos)
        i, j = int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5))
        return (i, j) if 0 <= i < self._k and 0 <= j < self._k else None

    def _hovered(self, pos) -> None:
        cell = self.cell_at_scene(pos)
        if cell is None:
            self.graphics.setToolTip("")
            return
        text = self._describe(*cell)
        self.hover_label.setText(text)
        self.graphics.setToolTip(text)

    def _clicked(self, event) -> None:
        cell = self.cell_at_scene(event.scenePos())
        if cell is not None:
            self.setFocus()
            self.cellClicked.emit(cell[0] + self._offset, cell[1] + self._offset)

    def _top_clicked(self, item: QListWidgetItem) -> None:
        cell = item.data(Qt.ItemDataRole.UserRole)
        if cell is not None:
            self.cellClicked.emit(*cell)

    def _bar_brushes(self, values: np.ndarray) -> list:
        positive, negative = sign_colours(self._cmap_name)
        return [pg.mkBrush(positive if v >= 0 else negative) for v in values]

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        step = ARROWS.get(event.key())
        if step is None:
            super().keyPressEvent(event)
            return
        self.moveRequested.emit(*step)
