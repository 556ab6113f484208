"""Drive the real workbench window through an examiner's session, with a screenshot per step.

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python tools/walkthrough.py OUT_DIR

Steps: drop the shared demo pair on the two panes, zoom with the mouse wheel
(linked Q/K zoom on), correct Q's five landmarks by hand with mouse clicks, set
an examiner threshold, undo, run the batch page on an identity tree, export the
PDF report and two figures (PNG, SVG). Every input is a real Qt event sent to
the widget an examiner would use (drop, wheel, clicks, menu actions); nothing
is set behind the window's back. After each step the window (or the batch
page) is saved as a palette PNG (docs/walkthrough/ keeps them small) and one
line says what was done and what the widgets show, read back from them.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent, QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

FACES = REPO_ROOT.parent / "shared" / "data" / "faces"
DEMO_PAIR = ("identities/obama/obama_1.jpg", "identities/obama/obama_2.jpg")
WAIT_S = 300.0
PALETTE_COLOURS = 128  # screenshots are quantised to this many colours (small, text stays sharp)
WHEEL_NOTCH = 120  # one wheel step, in eighths of a degree (Qt's angleDelta unit)


# -- real input events --------------------------------------------------------------------


def view_to_widget(widget, view, x: float, y: float) -> QPoint:
    """The viewport position of point (x, y) in a pyqtgraph ViewBox inside `widget`."""
    return widget.mapFromScene(view.mapViewToScene(QPointF(x, y)))


def wheel(widget, view, x: float, y: float, notches: int) -> None:
    """Turn the mouse wheel over view point (x, y): positive notches zoom in."""
    pos = QPointF(view_to_widget(widget, view, x, y))
    event = QWheelEvent(
        pos,
        QPointF(widget.viewport().mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, WHEEL_NOTCH * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget.viewport(), event)


def _mouse(widget, kind, pos: QPoint, button, buttons) -> None:
    local = QPointF(pos)
    event = QMouseEvent(
        kind,
        local,
        QPointF(widget.viewport().mapToGlobal(pos)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget.viewport(), event)


def drag(widget, start: QPoint, end: QPoint, steps: int = 8) -> None:
    """Press the left button at `start`, move to `end` in steps, release (a pan)."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(widget, QEvent.Type.MouseButtonPress, start, left, left)
    for n in range(1, steps + 1):
        point = start + (end - start) * (n / steps)
        _mouse(widget, QEvent.Type.MouseMove, point, none, left)
        QApplication.processEvents()
    _mouse(widget, QEvent.Type.MouseButtonRelease, end, left, none)


def click(widget, view, x: float, y: float) -> None:
    """A left click at view point (x, y)."""
    QTest.mouseClick(
        widget.viewport(), Qt.MouseButton.LeftButton, pos=view_to_widget(widget, view, x, y)
    )


def drop_file(target, path: str) -> None:
    """Drag a local file over `target` and drop it there."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    centre = target.rect().center()
    action, left = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(target, QDragEnterEvent(centre, action, mime, left, none))
    QApplication.sendEvent(target, QDropEvent(QPointF(centre), action, mime, left, none))


# -- waiting without pytest-qt ---------------------------------------------------------------


def wait_until(condition, what: str, timeout_s: float = WAIT_S) -> None:
    """Process events until `condition()` holds; RuntimeError naming `what` on timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"walkthrough: timed out waiting for {what}")
        QTest.qWait(20)


def settle(ms: int = 300) -> None:
    """Let the views lay out and paint before a screenshot."""
    QTest.qWait(ms)


def when_ready(window, action) -> None:
    """Run `action` and wait for the window's next `ready` (the pair shown, or failed)."""
    fired = []
    window.ready.connect(lambda: fired.append(True))
    action()
    wait_until(lambda: fired and not window.loading, "the pair to be shown")


# -- screenshots ---------------------------------------------------------------------------


