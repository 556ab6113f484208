"""One evidence pane: the original photo with numbered faces, and the aligned face below.

Both views zoom with the mouse wheel and pan with a drag; Fit and 1:1 reset
them. It takes a photo by drag and drop; a click on a face box chooses that face, a
click on the aligned face reports the aligned-face point (the view model turns
it into a cell). The selected patch is outlined on the aligned face and, through
the inverse alignment transform (AlignedFace.box_to_original), on the photo.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.manual_landmarks import POINT_NAMES
from core.workbench.state import SIDE_TITLES
from gui.signed_colour_bar import SignedColourBar

CHOSEN = QColor(255, 210, 0)
OTHER = QColor(0, 200, 255)
PATCH = QColor(255, 40, 200)
DROP_HINT = "Drop a photo here, or use File → Open."


def fit(view: pg.ViewBox) -> None:
    """The whole image in view."""
    view.autoRange(padding=0.01)


def one_to_one(view: pg.ViewBox) -> None:
    """One image pixel per screen pixel, around the current centre."""
    rect = view.sceneBoundingRect()
    centre = view.viewRect().center()
    half_w, half_h = rect.width() / 2, rect.height() / 2
    view.setRange(
        xRange=(centre.x() - half_w, centre.x() + half_w),
        yRange=(centre.y() - half_h, centre.y() + half_h),
        padding=0,
    )


def _pen(color: QColor, width: float) -> QPen:
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    return pen


def _image_view(widget: pg.GraphicsLayoutWidget) -> tuple[pg.ViewBox, pg.ImageItem]:
    """An image view that zooms with the wheel and pans with a drag (a click still picks)."""
    view = widget.addViewBox(lockAspect=True, invertY=True, enableMouse=True)
    view.setMenuEnabled(False)
    image = pg.ImageItem(axisOrder="row-major")
    view.addItem(image)
    return view, image


class PhotoPane(QWidget):
    """Photo (faces numbered from 1) above, aligned face below, for side "q" or "k"."""

    fileDropped = Signal(str, str)  # side, path
    landmarksPlaced = Signal(str, object)  # side, five (x, y) photo points
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
        self.info = QLabel(DROP_HINT)
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

        self._points: list[tuple[float, float]] = []
        self._levels = (0.0, 255.0)  # display-only brightness and contrast (set_display)
        self.point_marks = pg.ScatterPlotItem(size=9, pen=pg.mkPen("k"), brush=pg.mkBrush(PATCH))
        self.point_marks.setZValue(20)
        self.photo_view.addItem(self.point_marks)
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

        zoom = QHBoxLayout()
        zoom.addWidget(self.title, 1)
        self.place_button = QToolButton()
        self.place_button.setText("Landmarks")
        self.place_button.setCheckable(True)
        self.place_button.setToolTip(
            "Place the five landmarks by hand: click " + ", ".join(POINT_NAMES) + " on the photo"
        )
        self.place_button.toggled.connect(self._placing_toggled)
        zoom.addWidget(self.place_button)
        for text, tip, slot in (
            ("Fit", "Show the whole photo and face (wheel: zoom, drag: pan)", self.fit_all),
            ("1:1", "One image pixel per screen pixel", self.one_to_one_all),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            zoom.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(zoom)
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
        self.photo_image.setImage(np.asarray(prepared.evidence.rgb), levels=self._levels)
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
        by_hand = count > 0 and self._faces[chosen].placed_by_hand
        marks = np.asarray(self._faces[chosen].landmarks) if by_hand else np.empty((0, 2))
        self.point_marks.setData(marks[:, 0], marks[:, 1])  # hand-placed points stay shown
        if count == 0:
            text = f"{evidence.name}: no face found. Try another photo."
        else:
            more = " Click another box to choose it." if count > 1 else ""
            text = f"{evidence.name} ({evidence.width}×{evidence.height}): face {chosen + 1} of "
            text += f"{count} chosen" + (", landmarks placed by hand." if by_hand else ".") + more
        self.info.setText(text)
        self.info.setToolTip(f"SHA-256 {evidence.sha256}")

    def set_display(self, brightness: float, contrast: float) -> None:
        """Display-only brightness (-1..1) and contrast (>0) of the photo and the aligned face:
        the pixels compared, stored and reported are never changed."""
        centre = 127.5 - 127.5 * brightness
        half = 127.5 / max(contrast, 1e-3)
        self._levels = (centre - half, centre + half)
        for image in (self.photo_image, self.aligned_image):
            if image.image is not None:
                image.setLevels(self._levels)

    def fit_all(self) -> None:
        fit(self.photo_view)
        fit(self.aligned_view)

    def one_to_one_all(self) -> None:
        one_to_one(self.photo_view)
        one_to_one(self.aligned_view)

    def clear_photo(self) -> None:
        self.show_photo(None, 0)
        self.show_aligned(None)

    def reset(self) -> None:
        """Empty, as a new window shows it."""
        self.clear_photo()
        self.info.setText(DROP_HINT)
        self.info.setToolTip("")

    def show_aligned(self, aligned) -> None:
        self._aligned = aligned
        self.show_overlay(None)
        self.clear_patch()
        if aligned is None:
            self.aligned_image.clear()
            self.aligned_caption.setText("Aligned face")
            return
        self.aligned_image.setImage(np.asarray(aligned.image), levels=self._levels)
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

    def _placing_toggled(self, placing: bool) -> None:
        self._points = []
        self.point_marks.setData([], [])
        if placing:
            self.info.setText(f"Click the {POINT_NAMES[0]} (1 of 5); click Landmarks to stop.")

    def _photo_clicked(self, event) -> None:
        point = self.photo_view.mapSceneToView(event.scenePos())
        if self.place_button.isChecked():
            self._add_point(point.x(), point.y())
            return
        index = self.face_at(point.x(), point.y())
        if index is not None:
            self.faceClicked.emit(self.side, index)

    def _add_point(self, x: float, y: float) -> None:
        """One landmark placed; the fifth hands all five to the window."""
        self._points.append((float(x), float(y)))
        self.point_marks.setData([p[0] for p in self._points], [p[1] for p in self._points])
        if len(self._points) < len(POINT_NAMES):
            n = len(self._points)
            self.info.setText(f"Click the {POINT_NAMES[n]} ({n + 1} of 5).")
            return
        points = list(self._points)
        self.place_button.setChecked(False)
        self.landmarksPlaced.emit(self.side, points)

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
