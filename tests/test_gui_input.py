"""Real input events on the workbench: the mouse wheel zooms, a drag pans, Alt+N chooses a map.

Each event is a QWheelEvent, QMouseEvent or key press sent to the widget an
examiner would use (tools/walkthrough.py sends the same ones), not a call on the
view's API. pyqtgraph zooms by 1.02 ** (-angle/8) per wheel event (ViewBox's
wheelScaleFactor -1/8): one 120-unit notch scales the view range by 1.02 ** -15.
"""

from __future__ import annotations

import pytest
from conftest import load_pair
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gui.explainer_panel import MARGINALS, NONE
from tools.walkthrough import drag, view_to_widget, wheel

NOTCH_SCALE = 1.02**-15


@pytest.fixture
def window(make_window, qtbot, genuine_small):
    win = make_window(ask_before_discard=False)
    load_pair(qtbot, win, *genuine_small)
    return win


def face_centre(window, side: str = "q") -> tuple[float, float]:
    image = window.state.comparison.a if side == "q" else window.state.comparison.b
    x1, y1, x2, y2 = (float(v) for v in image.prepared.faces[image.index].box)
    return (x1 + x2) / 2, (y1 + y2) / 2


def under(widget, view, pos: QPoint) -> tuple[float, float]:
    """The view point under viewport position `pos`."""
    point = view.mapSceneToView(widget.mapToScene(pos))
    return point.x(), point.y()


def frame(pane) -> tuple[float, float, float, float]:
    """The aligned face's view rectangle: x, y, width, height in aligned-face pixels
    (the two panes' aspect ratios differ by a fraction of a pixel)."""
    rect = pane.aligned_view.viewRect()
    return rect.x(), rect.y(), rect.width(), rect.height()


def test_the_wheel_zooms_the_photo_about_the_pointer_and_back(window):
    pane = window.panes["q"]
    widget, view = pane.photo_widget, pane.photo_view
    centre = face_centre(window)
    pos = view_to_widget(widget, view, *centre)
    before = view.viewRect()
    wheel(widget, view, *centre, 3)
    zoomed = view.viewRect()
    assert zoomed.width() == pytest.approx(before.width() * NOTCH_SCALE**3, rel=0.01)
    assert zoomed.height() == pytest.approx(before.height() * NOTCH_SCALE**3, rel=0.01)
    assert under(widget, view, pos) == pytest.approx(centre, abs=1.0)  # the face stays put
    wheel(widget, view, *centre, -3)
    assert view.viewRect().width() == pytest.approx(before.width(), rel=0.01)


def test_linked_zoom_moves_the_other_aligned_face_with_the_wheel(window):
    q, k = window.panes["q"], window.panes["k"]
    window.link_zoom.click()
    assert window.link_zoom.isChecked()
    full = k.aligned_view.viewRect().width()
    wheel(q.aligned_widget, q.aligned_view, 40, 50, 2)
    assert q.aligned_view.viewRect().width() == pytest.approx(full * NOTCH_SCALE**2, rel=0.02)
    assert frame(k) == pytest.approx(frame(q), abs=0.5)  # one shared frame
    wheel(k.aligned_widget, k.aligned_view, 60, 60, 1)
    assert frame(q) == pytest.approx(frame(k), abs=0.5)
    window.link_zoom.click()  # unlinked: K keeps its frame when Q zooms
    kept = frame(k)
    wheel(q.aligned_widget, q.aligned_view, 40, 50, -2)
    assert frame(k) == kept and frame(q) != pytest.approx(kept, abs=0.5)


def test_a_drag_pans_the_zoomed_photo_and_chooses_no_face(qtbot, window):
    pane = window.panes["q"]
    widget, view = pane.photo_widget, pane.photo_view
    centre = face_centre(window)
    wheel(widget, view, *centre, 4)
    start = view_to_widget(widget, view, *centre)
    end = start + QPoint(-60, 40)
    grabbed = under(widget, view, start)
    before = view.viewRect()
    with qtbot.assertNotEmitted(pane.faceClicked):
        drag(widget, start, end)
    after = view.viewRect()
    assert after.width() == pytest.approx(before.width(), rel=1e-6)  # panned, not zoomed
    assert after.x() > before.x() and after.y() < before.y()  # content follows the mouse
    assert under(widget, view, end) == pytest.approx(grabbed, abs=1.5)  # the grabbed point


def test_alt_number_keys_choose_the_map_toggles(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    maps = window.maps
    alt = Qt.KeyboardModifier.AltModifier
    # A button's shortcut animates a click: it is checked when the click is released.
    QTest.keyClick(window, Qt.Key.Key_1, alt)
    qtbot.waitUntil(lambda: maps.current == MARGINALS)
    assert maps.buttons[MARGINALS].isChecked()
    assert window.panes["q"].overlay.image is not None  # the exact marginals are drawn
    assert not maps.buttons["SDD"].isEnabled()
    QTest.keyClick(window, Qt.Key.Key_8, alt)  # SDD, disabled without a gallery
    qtbot.wait(300)
    assert maps.current == MARGINALS
    QTest.keyClick(window, Qt.Key.Key_0, alt)
    qtbot.waitUntil(lambda: maps.current == NONE)
    assert window.panes["q"].overlay.image is None


def test_hovering_the_status_bar_shows_a_cut_message_whole(window):
    bar = window.statusBar()
    message = bar.currentMessage()
    assert message.startswith("Compared") and bar.toolTip() == message
    long = "Compared (" + ", ".join(f"stage {i} {i * 100} ms" for i in range(30)) + ")"
    bar.showMessage(long)
    assert bar.toolTip() == long
    bar.clearMessage()
    assert bar.toolTip() == ""
