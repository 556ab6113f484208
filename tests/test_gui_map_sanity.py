"""The randomisation sanity check of the map on show, from the workbench (pytest-qt).

Real photos, mobileface (112 px) and Grad-CAM (one backward pass per map) keep it fast.
"""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
from conftest import GUI_WAIT_MS as WAIT_MS  # noqa: E402
from conftest import load_pair  # noqa: E402

from core.explainers.sanity import RHO_THRESHOLD
from gui.explainer_panel import MARGINALS


@pytest.fixture
def window(make_window):
    return make_window(ask_before_discard=False)


def _grad_cam_shown(qtbot, window, pair) -> None:
    load_pair(qtbot, window, *pair)
    with qtbot.waitSignal(window.fidelity_measured, timeout=WAIT_MS):
        window.maps.choose("Grad-CAM")


@pytest.mark.slow
def test_the_sanity_check_runs_in_a_worker_shows_rho_and_verdict_and_is_recorded(
    qtbot, window, genuine_small, tmp_path
):
    load_pair(qtbot, window, *genuine_small)
    action = window.case_actions["sanity"]
    window.maps.choose(MARGINALS)  # the exact marginals need no check: nothing to run
    assert not action.isEnabled() and not window.maps.sanity_button.isEnabled()
    assert "post-hoc" in action.toolTip()
    with qtbot.waitSignal(window.fidelity_measured, timeout=WAIT_MS):
        window.maps.choose("Grad-CAM")
    assert action.isEnabled() and window.maps.sanity_button.isEnabled()

    with qtbot.waitSignal(window.sanity_checked, timeout=WAIT_MS):
        action.trigger()
        assert window.runner.is_busy("sanity")  # in a worker, with progress
        assert window.maps.progress.isVisible()
    dialog = window.sanity_dialog
    sanity = window.session.cached_map("Grad-CAM")["sanity"]
    levels = sanity["levels"]
    assert len(levels) >= 2 and levels[-1]["randomised_layers"] == levels[-1]["of_layers"]
    assert dialog.table.rowCount() == len(levels)
    for row, level in enumerate(levels):
        assert dialog.table.item(row, 1).text() == f"{level['spearman_a']:+.3f}"
        assert dialog.table.item(row, 2).text() == f"{level['spearman_b']:+.3f}"
    largest = max(abs(levels[-1]["spearman_a"]), abs(levels[-1]["spearman_b"]))
    outcome = "PASSED" if largest < RHO_THRESHOLD else "FAILED"
    text = dialog.verdict.text()
    assert text.startswith(outcome) and f"Threshold {RHO_THRESHOLD}" in text
    assert "Cohen" in text and "Adebayo" in text  # where the threshold comes from
    assert sanity["verdict"]["passed"] == (outcome == "PASSED")
    assert not window.maps.progress.isVisible()

    case, _ = window.session.current_case()  # what a save or an export records
    recorded = [r for r in case.results["explainers"] if r["method"] == "gradcam"]
    assert recorded[0]["sanity"]["levels"] == levels
    entries = [e for e in case.audit_log if e.action == "explainer sanity check"]
    assert len(entries) == 1 and f"{largest:.3f}" in entries[0].detail
    window.session.current_case()  # recorded once
    assert [e.action for e in case.audit_log].count("explainer sanity check") == 1

    out = tmp_path / "report.pdf"  # the report prints what the case records
    assert window.export_report(str(out))
    qtbot.waitUntil(lambda: not window.runner.is_busy("report"), timeout=WAIT_MS)
    pdf = pdfium.PdfDocument(str(out))
    text = " ".join(pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf)))
    pdf.close()
    text = re.sub(r"\s+", " ", text)
    assert "Randomisation check" in text and f"{outcome}: with every layer" in text
    assert f"{levels[-1]['spearman_a']:+.2f}" in text and f"Threshold {RHO_THRESHOLD}" in text


def test_cancel_stops_a_running_sanity_check_and_drops_its_result(qtbot, window, genuine_small):
    _grad_cam_shown(qtbot, window, genuine_small)
    with qtbot.waitSignal(
        window.runner.stopped, timeout=WAIT_MS, check_params_cb=lambda c: c == "sanity"
    ):
        assert window.sanity_check_current_map()
        window.maps.cancel.click()  # as a new photo, face or model does (_stop_explainers)
    qtbot.wait(50)
    assert window.sanity_dialog is None
    assert "sanity" not in window.session.cached_map("Grad-CAM")
    assert not window.maps.progress.isVisible()
