"""Edit → Search gallery… on real photos: candidates with thumbnails and scores; clicking
one opens Q against it in the workbench, and the case records the search."""

from __future__ import annotations

import pytest
from conftest import GUI_WAIT_MS as WAIT_MS  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

pytestmark = pytest.mark.slow


def test_a_candidate_opens_in_the_workbench_and_the_case_discloses_the_search(
    qtbot, make_window, faces_dir, tmp_path
):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for person in ("obama", "rose_leslie"):
        for photo in sorted((faces_dir / "identities" / person).iterdir()):
            (gallery / f"{person}_{photo.name}").symlink_to(photo)
    window = make_window(ask_before_discard=False)
    window.case_actions["search"].trigger()
    page = window.search_dialog.page
    assert not page.search()  # nothing chosen yet: says so, starts nothing
    assert "needed" in page.summary.text()
    page.query.setText(str(faces_dir / "identities" / "obama" / "obama_1.jpg"))
    page.gallery.setText(str(gallery))
    page.top.setValue(4)
    assert page.search()
    qtbot.waitUntil(lambda: not window.runner.is_busy("search"), timeout=WAIT_MS)
    assert page.result is not None, page.summary.text()
    assert page.candidates.count() == 4 and page.search_button.isEnabled()
    first = page.candidates.item(0)
    assert not first.icon().isNull() and "obama_" in first.text()
    assert "selection bias" in page.summary.text()

    second = page.candidates.item(1)
    candidate = second.data(Qt.ItemDataRole.UserRole)
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        page.candidates.itemClicked.emit(second)
    assert window.state.comparison is not None and window.state.error is None
    case, _ = window.session.current_case()
    search = case.settings["search"]
    assert search["candidate_rank"] == 2 and search["gallery_size"] == 9
    assert case.input("B").sha256 == candidate["sha256"]
    assert "began as a gallery search" in [entry.action for entry in case.audit_log]
