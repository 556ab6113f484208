"""The fused model's member table and per-member grids in the workbench (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_pair  # noqa: E402

from gui.pair_grid import FUSED_VIEW


@pytest.mark.slow
def test_the_member_table_sums_to_the_fused_score_and_each_member_has_its_own_grid(
    qtbot, make_window, engine, genuine_small
):
    window = make_window(ask_before_discard=False, model_id="fused")
    load_pair(qtbot, window, *genuine_small)
    comparison = window.state.comparison
    score = comparison.decomposition.cosine
    panel = window.grid.members
    assert panel.isVisible() and window.grid.member_row.isVisible()
    assert "DEMO" in panel.title.text() and "DEMO fit" in panel.title.toolTip()
    assert window.state.error is None  # the explainers say why they refuse fused, no crash
    assert not window.maps.buttons["Grad-CAM++"].isEnabled()
    assert "member models" in window.maps.buttons["X-Map I"].toolTip()
    table = panel.table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert names == ["dlib-resnet", "faceres", "mobileface", "intercept b", "sum"]
    values = [float(table.item(r, 3).text()) for r in range(table.rowCount())]
    for r in range(3):  # each contribution is its weight times its cosine, as shown
        weight, cosine = float(table.item(r, 2).text()), float(table.item(r, 1).text())
        assert values[r] == pytest.approx(weight * cosine, abs=1e-5)
        own = engine.compare(*genuine_small, names[r]).cosine  # the member alone
        assert cosine == pytest.approx(own, abs=1e-6)
    assert sum(values[:4]) == pytest.approx(values[4], abs=1e-5)
    assert values[4] == pytest.approx(score, abs=1e-5)  # the shown sum is the fused score
    assert f"fused score {score:+.6f}" in panel.sum_label.text()
    assert window.grid.image.image.shape == (69, 69)
    # the status bar names the model briefly; the fused terms are in its tooltip
    assert window.model_label.text().startswith("model: fused sha256 ")
    assert len(window.model_label.text()) < 40
    assert f"{float(table.item(0, 2).text()):+.2f}×" in window.model_label.toolTip()

    window.grid.member_box.setCurrentText("mobileface")  # its own 4x4 grid, unscaled
    own = engine.compare(*genuine_small, "mobileface").decomposition
    np.testing.assert_allclose(window.grid.image.image, own.pair_matrix, atol=1e-9)
    assert "cos[mobileface]" in window.grid.layout_label.text()
    assert window.grid.shown_decomposition().total == pytest.approx(own.cosine, abs=1e-9)
    start = [p for p in comparison.decomposition.parts if p["model"] == "mobileface"][0]
    window.grid.top_list.itemClicked.emit(window.grid.top_list.item(1))
    top = own.top_pairs(1)[0][0]
    offset = start["cells"][0]  # a member cell selects that pair of the fused grid
    assert (window.state.selection.i, window.state.selection.j) == (
        top["i"] + offset,
        top["j"] + offset,
    )
    assert window.grid.cursor.isVisible()
    assert window.grid.hover_label.text().startswith(f"Selected: Q cell i={top['i']},")
    assert "mobileface's own cells, share of its cosine" in window.grid.hover_label.text()
    window.grid.member_box.setCurrentText(FUSED_VIEW)  # the same pair, in fused numbers
    assert window.grid.image.image.shape == (69, 69) and window.grid.cursor.isVisible()
    assert window.grid.hover_label.text().startswith(f"Selected: Q cell i={top['i'] + offset},")