def quantise(image):
    """A PALETTE_COLOURS-colour copy of an RGB PIL image: a median-cut palette plus the exact
    outline colours of the photo panes, so that thin face and patch outlines keep their
    meaning (median cut alone merges their few pixels into the photo's colours)."""
    from PIL import Image

    from gui.photo_pane import CHOSEN, OTHER, PATCH

    kept = [channel for colour in (CHOSEN, OTHER, PATCH) for channel in colour.getRgb()[:3]]
    count = PALETTE_COLOURS - len(kept) // 3
    base = image.quantize(count, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette = Image.new("P", (1, 1))
    palette.putpalette(base.getpalette()[: 3 * count] + kept)
    return image.quantize(palette=palette, dither=Image.Dither.NONE)


def save_compact_png(widget, path: Path) -> int:
    """The widget as a palette PNG (PALETTE_COLOURS colours), written atomically; its size."""
    import io

    from PIL import Image

    from core.atomic_write import write_bytes_atomically
    from gui.figure_export import png_bytes

    image = Image.open(io.BytesIO(png_bytes(widget))).convert("RGB")
    out = io.BytesIO()
    quantise(image).save(out, "PNG", optimize=True)
    write_bytes_atomically(str(path), out.getvalue())
    return len(out.getvalue())


@dataclass
class Step:
    """One walkthrough step: its screenshot, the line printed, and the numbers behind it."""

    name: str
    screenshot: Path
    text: str
    facts: dict = field(default_factory=dict)


class Walkthrough:
    """The session, step by step, on an open MainWindow; `steps` collects what was seen."""

    def __init__(self, window, out: Path, echo=print):
        self.window = window
        self.out = out
        self.echo = echo
        self.steps: list[Step] = []
        out.mkdir(parents=True, exist_ok=True)

    def _record(self, name: str, text: str, widget=None, **facts) -> Step:
        settle()
        path = self.out / f"{len(self.steps) + 1:02d}-{name}.png"
        size = save_compact_png(widget or self.window, path)
        step = Step(name, path, text, facts)
        self.steps.append(step)
        self.echo(f"{len(self.steps)}. {name}: {text} [{path.name}, {size // 1024} KB]")
        return step

    def _gauge(self) -> str:
        return self.window.gauge.summary().replace("\n", "; ")

    def drop_pair(self, q: str, k: str) -> Step:
        win = self.window
        when_ready(win, lambda: (drop_file(win.panes["q"], q), drop_file(win.panes["k"], k)))
        comparison = win.state.comparison
        if comparison is None:
            raise RuntimeError(f"walkthrough: the pair was not compared: {win.state.error}")
        return self._record(
            "drop",
            f"dropped {Path(q).name} on Q and {Path(k).name} on K. "
            f"Q: {win.panes['q'].info.text()} K: {win.panes['k'].info.text()} "
            f"Gauge: {self._gauge()}",
            score=comparison.cosine,
            model=comparison.model.id,
        )

    def zoom(self, notches: int = 3) -> Step:
        """Wheel on Q's photo (over the chosen face) and, with Link Q/K zoom on, on Q's face."""
        win = self.window
        q, k = win.panes["q"], win.panes["k"]
        win.link_zoom.click()
        box = win.state.comparison.a.prepared.faces[win.state.comparison.a.index].box
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        photo_before = q.photo_view.viewRect().width()
        wheel(q.photo_widget, q.photo_view, *centre, notches)
        face_before = q.aligned_view.viewRect().width()
        size = win.state.comparison.a.aligned.size
        wheel(q.aligned_widget, q.aligned_view, size / 2, size / 2, notches)
        settle(100)
        widths = {
            "photo": (photo_before, q.photo_view.viewRect().width()),
            "face_q": (face_before, q.aligned_view.viewRect().width()),
            "face_k": k.aligned_view.viewRect().width(),
        }
        return self._record(
            "zoom",
            f"Link Q/K zoom on; {notches} wheel notches over Q's face: Q photo shows "
            f"{widths['photo'][1]:.0f} of {widths['photo'][0]:.0f} px across "
            f"(x{widths['photo'][0] / widths['photo'][1]:.2f}); Q aligned face "
            f"{widths['face_q'][1]:.1f} of {widths['face_q'][0]:.1f} px, K follows at "
            f"{widths['face_k']:.1f} px",
            widths=widths,
        )

    def correct_landmarks(self, shift=(0.08, 0.05)) -> tuple[Step, Step]:
        """Click Landmarks on Q, then the five points: the detector's, moved by `shift`
        (x, y) times the distance between the eyes (a correction at any photo scale)."""
        import numpy as np

        win = self.window
        pane = win.panes["q"]
        before = win.state.comparison
        detected = np.asarray(before.a.prepared.faces[before.a.index].landmarks, dtype=float)
        points = detected + np.asarray(shift) * np.linalg.norm(detected[1] - detected[0])
        pane.fit_all()  # every landmark in view
        pane.place_button.click()
        for x, y in points[:4]:
            click(pane.photo_widget, pane.photo_view, x, y)
        placing = self._record(
            "landmarks-placing",
            f"Landmarks on Q, four points clicked; the pane asks: {pane.info.text()}",
            clicked=len(pane._points),
        )
        when_ready(win, lambda: click(pane.photo_widget, pane.photo_view, *points[4]))
        after = win.state.comparison
        face = after.a.prepared.faces[after.a.index]
        moved = np.linalg.norm(np.asarray(face.landmarks) - detected, axis=1)
        placed = self._record(
            "landmarks-placed",
            f"fifth point clicked: Q realigned on hand-placed landmarks (placed_by_hand="
            f"{face.placed_by_hand}, moved {moved.min():.1f}-{moved.max():.1f} px from the "
            f"detector's); score {before.cosine:+.6f} -> {after.cosine:+.6f}; "
            f"Edit menu: {win.undo_action.text().replace('&', '')}; the pane says: "
            f"{pane.info.text()}",
            placed_by_hand=face.placed_by_hand,
            moved=moved,
            intended=float(np.linalg.norm(points[0] - detected[0])),
            marks=len(pane.point_marks.data),
            info=pane.info.text(),
            before=before.cosine,
            after=after.cosine,
        )
        return placing, placed

    def threshold(self, value: float) -> Step:
        """Type a threshold in the toolbar box and press Enter."""
        win = self.window
        box = win.threshold_box
        box.setFocus()
        box.selectAll()
        QTest.keyClicks(box, f"{value:.3f}")
        QTest.keyClick(box, Qt.Key.Key_Return)
        return self._record(
            "threshold",
            f"typed {value:.3f} in Threshold: gauge {self._gauge()}",
            threshold=win.gauge.threshold,
            session=win.session.threshold,
        )

    def undo(self) -> Step:
        """Edit → Undo twice: the threshold, then the hand-placed landmarks."""
        win = self.window
        first = win.undo_action.text().replace("&", "")
        win.undo_action.trigger()
        threshold = win.gauge.threshold
        second = win.undo_action.text().replace("&", "")
        when_ready(win, win.undo_action.trigger)
        comparison = win.state.comparison
        by_hand = comparison.a.prepared.faces[comparison.a.index].placed_by_hand
        return self._record(
            "undo",
            f"'{first}' -> threshold back to {threshold:+.3f} (default); '{second}' -> Q "
            f"detected again (placed_by_hand={by_hand}), score {comparison.cosine:+.4f}; "
            f"gauge {self._gauge()}",
            threshold=threshold,
            session=win.session.threshold,
            placed_by_hand=by_hand,
            score=comparison.cosine,
        )

    def batch(self, source: str) -> Step:
        """Tools → Batch evaluation… on `source`, with the DEMO calibration (Tippett plot)."""
        win = self.window
        index = win.calibration_box.findData("demo")
        win.calibration_box.setCurrentIndex(index)
        win.calibration_box.activated.emit(index)  # what a user's pick in the box sends
        page = win.open_batch_page()
        page.resize(1100, 700)
        page.run(source)
        wait_until(lambda: not win.runner.is_busy("batch"), "the batch evaluation")
        if page.result is None:
            raise RuntimeError(f"walkthrough: batch failed: {page.source_label.text()}")
        genuine = sum(p["same"] for p in page.pairs)
        top = page.table.item(0, 0).text()
        return self._record(
            "batch",
            f"{page.source_label.text()} {genuine} genuine, {len(page.pairs) - genuine} "
            f"impostor; {page.summary.text()}; top of the table {top}; Tippett plot "
            f"{'shown' if page.tippett_plot is not None else 'absent'}",
            widget=page,
            pairs=len(page.pairs),
            genuine=genuine,
            rows=page.table.rowCount(),
            tippett=page.tippett_plot is not None,
        )

    def export(self) -> Step:
        """Export the PDF report, the pair grid as SVG and the batch plots as PNG."""
        from gui.figure_export import export_figure

        win = self.window
        win.batch_page.hide()
        pdf = self.out / "report.pdf"
        if not win.export_report(str(pdf)):
            raise RuntimeError(f"walkthrough: export refused: {getattr(win, 'dialogs', '')}")
        wait_until(lambda: not win.runner.is_busy("report"), "the report")
        if not pdf.is_file():
            raise RuntimeError("walkthrough: no report was written")
        digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
        svg = export_figure(win.grid.graphics, str(self.out / "pair-grid.svg"))
        png = export_figure(win.batch_page.plots, str(self.out / "batch-plots.png"))
        return self._record(
            "export",
            f"report {pdf.name} ({pdf.stat().st_size // 1024} KB, SHA-256 {digest[:16]}…); "
            f"status bar: {win.statusBar().currentMessage()}; figures "
            f"{Path(svg).name}, {Path(png).name}",
            pdf=pdf,
            sha256=digest,
            svg=Path(svg),
            png=Path(png),
        )

    def run(self, q: str, k: str, batch_source: str, threshold: float = 0.5) -> list[Step]:
        self.drop_pair(q, k)
        self.zoom()
        self.correct_landmarks()
        self.threshold(threshold)
        self.undo()
        self.batch(batch_source)
        self.export()
        return self.steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the screenshots, the report and the figures")
    parser.add_argument("--model", default=None, help="model id (default: the workbench's)")
    parser.add_argument("--faces", default=str(FACES), help="the shared faces folder")
    parser.add_argument(
        "--batch", default=None, help="pairs CSV or identity tree (default: the shared identities)"
    )
    parser.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    args = parser.parse_args(argv)
    faces = Path(args.faces)
    q, k = (str(faces / name) for name in DEMO_PAIR)
    if not (Path(q).is_file() and Path(k).is_file()):
        print(f"error: the demo pair is not under {faces}", file=sys.stderr)
        return 2

    from PySide6.QtCore import QSettings

    from core.engine import make_engine
    from core.models.registry import DEFAULT_MODEL
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="walkthrough-") as scratch:
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        engine = make_engine(device="cpu", detector="mtcnn")
        window = MainWindow(
            engine,
            settings,
            model_id=args.model or DEFAULT_MODEL,
            remember_geometry=False,
            ask_before_discard=False,
        )
        errors: list[str] = []
        window.show_error = lambda title, text: errors.append(f"{title}: {text}")
        window.show_warning = lambda title, text: errors.append(f"{title}: {text}")
        width, height = (int(v) for v in args.size.split("x"))
        window.resize(width, height)
        window.show()
        settle(500)
        started = time.perf_counter()
        try:
            Walkthrough(window, Path(args.out)).run(q, k, args.batch or str(faces / "identities"))
        finally:
            window.runner.shutdown()
            window.close()
        print(f"walkthrough done in {time.perf_counter() - started:.0f} s")
        if errors:
            print("dialogs shown: " + " | ".join(errors), file=sys.stderr)
            return 1
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
