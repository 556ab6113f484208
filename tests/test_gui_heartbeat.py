"""The GUI thread stays responsive: a 10 ms heartbeat timer keeps ticking during compare,
model switch, save, open and export (every file and engine call runs in a worker).

A blocked GUI thread shows as a gap between ticks. The budget is 50 ms on top of
what this machine needs anyway, measured first in the same test: the largest
gap while the window sits idle for a second (on the shared 2-core machine at a
load of 12-15 the scheduler alone delays an idle event loop by ~100 ms) plus
one full redraw of the window (the comparison handed to the views again, then
`grab()`: when a result arrives the window must be drawn once). What remains
is time the GUI thread spent on anything else -- a file read or written, a
model loaded, a case hashed -- and it must stay under 50 ms.

Each step is measured in up to three fresh windows (see the test).

A step ends once the window has drawn its result (its paint events are
processed inside the step, so no step pays for the one before). The first
export used to need 100 ms more (issue 15): its progress bar, appearing beside
the opened case's word-wrapped banner in the status bar, made the status bar
taller, so every view above was re-laid out and redrawn by pyqtgraph (Python,
on the GUI thread) just as the report worker parsed its fonts for the first
time (reportlab reads the DejaVu TTFs in pure Python, ~0.35 s of CPU here);
the two threads shared the GIL and the gap reached 70-240 ms on a loaded
machine. Found with faulthandler tracebacks dumped when a tick was 40 ms late,
and a paint-event spy; fixed by window_chrome.keep_place_when_hidden.
"""

from __future__ import annotations

import time

import pytest
from conftest import GUI_WAIT_MS as WAIT_MS
from conftest import load_pair
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

MAX_GAP_S = 0.050


class Heartbeat:
    """Records the largest gap between ticks of a 10 ms timer, per named step."""

    def __init__(self):
        self.ticks: list[float] = []
        self.gaps: dict[str, float] = {}
        self.timer = QTimer()
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def step(self, name: str, action) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start(10)
        action()
        QApplication.processEvents()  # the step's result drawn: its paint is its own
        self.ticks.append(time.perf_counter())
        self.timer.stop()
        self.gaps[name] = max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False))


TRIES = 3


def beat_through_the_workflow(qtbot, make_window, genuine_small, folder) -> dict[str, float]:
    """One run of compare, model switch, save, open and export in a fresh window: each
    step's largest tick gap minus this run's budget (positive = over budget)."""
    win = make_window()
    beat = Heartbeat()
    path = str(folder / "beat.pwcase")
    pdf = str(folder / "beat.pdf")

    def switch_model():
        with qtbot.waitSignal(win.ready, timeout=WAIT_MS):
            win.model_box.setCurrentText("faceres-rrf56")

    def export():
        views = win.centralWidget().geometry()
        assert win.export_report(pdf)
        qtbot.wait(20)
        assert win.report_bar.isVisible() and win.case_banner.isVisible()
        assert win.centralWidget().geometry() == views  # the progress bar moves no view
        qtbot.waitUntil(lambda: not win.runner.is_busy("report"), timeout=WAIT_MS)

    def reopen():
        with qtbot.waitSignal(win.ready, timeout=WAIT_MS):
            assert win.open_case(path)

    beat.step("idle", lambda: qtbot.wait(1000))
    beat.step("compare", lambda: load_pair(qtbot, win, *genuine_small))
    started = time.perf_counter()
    win.state.set_comparison(win.state.comparison)  # the views take a result, as on arrival,
    win.grab()  # and the window draws it once (its image caches are new)
    redraw = time.perf_counter() - started
    beat.step("model switch", switch_model)
    beat.step("save", lambda: win.save_case_to(path))
    beat.step("open", reopen)
    beat.step("export", export)
    assert win.dialogs == [] and win.state.comparison is not None
    budget = MAX_GAP_S + beat.gaps.pop("idle") + redraw
    win.close()
    return {name: gap - budget for name, gap in beat.gaps.items()}


@pytest.mark.slow
def test_the_gui_thread_is_never_blocked_for_more_than_50_ms(
    qtbot, make_window, genuine_small, tmp_path
):
    """A step fails only if it is over budget in every one of up to TRIES fresh windows:
    work on the GUI thread is there every time, while the scheduler of a loaded shared
    machine stalls an event loop at random (1 run in 3-5 went over at a load of 5-7)."""
    over: dict[str, list[int]] = {}
    for attempt in range(TRIES):
        folder = tmp_path / f"try{attempt}"
        folder.mkdir()
        excess = beat_through_the_workflow(qtbot, make_window, genuine_small, folder)
        for name, ms in excess.items():
            over.setdefault(name, []).append(round(ms * 1000))
        if all(ms <= 0 for ms in excess.values()):
            return
    always = {name: runs for name, runs in over.items() if min(runs) > 0}
    assert not always, f"GUI thread over its budget in every try (ms over, per try): {always}"
