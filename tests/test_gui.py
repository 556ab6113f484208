"""The workbench window (pytest-qt, offscreen), driven like an examiner would.

Small photos and the 112-px mobileface model (4x4 grid -> 16x16 pairs) keep it fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import GUI_MODEL as MODEL  # noqa: E402
from conftest import GUI_WAIT_MS as WAIT_MS  # noqa: E402
from conftest import load_pair  # noqa: E402
from PySide6.QtCore import QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from gui.explainer_panel import MARGINALS, NONE  # noqa: E402


def click_view(qtbot, widget, view, x, y):
    """Click at view coordinates (x, y) of a pyqtgraph ViewBox inside `widget`."""
    scene_point = view.mapViewToScene(QPointF(x, y))
    pos = widget.mapFromScene(scene_point)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)


@pytest.fixture
def window(make_window):
    return make_window(ask_before_discard=False)


def test_genuine_pair_fills_the_grid_and_the_gauge_shows_the_engine_score(
    qtbot, window, engine, genuine_small
):
    load_pair(qtbot, window, *genuine_small)
    comparison = window.state.comparison
    assert comparison is not None and window.state.error is None
    expected = engine.compare(genuine_small[0], genuine_small[1], MODEL)
    k = expected.decomposition.layout.count
    assert k == 16
    shown = window.grid.image.image
    assert shown.shape == (k, k)
    np.testing.assert_allclose(shown, expected.decomposition.pair_matrix, atol=1e-12)
    assert window.gauge.score == pytest.approx(expected.cosine, abs=1e-9)
    assert f"{expected.cosine:+.4f}" in window.gauge.summary()
    assert "uncalibrated" in window.gauge.summary()
    assert "grid cell (receptive fields overlap)" in window.grid.layout_label.text()
    assert "(forward residual)" in window.grid.layout_label.text()
    assert comparison.forward_residual <= 1e-5
    assert window.grid.top_list.count() > 2
    assert window.model_label.text().startswith(f"model: {MODEL} sha256 ")


def test_clicking_a_grid_cell_selects_the_patches_on_both_faces_and_photos(
    qtbot, window, genuine_small
):
    load_pair(qtbot, window, *genuine_small)
    click_view(qtbot, window.grid.graphics, window.grid.heat_plot.vb, 7, 3)
    selection = window.state.selection
    assert (selection.i, selection.j) == (3, 7)
    comparison = window.state.comparison
    boxes = comparison.decomposition.layout.boxes
    rect = window.panes["q"].aligned_patch.rect()
    assert (rect.x(), rect.y(), rect.right(), rect.bottom()) == pytest.approx(boxes[3])
    polygon = window.panes["k"].photo_patch.polygon()
    corners = np.array([[p.x(), p.y()] for p in polygon])
    np.testing.assert_allclose(corners, comparison.b.aligned.box_to_original(boxes[7]))
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    qtbot.keyClick(window.grid, Qt.Key.Key_Down)
    assert (window.state.selection.i, window.state.selection.j) == (4, 8)
    window.grid.top_list.itemClicked.emit(window.grid.top_list.item(1))
    top = comparison.decomposition.top_pairs(1)[0][0]
    assert (window.state.selection.i, window.state.selection.j) == (top["i"], top["j"])
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # hides every outline, on Q and on K
    assert window.state.selection is None
    assert not any(pane.aligned_patch.isVisible() for pane in window.panes.values())


def test_clicking_a_point_on_a_face_selects_the_patch_under_it(qtbot, window, genuine_small):
    load_pair(qtbot, window, *genuine_small)
    pane_q = window.panes["q"]
    click_view(qtbot, pane_q.aligned_widget, pane_q.aligned_view, 80, 30)
    selection = window.state.selection
    matrix = window.state.comparison.decomposition.pair_matrix
    assert selection.i == 6 and selection.focus == "q"  # 4x4 cells of 28 px: column 2, row 1
    assert selection.j == int(np.argmax(matrix[6]))
    assert window.panes["k"].overlay.image is not None  # Q's row painted onto K
    assert window.panes["q"].overlay.image is None


def test_an_explainer_runs_in_a_worker_while_the_gui_ticks_and_cancel_stops_it(
    qtbot, window, genuine_small
):
    load_pair(qtbot, window, *genuine_small)
    window.maps.choose(MARGINALS)
    assert window.panes["q"].overlay.image is not None
    assert window.panes["k"].overlay.image is not None

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    progress = []
    window.maps.progress.valueChanged.connect(progress.append)
    window.maps.choose("X-Map III")  # thousands of occluded faces: long enough to cancel
    qtbot.waitUntil(lambda: progress and progress[-1] > 0, timeout=WAIT_MS)
    ticks_while_running = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) >= ticks_while_running + 10, timeout=WAIT_MS)
    assert window.runner.is_busy("explain")  # the GUI ticked while the explainer ran
    with qtbot.waitSignal(
        window.runner.stopped, timeout=WAIT_MS, check_params_cb=lambda channel: channel == "explain"
    ):
        window.maps.cancel.click()
    assert not window.runner.is_busy("explain")
    assert window.panes["q"].overlay.image is None  # no map from the cancelled run
    assert not window.maps.progress.isVisible()
    assert window.maps.current == NONE and "Computing" not in window.maps.info.text()

    with qtbot.waitSignal(window.explained, timeout=WAIT_MS):
        window.maps.choose("Grad-CAM")
    assert "Per-pair score AUC</b>: being measured" in window.maps.info.text()  # map first
    qtbot.waitUntil(lambda: "deletion AUC" in window.maps.info.text(), timeout=WAIT_MS)
    timer.stop()
    assert window.panes["q"].overlay.image.shape == (112, 112, 4)
    assert "deletion AUC" in window.maps.info.text()
    assert window.maps.buttons[NONE].shortcut().toString() == "Alt+0"  # Alt+N: toggle N
    assert "Per-pair score AUC" in window.maps.info.text()
    window.maps.choose(NONE)
    with qtbot.assertNotEmitted(window.runner.started):
        window.maps.choose("Grad-CAM")  # cached per (pair, model, settings, seed)
    assert window.panes["k"].overlay.image is not None


def test_the_demo_calibration_gives_c_score_and_lr_and_its_status(qtbot, window, genuine_small):
    load_pair(qtbot, window, *genuine_small)
    window.set_calibration("demo")
    summary = window.gauge.summary()
    assert "DEMO calibration — not for casework" in summary
    assert "C-Score" in summary and "log10 LR" in summary
    from core.strength_of_evidence.evidence_section import (
        default_calibration_path,
        evidence_for,
        load_calibration,
    )

    comparison = window.state.comparison
    calibration = load_calibration(default_calibration_path(MODEL), comparison.model)
    expected = evidence_for(comparison.cosine, calibration, MODEL)
    assert f"log10 LR {expected.log10_lr:+.2f}" in summary
    assert window.gauge.threshold == pytest.approx(expected.threshold)
    qtbot.mouseClick(window.gauge, Qt.MouseButton.LeftButton)
    assert window._details.isVisible()
    window._details.close()
    window.set_calibration("none")
    assert "uncalibrated" in window.gauge.summary()


def test_a_second_face_can_be_chosen_and_the_comparison_follows(qtbot, window, engine, faces_dir):
    group = str(faces_dir / "multi_face" / "kit_with_rose.jpg")
    single = str(faces_dir / "identities" / "rose_leslie" / "rose_leslie_2.jpg")
    load_pair(qtbot, window, group, single)
    faces = window.state.prepared["q"].faces
    assert len(faces) >= 2
    x1, y1, x2, y2 = faces[1].box
    pane = window.panes["q"]
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        click_view(qtbot, pane.photo_widget, pane.photo_view, (x1 + x2) / 2, (y1 + y2) / 2)
    assert window.state.face_index["q"] == 1
    comparison = window.state.comparison
    assert comparison.a.index == 1
    expected = engine.compare(group, single, MODEL, face_a=1)
    assert comparison.cosine == pytest.approx(expected.cosine, abs=1e-9)
    assert "face 2 of" in pane.info.text()


def test_a_corrupt_image_shows_an_error_and_the_next_pair_still_works(
    qtbot, window, genuine_small, tmp_path
):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        window.load_photo("q", str(corrupt))
    assert "corrupt.jpg" in window.state.error
    assert window.error_banner.isVisibleTo(window)
    assert window.state.comparison is None
    load_pair(qtbot, window, *genuine_small)
    assert window.state.error is None and window.state.comparison is not None
    assert not window.error_banner.isVisibleTo(window)


def test_an_unexpected_exception_is_logged_and_a_dialog_names_the_log(qtbot, window):
    def broken(progress, cancelled):
        raise RuntimeError("boom from a worker")

    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        window.runner.start("compare", broken, on_error=lambda m, e: window._failed(m, e, None))
    from gui.error_log import log_path

    assert "boom from a worker" in log_path().read_text(encoding="utf-8")
    dialogs = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert dialogs and str(log_path()) in dialogs[-1].text()
    for dialog in dialogs:
        dialog.close()


@pytest.mark.slow
def test_screenshot_and_quit_after_ready_write_a_png_of_the_window(genuine_small, tmp_path):
    out = tmp_path / "window.png"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    result = subprocess.run(
        [
            sys.executable,
            "main.py",
            "gui",
            *genuine_small,
            "--model",
            MODEL,
            "--detector",
            "mtcnn",
            "--screenshot",
            str(out),
            "--quit-after-ready",
        ],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() >= 1000 and image.height() >= 600


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_window_fits_the_screen_and_no_evidence_text_is_cut_off(
    qtbot, window, genuine_small, tmp_path, size
):
    from gui.confidence_gauge import MARGIN

    window.set_calibration("demo")
    load_pair(qtbot, window, *genuine_small)
    window.maps.choose(MARGINALS)
    window.resize(*size)
    qtbot.wait(200)
    assert window.minimumSizeHint().width() <= 1200
    assert (window.width(), window.height()) == size
    gauge = window.gauge
    lines = gauge.text_lines()
    statement = window.session.evidence(window.session.calibration()).verbal["statement"]
    assert statement in lines and any(line.startswith("log10 LR") for line in lines)
    width = gauge.width() - 2 * MARGIN
    needed = gauge._text_top(width) + sum(gauge._wrapped_heights(width))
    assert needed <= gauge.height()  # every line drawn whole, wrapped, none elided
    for side in ("q", "k"):
        bar = window.panes[side].colour_bar
        assert bar.isVisible() and "red raises the score" in bar.meaning_label.text()
        assert bar.meaning_label.wordWrap()
    path = tmp_path / f"window-{size[0]}x{size[1]}.png"
    assert window.grab().save(str(path)) and path.stat().st_size > 10_000


def test_a_failed_drop_keeps_the_photo_and_undo_redo_restore_choices(
    qtbot, window, genuine_small, faces_dir, tmp_path
):
    load_pair(qtbot, window, *genuine_small)
    state = window.state
    before = state.comparison.cosine
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        window.load_photo("k", str(corrupt))
    assert "corrupt.jpg" in state.error
    assert state.paths["k"] == genuine_small[1] and state.comparison.cosine == before
    other = str(faces_dir / "identities" / "obama" / "obama_1.jpg")
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        window.load_photo("k", other)
    assert state.paths["k"] == other and state.comparison.cosine != before
    assert window.undo_action.isEnabled() and "photo of K" in window.undo_action.text()
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        assert window.undo()
    assert state.paths["k"] == genuine_small[1]
    assert state.comparison.cosine == pytest.approx(before, abs=1e-12)
    assert window.redo_action.isEnabled()
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        assert window.redo()
    assert state.paths["k"] == other and not window.redo_action.isEnabled()


def test_photos_and_faces_zoom_pan_fit_one_to_one_and_link(qtbot, window, genuine_small):
    load_pair(qtbot, window, *genuine_small)
    q, k = window.panes["q"], window.panes["k"]
    assert q.aligned_view.state["mouseEnabled"] == [True, True]  # wheel zooms, drag pans
    full = q.aligned_view.viewRect().width()
    q.aligned_view.scaleBy((0.5, 0.5))
    assert q.aligned_view.viewRect().width() == pytest.approx(full / 2, rel=0.05)
    window.link_zoom.setChecked(True)
    q.aligned_view.scaleBy((0.5, 0.5))
    qtbot.wait(50)
    assert k.aligned_view.viewRect().width() == pytest.approx(
        q.aligned_view.viewRect().width(), rel=0.05
    )
    q.fit_all()
    assert q.aligned_view.viewRect().width() == pytest.approx(full, rel=0.05)
    q.one_to_one_all()
    on_screen = q.photo_view.sceneBoundingRect().width()
    assert q.photo_view.viewRect().width() == pytest.approx(on_screen, rel=0.02)


def test_an_examiner_threshold_moves_the_gauge_and_can_be_undone(qtbot, window, genuine_small):
    load_pair(qtbot, window, *genuine_small)
    default = window.gauge.threshold
    window.threshold_box.setValue(0.95)
    assert window.gauge.threshold == 0.95 and window.session.threshold == 0.95
    assert "set by the examiner" in window.gauge.summary()
    assert window.undo()
    assert window.gauge.threshold == default and window.session.threshold is None
    assert window.threshold_box.specialValueText() == window.threshold_box.text()


def test_landmarks_placed_by_hand_align_the_face_are_saved_and_undone(
    qtbot, window, genuine_small, tmp_path
):
    load_pair(qtbot, window, *genuine_small)
    detected = window.state.comparison
    points = np.asarray(detected.a.prepared.faces[0].landmarks)
    pane = window.panes["q"]
    pane.place_button.setChecked(True)
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        for x, y in points:  # five real clicks on the photo, in the template's order
            click_view(qtbot, pane.photo_widget, pane.photo_view, x, y)
    placed = window.state.comparison
    face = placed.a.prepared.faces[placed.a.index]
    assert face.placed_by_hand and not pane.place_button.isChecked()
    assert np.abs(face.landmarks - points).max() < 3  # within a screen pixel or two
    assert placed.cosine == pytest.approx(detected.cosine, abs=0.05)
    path = str(tmp_path / "placed.pwcase")
    assert window.save_case_to(path)
    assert "A" in window.state.case.settings["landmarks"]
    assert "landmarks of Q" in window.undo_action.text()
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        assert window.undo()
    assert not window.state.comparison.a.prepared.faces[0].placed_by_hand
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        assert window.open_case(path)  # the case brings its hand-placed points back
    reopened = window.state.comparison
    assert reopened.a.prepared.faces[0].placed_by_hand
    assert reopened.cosine == pytest.approx(placed.cosine, abs=1e-6)


def test_figures_export_as_png_and_svg(qtbot, window, genuine_small, tmp_path):
    from gui.figure_export import export_figure

    load_pair(qtbot, window, *genuine_small)
    window.maps.choose(MARGINALS)
    pane = window.panes["q"]
    assert [a.text() for a in pane.aligned_widget.actions()] == ["Export as PNG or SVG…"]
    png = export_figure(pane.aligned_widget, str(tmp_path / "face.png"))
    image = QImage(png)
    assert image.width() == pane.aligned_widget.width() and not image.isNull()
    svg = export_figure(window.grid.graphics, str(tmp_path / "grid.svg"))
    text = open(svg, encoding="utf-8").read()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "<image" in text


def test_brightness_and_contrast_change_the_display_only(qtbot, window, genuine_small):
    load_pair(qtbot, window, *genuine_small)
    before = window.state.comparison
    pixels = before.a.prepared.evidence.rgb.copy()
    window.display.brightness.setValue(50)
    window.display.contrast.setValue(200)
    low, high = window.panes["q"].photo_image.getLevels()
    assert (low, high) == pytest.approx((0.0, 127.5))  # brighter, twice the contrast
    assert window.state.comparison is before  # nothing recomputed
    assert np.array_equal(before.a.prepared.evidence.rgb, pixels)
