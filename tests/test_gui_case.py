"""The workbench's case workflow (pytest-qt, offscreen): save, open, export, unsaved work.

Dialogs are replaced through the window's ask_* / show_* methods; the 112-px
mobileface model keeps it fast.
"""

from __future__ import annotations

import zipfile

import pytest
from conftest import GUI_MODEL as MODEL  # noqa: E402
from conftest import GUI_WAIT_MS as WAIT_MS  # noqa: E402
from conftest import load_pair  # noqa: E402

from core.case import open_case  # noqa: E402
from gui import main_window  # noqa: E402
from gui.explainer_panel import MARGINALS  # noqa: E402
from gui.explainer_panel import NONE as NO_MAP  # noqa: E402
from gui.main_window import CANCEL, DISCARD  # noqa: E402
from gui.photo_pane import DROP_HINT  # noqa: E402


def test_save_then_open_in_a_fresh_window_reproduces_the_comparison(
    qtbot, make_window, genuine_small, tmp_path
):
    win = make_window()
    load_pair(qtbot, win, *genuine_small)
    assert win.state.dirty
    path = str(tmp_path / "pair")
    win.ask_save_path = lambda title, file_filter, suggested: path
    assert win.save_case_as()
    saved = tmp_path / "pair.pwcase"
    assert saved.is_file() and not win.state.dirty and win.state.case_path == str(saved)
    case, files, verification = open_case(saved)
    assert verification.ok, verification.problems
    assert abs(case.score - win.state.comparison.cosine) < 1e-9
    assert case.settings["model_id"] == MODEL
    assert [e.action for e in case.audit_log][-1] == "case saved"

    fresh = make_window()
    fresh.model_box.setCurrentText("faceres")  # the case's model must win
    with qtbot.waitSignal(fresh.ready, timeout=WAIT_MS):
        assert fresh.open_case(str(saved))
    comparison = fresh.state.comparison
    assert comparison is not None and fresh.dialogs == []
    assert comparison.model["id"] == MODEL == fresh.model_box.currentText()
    assert abs(comparison.cosine - case.score) < 1e-6
    assert comparison.a.prepared.evidence.sha256 == case.input("A").sha256
    assert fresh.state.paths["q"] == case.input("A").name
    assert not fresh.state.dirty
    qtbot.wait(1200)  # the integrity summary stays until dismissed, whatever the status bar says
    assert fresh.case_banner.isVisibleTo(fresh) and "integrity" in fresh.case_banner.label.text()
    # Saving the unchanged case again keeps its id and appends to its audit log.
    assert fresh.save_case()
    again, _, verification = open_case(saved)
    assert verification.ok and again.case_id == case.case_id
    assert len(again.audit_log) == len(case.audit_log) + 1


