"""The "Search gallery" page: rank a reference collection against a questioned photo (1:N).

The search runs core.gallery_members.search_gallery in a worker (progress, cancel),
through the embedding store. Each candidate is listed with a thumbnail (made in the
worker) and its cosine; activating one emits `pair_chosen(query, candidate, origin)`,
where `origin` is the case's record of the search (core.case.search_origin), so the
workbench can open Q against it and the case and report disclose the search.
"""

from __future__ import annotations

from PIL import Image, ImageOps
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.case.search_origin import origin_from_search
from core.embedding_store import EmbeddingStore, default_store_dir
from core.errors import PatchwiseError
from core.explainers.base import Cancelled, cancel_check
from core.models.registry import load_model

THUMBNAIL = 72  # pixels, longest side
CHANNEL = "search"


def _thumbnail(path: str | None) -> tuple[int, int, bytes] | None:
    """(width, height, RGB bytes) of a small upright copy of the photo, or None."""
    if path is None:
        return None
    try:
        with Image.open(path) as im:
            small = ImageOps.exif_transpose(im).convert("RGB")
            small.thumbnail((THUMBNAIL, THUMBNAIL))
            return small.width, small.height, small.tobytes()
    except OSError:
        return None


def search_job(engine, model_id: str, query: str, gallery: str, top: int):
    """The worker's job: (search result, thumbnails by rank)."""
    from core.gallery_members import search_gallery

    def job(progress, cancelled):
        stop = cancel_check(cancelled)

        def step(done: int, total: int) -> None:
            progress(done / max(total, 1), f"embedding gallery {done}/{total}")
            if stop():
                raise Cancelled("search cancelled")

        with engine.lock, EmbeddingStore(default_store_dir()) as store:
            model = load_model(model_id, engine.device)
            result = search_gallery(engine, model, query, gallery, top, store=store, progress=step)
        thumbnails = {c["rank"]: _thumbnail(c["path"]) for c in result["candidates"]}
        return result, thumbnails

    return job


class SearchPage(QWidget):
    pair_chosen = Signal(str, str, object)  # query path, candidate path, search origin dict

    def __init__(self, engine, runner, model_id, parent: QWidget | None = None):
        """`model_id` is a callable giving the workbench's current model id."""
        super().__init__(parent)
        self.engine, self.runner, self.model_id = engine, runner, model_id
        self.result: dict | None = None
        self.query = QLineEdit()
        self.gallery = QLineEdit()
        self.top = QSpinBox()
        self.top.setRange(1, 1000)
        self.top.setValue(50)
        form = QFormLayout()
        form.addRow("Questioned photo (Q)", self._with_browse(self.query, self._ask_query))
        form.addRow("Gallery folder", self._with_browse(self.gallery, self._ask_gallery))
        form.addRow("Candidates", self.top)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.runner.cancel(CHANNEL))
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.summary = QLabel("Choose a questioned photo and a folder of reference photos.")
        self.summary.setWordWrap(True)
        self.candidates = QListWidget()
        self.candidates.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.candidates.itemActivated.connect(self._open)
        self.candidates.itemClicked.connect(self._open)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.candidates, 1)
        self.runner.stopped.connect(self._stopped)

    def _with_browse(self, line: QLineEdit, ask) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(line, 1)
        browse = QPushButton("Choose…")
        browse.clicked.connect(ask)
        box.addWidget(browse)
        return row

    def _ask_query(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Questioned photo")
        if path:
            self.query.setText(path)

    def _ask_gallery(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Gallery of reference photos")
        if folder:
            self.gallery.setText(folder)

    def search(self) -> bool:
        """Start the search in a worker; False (with a message) when a field is missing."""
        query, gallery = self.query.text().strip(), self.gallery.text().strip()
        if not query or not gallery:
            self.summary.setText("Both a questioned photo and a gallery folder are needed.")
            return False
        self.candidates.clear()
        self.result = None
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.search_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.summary.setText("Searching…")
        self.runner.start(
            CHANNEL,
            search_job(self.engine, self.model_id(), query, gallery, self.top.value()),
            on_done=self._show,
            on_error=self._failed,
            on_progress=self._progressed,
        )
        return True

    def _progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(100 * fraction))
        self.progress.setFormat(text)

    def _stopped(self, channel: str) -> None:
        if channel == CHANNEL:
            self.progress.setVisible(False)
            self.search_button.setEnabled(True)
            self.cancel_button.setEnabled(False)

    def _failed(self, message: str, expected: bool) -> None:
        self.summary.setText(f"Search failed: {message}")

    def _show(self, outcome) -> None:
        result, thumbnails = outcome
        self.result = result
        gallery = result["gallery"]
        self.summary.setText(
            f"{len(result['candidates'])} candidates from a gallery of {gallery['size']} faces "
            f"(SHA-256 {gallery['sha256'][:16]}…; {result['index']['kind']}; model "
            f"{result['model']['id']}). {result['note']} Click a candidate to compare it with Q."
        )
        for candidate in result["candidates"]:
            item = QListWidgetItem(
                f"{candidate['rank']:3d}   {candidate['cosine']:+.4f}   {candidate['name']}"
            )
            thumb = thumbnails.get(candidate["rank"])
            if thumb is not None:
                w, h, data = thumb
                image = QImage(data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
                item.setIcon(QIcon(QPixmap.fromImage(image)))
            if candidate["path"] is None:
                item.setToolTip("from an embedding store: no photo to open")
            item.setData(Qt.ItemDataRole.UserRole, candidate)
            self.candidates.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        candidate = item.data(Qt.ItemDataRole.UserRole)
        if self.result is None or candidate["path"] is None:
            return
        try:
            origin = origin_from_search(
                self.result, self.result["query"]["sha256"], candidate["sha256"]
            )
        except PatchwiseError as exc:
            self.summary.setText(str(exc))
            return
        self.pair_chosen.emit(self.result["query"]["image"], candidate["path"], origin)


class SearchActions:
    """MainWindow mixin: Edit → Search gallery… opens the page in a dialog; a chosen
    candidate is loaded as K against Q, and the session keeps the search's record so
    the case and its report disclose it."""

    search_dialog: QDialog | None = None

    def search_gallery(self) -> SearchPage:
        if self.search_dialog is None:
            self.search_dialog = QDialog(self)
            self.search_dialog.setWindowTitle("Search gallery (1:N)")
            self.search_dialog.resize(640, 720)
            page = SearchPage(self.engine, self.runner, lambda: self.state.model_id)
            page.pair_chosen.connect(self._open_candidate)
            QVBoxLayout(self.search_dialog).addWidget(page)
            self.search_dialog.page = page
        self.search_dialog.show()
        self.search_dialog.raise_()
        return self.search_dialog.page

    def _open_candidate(self, query: str, candidate: str, origin: dict) -> None:
        self.session.search_origin = origin
        self.load_photo("q", query)
        self.load_photo("k", candidate)
