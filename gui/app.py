"""Start the workbench: QApplication, engine, window, and the automation hooks.

`--screenshot PNG` saves the whole window once the pair is loaded, compared and
drawn (or has failed with a message); `--quit-after-ready` then exits. The exit
status is 0 when the window reached that point without an error message, else 1.
"""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from core.atomic_write import write_bytes_atomically
from core.models.onnx_pack import use_model_pack
from core.models.registry import load_model

REPO = Path(__file__).resolve().parents[1]
DEMO_PAIR = ("identities/obama/obama_1.jpg", "identities/obama/obama_2.jpg")


def demo_pair() -> tuple[str, str] | None:
    """A genuine pair from the shared photos beside the repository, when they are there."""
    faces = REPO.parent / "shared" / "data" / "faces"
    paths = [faces / name for name in DEMO_PAIR]
    return (str(paths[0]), str(paths[1])) if all(p.is_file() for p in paths) else None


def save_screenshot(widget, path: str) -> None:
    """The widget as a PNG, written atomically."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    buffer.close()
    write_bytes_atomically(path, bytes(data))


@contextmanager
def collection_on_the_gui_thread():
    """Python's cycle collector runs in whichever thread happens to allocate. Run in a
    worker, it can destroy a Qt object while the GUI thread destroys another, and the
    two threads deadlock (Qt's object mutex against the GIL; seen in the test suite).
    pyqtgraph's GarbageCollector turns automatic collection off and collects on a
    GUI-thread timer instead; automatic collection comes back when the loop ends."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=1.0)
    try:
        yield
    finally:
        collector.timer.stop()
        gc.enable()


def run_gui(args) -> int:
    """Run the workbench; `args` carries the `gui` command's options (core/cli/gui.py)."""
    import pyqtgraph as pg

    from core.engine import make_engine
    from gui.error_log import install_excepthook
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("Patchwise")
    app.setApplicationName("Patchwise")
    pg.setConfigOptions(antialias=True)

    def engine_with_detector(kind: str):
        return make_engine(
            device=args.device,
            threads=args.threads,
            detector=kind,
            detector_pack=args.detector_pack,
            max_pixels=args.max_pixels,
        )

    use_model_pack(args.model_pack)
    engine = engine_with_detector(args.detector)
    if args.model is not None:
        # A bundled id, a checkpoint name or path, or a pack model: loading it is the
        # check (ModelNotFoundError, exit code 7, names what was looked for).
        load_model(args.model, engine.device)

    window = MainWindow(
        engine,
        QSettings(),
        model_id=args.model,
        threads=args.threads,
        detector_factory=engine_with_detector,
        remember_geometry=not (args.screenshot or args.quit_after_ready),
        ask_before_discard=not args.quit_after_ready,
    )
    install_excepthook(window)
    if args.calibration is not None:
        window.set_calibration(args.calibration)
    window.show()
    paths = [p for p in (args.q, args.k) if p]
    if not paths:
        paths = list(demo_pair() or ())
    if not paths:
        window.statusBar().showMessage("Drop a photo on each pane, or use File → Open.")
    for side, path in zip(("q", "k"), paths, strict=False):
        window.load_photo(side, path)

    outcome = {"code": 0}
    if args.screenshot or args.quit_after_ready:

        def finish() -> None:
            if window.loading:
                return  # a later `ready` will come
            if args.screenshot:
                save_screenshot(window, args.screenshot)
                print(f"screenshot written to {args.screenshot}")
            outcome["code"] = 1 if window.state.error else 0
            if window.state.error:
                print(f"error: {window.state.error}", file=sys.stderr)
            if args.quit_after_ready:
                window.close()
                app.quit()

        # Let the views lay out and paint once before grabbing.
        window.ready.connect(lambda: QTimer.singleShot(300, finish))
        if len(paths) < 2:
            QTimer.singleShot(500, finish)
    with collection_on_the_gui_thread():
        app.exec()
    return outcome["code"]
