"""The batch page: evaluate a pairs CSV or an identity-per-folder tree in a worker, then
ROC, DET, score histograms and (with a calibration) a Tippett plot in pyqtgraph, and
the pairs sorted by score; double-clicking a pair opens it in the workbench."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.errors import PatchwiseError
from core.workbench import batch
from gui.figure_export import add_export_action

GENUINE, IMPOSTOR = (200, 60, 50), (60, 90, 200)


class BatchPage(QDialog):
    """Batch evaluation over many pairs with the workbench's engine and model."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.result: dict | None = None
        self.pairs: list[dict] = []
        self.setWindowTitle("Batch evaluation")
        self.resize(1100, 760)
        self.source_label = QLabel("Choose a pairs CSV or an identity-per-folder tree.")
        self.source_label.setWordWrap(True)
        csv_button, folder_button = QPushButton("Pairs CSV…"), QPushButton("Identity folder…")
        csv_button.clicked.connect(self._choose_csv)
        folder_button.clicked.connect(self._choose_folder)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.window.runner.cancel("batch"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        add_export_action(self.plots, "batch-plots", window)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["score", "same person", "image A (Q)", "image B (K)"])
        self.table.setSortingEnabled(False)
        self.table.cellDoubleClicked.connect(self.open_pair)
        top = QHBoxLayout()
        for widget in (csv_button, folder_button, self.progress, self.cancel_button):
            top.addWidget(widget)
        split = QSplitter()
        split.addWidget(self.plots)
        split.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.source_label)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._set_busy(False)
        window.runner.stopped.connect(self._stopped)

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pairs CSV", "", "CSV (*.csv);;All files (*)")
        if path:
            self.run(path)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Identity-per-folder tree")
        if folder:
            self.run(folder)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def run(self, source: str) -> None:
        """Evaluate `source` with the workbench's model in a worker (progress, cancel)."""
        model_id = self.window.state.model_id
        self.source_label.setText(f"{Path(source).name}: evaluating with {model_id}…")
        self.progress.setValue(0)
        self._set_busy(True)
        self.window.runner.start(
            "batch",
            batch.batch_job(self.window.engine, source, model_id),
            on_done=lambda result, s=source: self._evaluated(s, result),
            on_error=self._failed,
            on_progress=lambda fraction, text: self.progress.setValue(round(100 * fraction)),
        )

    def _stopped(self, channel: str) -> None:
        if channel == "batch":
            self._set_busy(False)

    def _failed(self, message: str, expected: bool) -> None:
        self.source_label.setText(f"Batch evaluation failed: {message.splitlines()[-1]}")

    def _evaluated(self, source: str, result: dict) -> None:
        self.result = result
        self.pairs = batch.sorted_pairs(result["per_pair"])
        metrics = result["metrics"]
        failed = len(result["failed_images"])
        self.source_label.setText(
            f"{Path(source).name}: {len(self.pairs)} pairs scored with {result['model']['id']} "
            f"(largest face of each image; {failed} images failed)."
        )
        self.summary.setText(
            ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
        )
        self._draw()
        self._fill_table()

    def _draw(self) -> None:
        self.plots.clear()
        data = batch.curves(self.pairs)
        roc = self.plots.addPlot(title="ROC")
        roc.plot(data["far"], data["tar"], pen=pg.mkPen("k", width=2))
        roc.setLabel("bottom", "false accept rate")
        roc.setLabel("left", "true accept rate")
        det = self.plots.addPlot(title="DET (log-log)")
        keep = (data["far"] > 0) & (data["frr"] > 0)
        det.plot(data["far"][keep], data["frr"][keep], pen=pg.mkPen("k", width=2))
        if not keep.any():
            det.setTitle("DET (log-log): empty, no threshold has both error rates above 0")
        det.setLogMode(x=True, y=True)
        det.setLabel("bottom", "false accept rate")
        det.setLabel("left", "false reject rate")
        self.plots.nextRow()
        hist = self.plots.addPlot(title="Scores")
        hist.addLegend()
        for key, colour in (("impostor", IMPOSTOR), ("genuine", GENUINE)):
            hist.plot(
                data["edges"],
                data[key],
                stepMode="center",
                fillLevel=0,
                brush=(*colour, 80),
                pen=pg.mkPen(colour, width=2),
                name=key,
            )
        hist.setLabel("bottom", "score")
        self.tippett_plot = None
        try:
            calibration = self.window.session.calibration_for(self.result["model"])
        except PatchwiseError as exc:
            calibration = None
            self.summary.setText(f"{self.summary.text()}\nNo Tippett plot: {exc}")
        if calibration is not None:
            tippett = batch.tippett(self.pairs, calibration, self.result["model"]["id"])
            plot = self.plots.addPlot(title=f"Tippett ({calibration.status})")
            plot.addLegend()
            for key, colour in (("genuine", GENUINE), ("impostor", IMPOSTOR)):
                llrs, share = tippett[key]
                plot.plot(llrs, share, pen=pg.mkPen(colour, width=2), name=key)
            plot.setLabel("bottom", "log10 LR")
            plot.setLabel("left", "proportion ≥ x")
            self.tippett_plot = plot

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.pairs))
        for row, pair in enumerate(self.pairs):
            values = (
                f"{pair['cosine']:+.4f}",
                "yes" if pair["same"] else "no",
                Path(pair["image_a"]).name,
                Path(pair["image_b"]).name,
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(pair["image_a"] if column == 2 else pair["image_b"])
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    def open_pair(self, row: int, _column: int = 0) -> None:
        """Open the pair in the workbench (Q = image A, K = image B)."""
        pair = self.pairs[row]
        self.window.load_photo("q", pair["image_a"])
        self.window.load_photo("k", pair["image_b"])
        self.window.raise_()
