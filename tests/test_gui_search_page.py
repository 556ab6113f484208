"""The "Search gallery" page on real photos: candidates with thumbnails and scores;
clicking one asks the workbench to open Q against it, with the search's record."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gui.search_page import SearchPage
from gui.workers import JobRunner

WAIT_MS = 240_000


@pytest.mark.slow
def test_search_page_lists_candidates_and_opens_one(qtbot, engine, faces_dir, tmp_path):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for person in ("obama", "rose_leslie"):
        for photo in sorted((faces_dir / "identities" / person).iterdir()):
            (gallery / f"{person}_{photo.name}").symlink_to(photo)
    runner = JobRunner(threads=1)
    page = SearchPage(engine, runner, lambda: "mobileface")
    qtbot.addWidget(page)
    assert not page.search()  # nothing chosen yet: says so, starts nothing
    assert "needed" in page.summary.text()
    page.query.setText(str(faces_dir / "identities" / "obama" / "obama_1.jpg"))
    page.gallery.setText(str(gallery))
    page.top.setValue(4)
    assert page.search()
    qtbot.waitUntil(lambda: not runner.is_busy("search"), timeout=WAIT_MS)
    try:
        assert page.result is not None, page.summary.text()
        assert page.candidates.count() == 4 and page.search_button.isEnabled()
        first = page.candidates.item(0)
        assert not first.icon().isNull() and "obama_" in first.text()
        assert "selection bias" in page.summary.text()
        with qtbot.waitSignal(page.pair_chosen) as chosen:
            page.candidates.itemClicked.emit(page.candidates.item(1))
        query, candidate, origin = chosen.args
        assert query.endswith("obama_1.jpg") and candidate == str(
            gallery / page.candidates.item(1).data(Qt.ItemDataRole.UserRole)["name"]
        )
        assert origin["candidate_rank"] == 2 and origin["gallery_size"] == 9
    finally:
        runner.shutdown()
