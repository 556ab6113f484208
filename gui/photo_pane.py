"""One evidence pane: the original photo with numbered faces, and the aligned face below.

It takes a photo by drag and drop; a click on a face box chooses that face, a
click on the aligned face reports the aligned-face point (the view model turns
it into a cell). The selected patch is outlined on the aligned face and, through
the inverse alignment transform (AlignedFace.box_to_original), on the photo.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core.workbench.state import SIDE_TITLES
from gui.signed_colour_bar import SignedColourBar

CHOSEN = QColor(255, 210, 0)
OTHER = QColor(0, 200, 255)
PATCH = QColor(255, 40, 200)


def _pen(color: QColor, width: float) -> QPen:
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    return pen


def _image_view(widget: pg.GraphicsLayoutWidget) -> tuple[pg.ViewBox, pg.ImageItem]:
    view = widget.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
    view.setMenuEnabled(False)
    image = pg.ImageItem(axisOrder="row-major")
    view.addItem(image)
    return view, image


class PhotoPane(QWidget):
    """Photo (faces numbered from 1) above, aligned face below, for side "q" or "k"."""

    fileDropped = Signal(str, str)  # side, path
    faceClicked = Signal(str, int)  # side, face index (0 = largest)
    alignedClicked = Signal(str, float, float)  # side, x, y in aligned-face pixels

    def __init__(self, side: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.side = side
        self.setAcceptDrops(True)
        self._faces: tuple = ()
        self._face_items: list = []
        self._aligned = None

        self.title = QLabel(f"<b>{SIDE_TITLES[side]}</b>")
        self.info = QLabel("Drop a photo here, or use File → Open.")
        self.info.setWordWrap(True)
        self.photo_widget = pg.GraphicsLayoutWidget()
        self.photo_view, self.photo_image = _image_view(self.photo_widget)
        self.aligned_widget = pg.GraphicsLayoutWidget()
        self.aligned_view, self.aligned_image = _image_view(self.aligned_widget)
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.aligned_view.addItem(self.overlay)
        self.aligned_caption = QLabel("Aligned face")
        self.aligned_caption.setWordWrap(True)
        self.title.setWordWrap(True)
        self.colour_bar = SignedColourBar()
        for view in (self.photo_widget, self.aligned_widget):
            view.setAcceptDrops(False)
            view.setBackground("#202020")

        self.photo_patch = QGraphicsPolygonItem()
        self.photo_patch.setPen(_pen(PATCH, 2.5))
        self.photo_view.addItem(self.photo_patch)
        self.aligned_patch = QGraphicsRectItem()
        self.aligned_patch.setPen(_pen(PATCH, 2.5))
        self.aligned_view.addItem(self.aligned_patch)
        self.photo_patch.setZValue(10)
        self.aligned_patch.setZValue(10)
        self.overlay.setZValue(5)
        self.clear_patch()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.photo_widget, 3)
        layout.addWidget(self.info)
        layout.addWidget(self.aligned_caption)
        layout.addWidget(self.aligned_widget, 2)
        layout.addWidget(self.colour_bar)

        self.photo_widget.scene().sigMouseClicked.connect(self._photo_clicked)
        self.aligned_widget.scene().sigMouseClicked.connect(self._aligned_clicked)

    # -- drawing -------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.info.setText(text)

    def show_photo(self, prepared, chosen: int) -> None:
        """Draw the photo with every detected face outlined and numbered (1 = largest)."""
        for item in self._face_items:
            self.photo_view.removeItem(item)
        self._face_items = []
        self._faces = prepared.faces if prepared is not None else ()
        if prepared is None:
            self.photo_image.clear()
            return
        self.photo_image.setImage(np.asarray(prepared.evidence.rgb), autoLevels=False)
        for index, face in enumerate(self._faces):
            x1, y1, x2, y2 = (float(v) for v in face.box)
            rect = QGraphicsRectItem(x1, y1, x2 - x1, y2 - y1)
            is_chosen = index == chosen
            rect.setPen(_pen(CHOSEN if is_chosen else OTHER, 3.0 if is_chosen else 1.5))
            label = pg.TextItem(
                str(index + 1),
                color=CHOSEN if is_chosen else OTHER,
                fill=pg.mkBrush(0, 0, 0, 170),
                anchor=(0, 1),
            )
            label.setPos(x1, y1)
            for item in (rect, label):
                self.photo_view.addItem(item)
                self._face_items.append(item)
        self.photo_view.autoRange(padding=0.01)
        evidence = prepared.evidence
        count = len(self._faces)
        if count == 0:
            text = f"{evidence.name}: no face found. Try another photo."
        else:
            more = " Click another box to choose it." if count > 1 else ""
            text = f"{evidence.name} ({evidence.width}×{evidence.height}): face {chosen + 1} of "
            text += f"{count} chosen.{more}"
        self.info.setText(text)
        self.info.setToolTip(f"SHA-256 {evidence.sha256}")

    def clear_photo(self) -> None:
        self.show_photo(None, 0)
        self.show_aligned(None)

    def show_aligned(self, aligned) -> None:
        self._aligned = aligned
        self.show_overlay(None)
        self.clear_patch()
        if aligned is None:
            self.aligned_image.clear()
            self.aligned_caption.setText("Aligned face")
            return
        self.aligned_image.setImage(np.asarray(aligned.image), autoLevels=False)
        self.aligned_view.autoRange(padding=0.01)
        self.aligned_caption.setText(
            f"Aligned face ({aligned.size}×{aligned.size} px); click to pick a cell"
        )

    def show_patch(self, box, cell: int) -> None:
        """Outline cell `cell` (aligned box x1,y1,x2,y2) on the aligned face and the photo."""
        if self._aligned is None:
            return
        x1, y1, x2, y2 = box
        self.aligned_patch.setRect(x1, y1, x2 - x1, y2 - y1)
        corners = self._aligned.box_to_original(box)
        self.photo_patch.setPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in corners]))
        self.aligned_patch.setVisible(True)
        self.photo_patch.setVisible(True)
        self.aligned_patch.setToolTip(f"cell {cell}")

    def clear_patch(self) -> None:
        self.aligned_patch.setVisible(False)
        self.photo_patch.setVisible(False)

    def show_overlay(self, rgba: np.ndarray | None, table_name: str = "", limit=None) -> None:
        """An RGBA map (aligned-face size) over the aligned face with its colour bar
        (core.signed_colormap table `table_name`, scale ±limit), or none."""
        if rgba is None:
            self.overlay.clear()
            self.colour_bar.show_scale(self.colour_bar.table_name, None)
        else:
            self.overlay.setImage(rgba, autoLevels=False, levels=(0, 255))
            self.colour_bar.show_scale(table_name, limit)

    # -- input -------------------------------------------------------------------------

    def _photo_clicked(self, event) -> None:
        point = self.photo_view.mapSceneToView(event.scenePos())
        index = self.face_at(point.x(), point.y())
        if index is not None:
            self.faceClicked.emit(self.side, index)

    def face_at(self, x: float, y: float) -> int | None:
        """The smallest detected face box containing photo point (x, y)."""
        hits = [
            (float((f.box[2] - f.box[0]) * (f.box[3] - f.box[1])), n)
            for n, f in enumerate(self._faces)
            if f.box[0] <= x <= f.box[2] and f.box[1] <= y <= f.box[3]
        ]
        return min(hits)[1] if hits else None

    def _aligned_clicked(self, event) -> None:
        if self._aligned is None:
            return
        point = self.aligned_view.mapSceneToView(event.scenePos())
        self.alignedClicked.emit(self.side, point.x(), point.y())

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.fileDropped.emit(self.side, urls[0].toLocalFile())

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape:
            self.clear_patch()
        super().keyPressEvent(event)