def test_an_altered_case_opens_with_a_warning_listing_the_problems(
    qtbot, make_window, genuine_small, tmp_path
):
    win = make_window()
    load_pair(qtbot, win, *genuine_small)
    saved = tmp_path / "good.pwcase"
    assert win.save_case_to(str(saved))
    altered = tmp_path / "altered.pwcase"
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(altered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("originals/A/"):
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            dst.writestr(item, data)
    fresh = make_window()
    with qtbot.waitSignal(fresh.ready, timeout=WAIT_MS):
        assert fresh.open_case(str(altered))
    kinds = [d[0] for d in fresh.dialogs]
    assert kinds == ["warning"]
    assert "ALTERED" in fresh.dialogs[0][2] and "image A" in fresh.dialogs[0][2]


def test_a_file_that_is_not_a_case_gives_an_error_dialog_and_the_window_stays_usable(
    qtbot, make_window, genuine_small, tmp_path
):
    win = make_window()
    bogus = tmp_path / "bogus.pwcase"
    bogus.write_bytes(b"not a zip")
    assert not win.open_case(str(bogus))
    assert win.dialogs[0][:2] == ("error", "Cannot open the case")
    assert "not a Patchwise case file" in win.dialogs[0][2]
    load_pair(qtbot, win, *genuine_small)


def test_export_report_writes_a_pdf_in_a_worker_with_progress(
    qtbot, make_window, genuine_small, tmp_path
):
    win = make_window()
    load_pair(qtbot, win, *genuine_small)
    win.set_calibration("demo")
    with qtbot.waitSignal(win.fidelity_measured, timeout=WAIT_MS):
        win.maps.choose("Grad-CAM")  # computed in the session: the report carries it
    out = tmp_path / "report.pdf"
    progress = []
    win.report_bar.valueChanged.connect(progress.append)
    assert win.export_report(str(out))
    assert win.report_bar.isVisible() and win.runner.is_busy("report")
    qtbot.waitUntil(lambda: not win.runner.is_busy("report"), timeout=WAIT_MS)
    assert win.dialogs == []
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 1000
    assert progress and max(progress) == 100 and not win.report_bar.isVisible()
    case = win.state.case
    assert [e.action for e in case.audit_log][-2:] == ["explainer run", "report exported"]
    assert [e["method"] for e in case.results["explainers"]] == ["gradcam"]
    _, explanations = win.session.current_case()  # recorded once, with the session's maps
    assert len(explanations) == 1 and explanations[0].map_a.shape == (112, 112)
    assert case.settings["calibration"]["demo"] and case.results["evidence"] is not None
    assert win.state.dirty  # the new audit entries are not saved yet
    # The saved case carries the calibration file and the explainer record.
    assert win.save_case_to(str(tmp_path / "with-maps.pwcase"))
    saved, files, verification = open_case(tmp_path / "with-maps.pwcase")
    assert verification.ok, verification.problems
    assert "calibration" in files and len(saved.results["explainers"]) == 1


def test_a_report_that_cannot_be_written_gives_a_readable_error(
    qtbot, make_window, genuine_small, tmp_path
):
    win = make_window()
    load_pair(qtbot, win, *genuine_small)
    (tmp_path / "a-file").write_bytes(b"")  # the report's folder cannot be created
    assert win.export_report(str(tmp_path / "a-file" / "report.pdf"))
    qtbot.waitUntil(lambda: not win.runner.is_busy("report"), timeout=WAIT_MS)
    kind, title, text = win.dialogs[0]
    assert (kind, title) == ("error", "Cannot export the report")
    assert "cannot write the report" in text and not win.report_bar.isVisible()


def test_nothing_to_save_without_a_comparison(make_window, tmp_path):
    win = make_window()
    assert not win.save_case_to(str(tmp_path / "x.pwcase"))
    assert win.dialogs[0][1] == "Nothing to record"
    assert not (tmp_path / "x.pwcase").exists()


def test_unsaved_work_asks_before_new_case_and_cancel_keeps_it(
    qtbot, make_window, genuine_small, tmp_path
):
    win = make_window()
    assert not win.state.dirty
    load_pair(qtbot, win, *genuine_small)
    assert win.state.dirty
    comparison = win.state.comparison

    win.ask_discard = lambda: win.dialogs.append(("ask", "", "")) or CANCEL
    assert not win.new_case()
    assert win.state.comparison is comparison and win.state.dirty
    assert not win.open_case_dialog()
    assert win.state.comparison is comparison
    assert not win.close() and win.isVisible()
    assert [d[0] for d in win.dialogs] == ["ask", "ask", "ask"]

    win.ask_discard = lambda: main_window.SAVE
    win.ask_save_path = lambda title, file_filter, suggested: str(tmp_path / suggested)
    assert win.new_case()  # saved first, then emptied
    assert list(tmp_path.glob("*.pwcase"))
    assert win.state.comparison is None and win.state.case is None and not win.state.dirty

    load_pair(qtbot, win, *genuine_small)
    win.maps.choose(MARGINALS)
    win.ask_discard = lambda: DISCARD
    assert win.new_case()
    assert win.state.comparison is None and win.state.paths == {"q": None, "k": None}
    # Every view is reset: captions, the map toggle and its text, the status bar.
    assert all(pane.info.text() == DROP_HINT for pane in win.panes.values())
    assert win.maps.current == NO_MAP and win.statusBar().currentMessage() == ""


def test_the_view_model_tracks_unsaved_work_and_a_restored_case_is_clean():
    """Qt-free: changes set `dirty`; saving clears it; restoring a case does not set it."""
    from types import SimpleNamespace

    import numpy as np

    from core.decomposition import decompose
    from core.models.face_model import CellFeatures, grid_layout
    from core.workbench.state import WorkbenchState

    rng = np.random.default_rng(0)
    cells = [CellFeatures(cells=rng.normal(size=(4, 6)), bias=None) for _ in range(2)]
    comparison = SimpleNamespace(decomposition=decompose(*cells, grid_layout(2, 8)))
    faces = SimpleNamespace(faces=(1, 2, 3))
    events = []
    state = WorkbenchState("m")
    state.subscribe("case", lambda: events.append(state.dirty))
    assert not state.dirty
    state.set_photo("q", "q.jpg")
    assert state.dirty and events == [True]
    state.set_comparison(comparison)
    state.mark_saved("the case", "x.pwcase")
    assert not state.dirty and state.case_path == "x.pwcase"
    state.set_model("other")
    assert state.dirty

    case = SimpleNamespace(
        input=lambda role: SimpleNamespace(face_index={"A": 2, "B": 1}[role]), settings={}
    )
    state.begin_restoring(case, "y.pwcase", None, "m")
    for side in ("q", "k"):
        state.set_photo(side, f"{side}.jpg", b"bytes")
        state.set_prepared(side, faces)
    assert state.face_index == {"q": 2, "k": 1} and state.sources["q"] == b"bytes"
    state.set_comparison(comparison)
    assert not state.dirty and state.case is case
    state.choose_face("q", 0)  # a change after restoring counts
    assert state.dirty
    state.new_case()
    assert not state.dirty and state.case is None and state.paths == {"q": None, "k": None}


@pytest.mark.slow
def test_signature_status_in_the_status_bar_and_details_and_a_red_banner_when_modified(
    qtbot, make_window, genuine_small, tmp_path, monkeypatch
):
    from hostile_corpus import with_manifest, without_signature

    from gui import case_details_dialog

    win = make_window()
    load_pair(qtbot, win, *genuine_small)
    assert win.status.signature_label.text().startswith("Signature: not saved yet")
    saved = tmp_path / "signed.pwcase"
    assert win.save_case_to(str(saved))
    assert win.status.signature_label.text().startswith("Signature: signed: ")
    assert win.signature_banner.isHidden()
    shown = []

    def look(dialog):
        shown.append(dialog.signature_label.text())
        return case_details_dialog.CaseDetailsDialog.DialogCode.Rejected

    monkeypatch.setattr(case_details_dialog.CaseDetailsDialog, "exec", look)
    assert not win.edit_case_details()
    assert shown and shown[0].startswith("Signature: signed: ")

    edited = with_manifest(saved, tmp_path / "edited.pwcase", lambda m: m.update(examiner="X"))
    fresh = make_window()
    with qtbot.waitSignal(fresh.ready, timeout=WAIT_MS):
        assert fresh.open_case(str(edited))
    assert not fresh.signature_banner.isHidden()
    assert fresh.signature_banner.text().startswith("MODIFIED AFTER SIGNING")
    assert "#b71c1c" in fresh.signature_banner.styleSheet()  # red
    assert "modified after signing" in fresh.status.signature_label.text()
    assert [kind for kind, _, _ in fresh.dialogs] == ["warning"]

    unsigned = without_signature(saved, tmp_path / "unsigned.pwcase")
    third = make_window()
    with qtbot.waitSignal(third.ready, timeout=WAIT_MS):
        assert third.open_case(str(unsigned))
    assert third.signature_banner.text().startswith("This case is not signed by a trusted key")
    assert "#fff3cd" in third.signature_banner.styleSheet()  # amber, not red
    assert third.dialogs == []  # intact, only unsigned


def test_recent_files_list_the_photos_and_cases_newest_first(
    qtbot, make_window, genuine_small, tmp_path
):
    from gui.recent_files import recent

    win = make_window()
    load_pair(qtbot, win, *genuine_small)
    path = str(tmp_path / "recent.pwcase")
    assert win.save_case_to(path)
    names = [p.rsplit("/", 1)[-1] for p in recent(win.settings)]
    assert names[0] == "recent.pwcase" and set(names[1:3]) == {
        genuine_small[0].rsplit("/", 1)[-1],
        genuine_small[1].rsplit("/", 1)[-1],
    }
    with qtbot.waitSignal(win.ready, timeout=WAIT_MS):
        assert win.open_recent_case(recent(win.settings)[0])
    assert win.state.case_path == path
