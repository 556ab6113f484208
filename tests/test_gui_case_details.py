"""Case details and SDD in the workbench (pytest-qt, offscreen; the 112-px mobileface model).

The dialogs are replaced through the window's ask_* / show_* methods.
"""

from __future__ import annotations

import re

import pytest
from conftest import GUI_MODEL as MODEL  # noqa: E402
from conftest import GUI_WAIT_MS as WAIT_MS  # noqa: E402
from conftest import load_pair  # noqa: E402

from core.case import open_case  # noqa: E402
from core.case.case_model import DEFAULT_HD  # noqa: E402
from gui.case_details_dialog import CaseDetailsDialog  # noqa: E402

SDD = "SDD"
DETAILS = {
    "case_id": "ŁÓDŹ-2026-07",
    "examiner": "Łukasz Żółć",
    "agency": "Экспертный отдел Ελλάς",
    "notes": "Zweite Prüfung; заметка.",
    "hp": "Q and K show Łukasz, the suspect.",
    "hd": "Q shows someone other than Łukasz.",
}


def _pages_text(path) -> list[str]:
    """The PDF's text per page, with line breaks folded so wrapped values can be found."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        pages = [pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf))]
    finally:
        pdf.close()
    return [re.sub(r"\s+", " ", page) for page in pages]


@pytest.fixture
def win(make_window):
    return make_window()


def test_edited_details_reach_the_saved_case_with_an_audit_entry(
    qtbot, win, genuine_small, tmp_path
):
    load_pair(qtbot, win, *genuine_small)
    offered = []
    win.ask_case_details = lambda current: offered.append(current) or dict(DETAILS)
    assert win.edit_case_details()
    assert offered[0]["examiner"] == "" and offered[0]["hd"] == DEFAULT_HD
    assert (
        win.state.current_details() == DETAILS
        and win.state.case_details is not None
        and win.state.dirty
    )
    assert win.state.current_details()["examiner"] == "Łukasz Żółć"
    path = str(tmp_path / "details.pwcase")
    assert win.save_case_to(path)
    assert win.dialogs == [] and not win.state.dirty
    saved, _, verification = open_case(path)
    assert verification.ok, verification.problems
    assert (saved.case_id, saved.examiner, saved.agency) == (
        DETAILS["case_id"],
        "Łukasz Żółć",
        "Экспертный отдел Ελλάς",
    )
    assert (saved.hp, saved.hd, saved.notes) == (DETAILS["hp"], DETAILS["hd"], DETAILS["notes"])
    edits = [entry for entry in saved.audit_log if entry.action == "case details edited"]
    assert len(edits) == 1 and "examiner" in edits[0].detail and "hp" in edits[0].detail
    assert saved.audit_chain_problems() == []
    # Opened in the window, the case shows the details; an unchanged edit changes nothing.
    assert win.open_case(path)
    qtbot.waitUntil(lambda: win.state.comparison is not None, timeout=WAIT_MS)
    assert win.state.current_details() == DETAILS and not win.state.dirty
    win.ask_case_details = lambda current: dict(current)
    assert not win.edit_case_details() and not win.state.dirty
    # The exported report prints them (its DejaVu font covers Latin, Greek and Cyrillic).
    out = tmp_path / "details.pdf"
    assert win.export_report(str(out))
    qtbot.waitUntil(lambda: not win.runner.is_busy("report"), timeout=WAIT_MS)
    assert win.dialogs == []
    text = " ".join(_pages_text(out))
    for value in DETAILS.values():
        assert " ".join(value.split()) in text


def test_a_bad_case_id_is_refused_and_a_cancelled_dialog_changes_nothing(win):
    win.ask_case_details = lambda current: {**current, "case_id": "a/b"}
    win.case_actions["details"].trigger()  # Edit → Case details…
    assert win.dialogs and win.dialogs[0][1] == "Case details not changed"
    assert win.state.case_details is None
    win.ask_case_details = lambda current: None
    assert not win.edit_case_details() and win.state.case_details is None


def test_the_dialog_reads_back_what_was_typed(qtbot):
    dialog = CaseDetailsDialog(dict(DETAILS))
    qtbot.addWidget(dialog)
    dialog.editors["examiner"].setText("Zoë Ångström")
    assert dialog.details() == {**DETAILS, "examiner": "Zoë Ångström"}


@pytest.mark.slow
def test_sdd_is_disabled_until_a_gallery_is_chosen_then_draws_a_map(
    qtbot, win, genuine_small, faces_dir, tmp_path
):
    load_pair(qtbot, win, *genuine_small)
    button = win.maps.buttons[SDD]
    assert not button.isEnabled() and "background gallery" in button.toolTip()
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for name in ("biden", "kit_harington", "rose_leslie"):
        for photo in (faces_dir / "identities" / name).glob("*.jpg"):
            (gallery / photo.name).symlink_to(photo)
    win.ask_gallery_folder = lambda: ""
    assert not win.choose_gallery() and win.state.gallery is None
    win.load_gallery(str(gallery))  # cancelled at once: its result is discarded
    assert win.maps.cancel.isVisible()
    win.maps.cancel.click()
    qtbot.waitUntil(lambda: not win.runner.is_busy("gallery"), timeout=WAIT_MS)
    assert win.state.gallery is None and not button.isEnabled()
    assert not win.maps.progress.isVisible()
    progress = []
    win.maps.progress.valueChanged.connect(progress.append)
    win.ask_gallery_folder = lambda: str(gallery)
    with qtbot.waitSignal(win.gallery_ready, timeout=WAIT_MS):
        assert win.choose_gallery()
    assert win.dialogs == [] and progress
    loaded = win.state.gallery
    assert loaded is not None and len(loaded.names) >= 5 and win.state.gallery_model == MODEL
    assert "gallery" in win.maps.gallery_label.text()
    assert f"{len(loaded.names)} faces" in win.maps.gallery_label.text()
    assert button.isEnabled()
    with qtbot.waitSignal(win.explained, timeout=WAIT_MS):
        win.maps.choose(SDD)
    result = win.session.cached_map(SDD)
    assert result["method"] == "sdd" and result["settings"].k == 5
    assert result["settings"].gallery is loaded
    assert result["map_a"].shape == (112, 112) and result["map_a"].max() == pytest.approx(1.0)
    assert win.panes["q"].overlay.image is not None  # the map lies over the aligned face
    assert "SDD" in win.maps.info.text()
    # The SDD map is shown, not recorded: the case cannot reproduce the gallery.
    assert win.save_case_to(str(tmp_path / "sdd.pwcase"))
    assert win.state.case.results["explainers"] == []
    # Embeddings are per model: another model embeds the gallery again before SDD runs.
    with qtbot.waitSignal(win.gallery_ready, timeout=WAIT_MS):
        win.model_box.setCurrentText("faceres")
        assert not button.isEnabled() or win.state.gallery_model == "faceres"
    assert win.state.gallery_model == "faceres" and win.state.gallery is not loaded
    qtbot.waitUntil(lambda: win.state.comparison is not None, timeout=WAIT_MS)
    assert button.isEnabled()


def test_a_gallery_without_faces_gives_an_error_and_sdd_stays_disabled(qtbot, win, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    win.ask_gallery_folder = lambda: str(empty)
    win.case_actions["gallery"].trigger()  # Edit → Choose background gallery…
    assert win.runner.is_busy("gallery") or win.state.error
    qtbot.waitUntil(lambda: not win.runner.is_busy("gallery"), timeout=WAIT_MS)
    assert win.state.gallery is None and "holds no photos" in (win.state.error or "")
    assert not win.maps.buttons[SDD].isEnabled()


def test_the_view_model_keeps_details_without_qt():
    from core.errors import UsageError
    from core.workbench.state import WorkbenchState

    state = WorkbenchState(MODEL)
    events = []
    state.subscribe("case", lambda: events.append("case"))
    assert state.current_details()["hd"] == DEFAULT_HD and state.current_details()["case_id"] == ""
    assert not state.set_case_details(state.current_details())  # nothing changed
    assert state.set_case_details({**DETAILS, "examiner": "  Łukasz Żółć  "})
    assert state.case_details.as_dict() == DETAILS and state.dirty and events == ["case"]
    with pytest.raises(UsageError):
        state.set_case_details({**DETAILS, "case_id": "x/y"})
    assert state.case_details.as_dict() == DETAILS
    state.new_case()
    assert state.case_details is None and not state.dirty
