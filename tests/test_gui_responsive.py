"""The workbench stays responsive while explainers run (issue 12), pytest-qt offscreen.

A heartbeat timer ticks every 10 ms on the GUI thread; its largest gap shows
whether anything blocked the event loop. A provisional map must appear while
an X-Map refines, and a new comparison during the X-Map must be
served without waiting for it: the X-Map is cancelled within one forward pass (< 1 s) and not
restarted on the new pair.
"""

from __future__ import annotations

import time

import pytest
from conftest import GUI_WAIT_MS as WAIT_MS
from conftest import load_pair
from PySide6.QtCore import QTimer

from core.explainers import base as explainers_base
from gui.explainer_panel import NONE


class Heartbeat:
    def __init__(self, interval_ms: int = 10):
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start(interval_ms)

    def largest_gap(self) -> float:
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False))


@pytest.mark.slow
def test_a_map_appears_and_a_new_comparison_during_an_xmap_is_not_kept_waiting(
    qtbot, make_window, faces_dir, genuine_small, monkeypatch
):
    # On ONNX Runtime mobileface's whole X-Map takes ~0.7 s, less than the first
    # provisional map's second: the test runs it on torch (~1.5-6 s here) and asks for
    # provisional maps every 0.25 s, so there is a running X-Map to interrupt.
    monkeypatch.setattr(explainers_base, "PARTIAL_EVERY_S", 0.25)
    window = make_window(ask_before_discard=False)
    assert window.session.runtime == "onnx"  # the default
    window.session.runtime = "torch"
    load_pair(qtbot, window, *genuine_small)
    heartbeat = Heartbeat()
    stopped = []
    window.runner.stopped.connect(lambda channel: stopped.append((channel, time.perf_counter())))

    window.maps.choose("X-Map I")
    qtbot.waitUntil(lambda: window.panes["q"].overlay.image is not None, timeout=WAIT_MS)
    assert window.runner.is_busy("explain"), "the X-Map finished before it could be interrupted"
    assert "refining" in window.maps.progress.format()

    other = str(faces_dir / "identities" / "obama" / "obama_2.jpg")
    dropped = time.perf_counter()
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        window.load_photo("k", other)
    served = time.perf_counter() - dropped
    # the small pair compares in well under a second, so `ready` may come before the
    # X-Map's worker has finished its current forward pass (one chunk: default_chunk)
    qtbot.waitUntil(lambda: any(channel == "explain" for channel, _ in stopped), timeout=5000)
    explain_stops = [t for channel, t in stopped if channel == "explain"]
    # one chunk of 8 passes takes ~0.1 s quiet and up to ~0.5 s on a loaded 2-core CPU
    stop_s = explain_stops[0] - dropped
    assert stop_s < 1.0, f"the X-Map stopped {stop_s:.3f} s after the drop"
    assert not window.runner.is_busy("explain")  # not restarted on the new pair
    assert window.maps.current == NONE and window.panes["q"].overlay.image is None
    heartbeat.timer.stop()
    # on the shared 2-core machine the scheduler alone stalls ~0.1-0.3 s at times; a GUI
    # thread waiting for the X-Map would stall for the seconds the X-Map has left
    assert heartbeat.largest_gap() < 0.5
    assert served < 30

    window.session.runtime = "onnx"  # back to the default; the menu switches and remembers it
    key = window.session.map_key("X-Map I")
    window.case_actions["runtime_torch"].trigger()
    assert window.session.runtime == "torch" and window.settings.value("runtime") == "torch"
    assert window.session.map_key("X-Map I") != key  # maps are cached per runtime
