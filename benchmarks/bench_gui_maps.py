"""Click-to-screen times of the workbench's maps, in a real (offscreen) window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui_maps.py
        [--models faceres,mobileface,dlib-resnet] [--runtime onnx|torch]
        [--q PHOTO] [--k PHOTO ...] [--other PHOTO]

Issue 12 sets its goals where the examiner sees them: Grad-CAM on screen within
0.3 s of the click, X-Map and CorrRISE maps on screen (first a provisional one, then
the finished one) in seconds, and a new comparison dropped during an X-Map served
without waiting for it. `bench_explainers.py` times the explainers themselves; this
script times the same things through the window: a map toggle is chosen as a click
would choose it, and the clock stops when the face pane holds an overlay (the first,
possibly provisional, map) and when the explainer's job has ended with the map cached.

Per model, each map is clicked once on each K photo (--k, default obama_2 and
obama_4 against obama_1), so that every click really computes: maps and X-Map
occlusions are cached per pair. The first click on each model comes right after the
model switch, so it can meet that switch's background work. "new pair during X-Map"
compares with --other on K, starts X-Map II, drops the first --k photo on K while it
refines, and times the new comparison's `ready` signal and the end of the X-Map's
job. Times are wall seconds on this machine; report the load average printed in the
header.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import core  # noqa: E402,F401  (first: thread and allocator policy before torch)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "identities"
MAPS = ("Grad-CAM", "X-Map II", "CorrRISE S⁺/S⁻")


def wait_until(app, predicate, timeout_s: float = 300.0) -> float:
    """Run the event loop until predicate() holds; the time it took, in seconds."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.001)
    return time.perf_counter() - start


def compared(window, model: str, k: str) -> bool:
    """The window shows its comparison of the pair with K photo k by `model`."""
    comparison = window.state.comparison
    if window.loading or comparison is None:
        return False
    k_name = window.state.prepared["k"].evidence.name
    return comparison.model.id == model and k_name == Path(k).name


def click_map(app, window, name: str) -> tuple[float, float]:
    """(seconds to the first overlay, seconds until the map is finished and cached)."""
    from gui.explainer_panel import NONE

    window.maps.choose(NONE)
    wait_until(app, lambda: not window.runner.is_busy())
    if window.session.cached_map(name) is not None:
        raise RuntimeError(f"{name} is already cached for this pair: nothing to time")
    start = time.perf_counter()
    window.maps.choose(name)
    wait_until(app, lambda: window.panes["q"].overlay.image is not None)
    shown = time.perf_counter() - start
    wait_until(app, lambda: window.session.cached_map(name) is not None)
    return shown, time.perf_counter() - start


def new_pair_during_xmap(
    app, window, model: str, other: str, dropped_k: str
) -> tuple[float, float | None]:
    """Compare with K = other, start X-Map II, drop dropped_k on K once the first map shows.

    Returns (seconds until the new pair is served, seconds until the X-Map's job ended,
    or None when it had finished before the drop).
    """
    from gui.explainer_panel import NONE

    window.maps.choose(NONE)
    window.load_photo("k", other)
    wait_until(app, lambda: compared(window, model, other) and not window.runner.is_busy())
    window.maps.choose("X-Map II")
    wait_until(app, lambda: window.panes["q"].overlay.image is not None)
    ready, stopped = [], []

    def served() -> None:
        ready.append(time.perf_counter())

    def ended(channel: str) -> None:  # the worker has returned, not only been told to stop
        if channel == "explain":
            stopped.append(time.perf_counter())

    window.ready.connect(served)
    window.runner.stopped.connect(ended)
    running = window.runner.is_busy("explain")  # a fast model's X-Map may be done already
    dropped = time.perf_counter()
    window.load_photo("k", dropped_k)
    wait_until(app, lambda: bool(ready) and (bool(stopped) or not running))
    window.ready.disconnect(served)
    window.runner.stopped.disconnect(ended)
    return ready[0] - dropped, (stopped[0] - dropped if running else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="faceres,mobileface,dlib-resnet")
    parser.add_argument("--runtime", choices=("onnx", "torch"), default="onnx")
    parser.add_argument("--q", default=str(SHARED / "obama" / "obama_1.jpg"))
    parser.add_argument(
        "--k",
        nargs="+",
        default=[str(SHARED / "obama" / name) for name in ("obama_2.jpg", "obama_4.jpg")],
    )
    parser.add_argument("--other", default=str(SHARED / "obama" / "obama_3.jpg"))
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = tempfile.TemporaryDirectory(prefix="bench_gui_maps_")
    os.environ["PATCHWISE_CACHE_DIR"] = scratch.name  # caches start empty

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from core.engine import make_engine
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(make_engine(detector="mtcnn"), settings, ask_before_discard=False)
    window.resize(1400, 880)
    window.show()
    window.session.runtime = args.runtime
    print(f"runtime {args.runtime}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"{'model':<12} {'K photo':<14} {'map':<16} {'on screen s':>12} {'finished s':>11}")
    for model in args.models.split(","):
        window.model_box.setCurrentText(model)
        for k in args.k:
            window.load_photo("q", args.q)
            window.load_photo("k", k)
            wait_until(app, lambda m=model, k=k: compared(window, m, k))
            for name in MAPS:
                shown, done = click_map(app, window, name)
                print(f"{model:<12} {Path(k).name:<14} {name:<16} {shown:12.3f} {done:11.3f}")
        served, stopped = new_pair_during_xmap(app, window, model, args.other, args.k[0])
        print(f"{model:<12} new pair during X-Map II: served in {served:.3f} s,", end=" ")
        print(
            "X-Map done before the drop"
            if stopped is None
            else f"X-Map's job ended in {stopped:.3f} s"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    window.runner.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
