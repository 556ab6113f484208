"""The batch page: an identity tree evaluated in a worker, curves, sorted pairs, open one."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import GUI_WAIT_MS as WAIT_MS

SUBSET = {
    "obama": ("obama_6_small.jpg", "obama_5_240p.jpg"),
    "biden": ("biden_1.jpg", "biden_2.jpg"),
}


def test_the_batch_page_evaluates_a_tree_and_opens_a_pair(qtbot, make_window, faces_dir, tmp_path):
    for person, names in SUBSET.items():
        (tmp_path / person).mkdir()
        for name in names:
            (tmp_path / person / name).symlink_to(faces_dir / "identities" / person / name)
    win = make_window()
    win.set_calibration("demo")
    page = win.open_batch_page()
    with qtbot.waitSignal(win.runner.stopped, timeout=WAIT_MS):
        page.run(str(tmp_path))
    assert page.result is not None and win.dialogs == []
    scores = [pair["cosine"] for pair in page.pairs]
    assert len(scores) == 6 and scores == sorted(scores, reverse=True)  # 2 genuine, 4 impostor
    assert page.table.rowCount() == 6 and page.table.item(0, 0).text() == f"{scores[0]:+.4f}"
    assert sum(pair["same"] for pair in page.pairs) == 2
    assert page.tippett_plot is not None  # the DEMO calibration gives LRs
    assert "auc" in page.summary.text().lower()
    genuine = np.mean([p["cosine"] for p in page.pairs if p["same"]])
    impostor = np.mean([p["cosine"] for p in page.pairs if not p["same"]])
    assert genuine > impostor
    with qtbot.waitSignal(win.ready, timeout=WAIT_MS):
        page.open_pair(0)
    assert win.state.paths["q"] == page.pairs[0]["image_a"]
    assert win.state.comparison.cosine == pytest.approx(scores[0], abs=1e-6)
