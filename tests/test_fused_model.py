"""`fused`: sum_m w_m cos_m + b, decomposed exactly into the members' scaled pair terms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.decomposition import decompose
from core.models.face_model import CellFeatures, grid_layout
from core.models.fused import fuse, fused_layout, fusion_table, member_decomposition
from core.models.registry import load_model


def _random_decomposition(rng, k: int, d: int, with_bias: bool):
    bias = rng.normal(size=d) if with_bias else None
    a = CellFeatures(rng.normal(size=(k, d)), bias)
    b = CellFeatures(rng.normal(size=(k, d)), bias)
    return decompose(a, b, grid_layout(int(np.sqrt(k)), 112))


def test_fuse_is_the_weighted_sum_and_its_terms_add_up_to_it():
    rng = np.random.default_rng(0)
    parts = [_random_decomposition(rng, 49, 32, False), _random_decomposition(rng, 16, 8, True)]
    weights, intercept = [2.5, -1.25], 0.75
    layout = fused_layout(
        [
            type("M", (), {"input_size": 224, "layout": grid_layout(7, 224)}),
            type("M", (), {"input_size": 112, "layout": grid_layout(4, 112)}),
        ]
    )
    fused = fuse(parts, weights, intercept, layout, ["a", "b"])
    expected = 2.5 * parts[0].cosine - 1.25 * parts[1].cosine + 0.75
    assert fused.cosine == pytest.approx(expected, abs=1e-12)
    assert fused.residual < 1e-5
    assert fused.pair_matrix.shape == (65, 65)
    assert not fused.pair_matrix[:49, 49:].any() and not fused.pair_matrix[49:, :49].any()
    np.testing.assert_allclose(fused.pair_matrix[49:, 49:], -1.25 * parts[1].pair_matrix)
    assert [p["model"] for p in fused.parts] == ["a", "b", "intercept"]
    assert layout.count == 65 and layout.boxes[-1] == (168.0, 168.0, 224.0, 224.0)

    table = fusion_table(fused.parts, fused.cosine)  # what the GUI panel and the report show
    assert [(m.model, m.weight) for m in table.members] == [("a", 2.5), ("b", -1.25)]
    assert table.members[1].contribution == pytest.approx(-1.25 * parts[1].cosine, abs=1e-15)
    assert table.intercept == 0.75 and table.difference < 1e-12
    for member, own in zip(("a", "b"), parts, strict=True):
        view = member_decomposition(fused, member)  # the member's own terms, unscaled
        np.testing.assert_allclose(view.pair_matrix, own.pair_matrix, rtol=1e-12, atol=1e-15)
        assert view.cosine == own.cosine and abs(view.total - own.cosine) < 1e-12
    assert member_decomposition(fused, "b").layout.boxes == layout.boxes[49:]


@pytest.mark.slow
def test_fused_score_on_real_photos_sums_exactly(engine, faces_dir):
    model = load_model("fused", torch.device("cpu"))
    assert "DEMO" in model.label
    obama = faces_dir / "identities" / "obama"
    for other in (obama / "obama_2.jpg", faces_dir / "identities" / "biden" / "biden_1.jpg"):
        comparison = engine.compare(obama / "obama_1.jpg", other, "fused")
        d = comparison.decomposition
        members = [engine.compare(obama / "obama_1.jpg", other, m).cosine for m in model.member_ids]
        expected = sum(w * c for w, c in zip(model.weights, members, strict=True))
        assert d.cosine == pytest.approx(expected + model.intercept, abs=1e-9)
        assert d.residual < 1e-5
        assert comparison.forward_residual < 1e-5  # members' own forward passes, fused
        assert [p["cosine"] for p in d.parts[:-1]] == pytest.approx(members, abs=1e-12)
    genuine = engine.compare(obama / "obama_1.jpg", obama / "obama_2.jpg", "fused").cosine
    assert genuine > comparison.cosine  # Obama vs Obama outscores Obama vs Biden


@pytest.mark.slow
def test_the_report_prints_the_member_table_from_the_stored_case(engine, genuine_small):
    from reportlab.platypus import Table

    from core.case.case_model import Case
    from core.report.sections import ReportContext, fused_members_section

    comparison = engine.compare(*genuine_small, "fused")
    case = Case.from_comparison(comparison, case_id="FUSED-1")
    flow = fused_members_section(ReportContext(case, comparison, None, None, "now"))
    (table,) = [f for f in flow if isinstance(f, Table)]
    cells = [[c.getPlainText() for c in row] for row in table._cellvalues]
    assert [row[0] for row in cells[1:]] == [
        "dlib-resnet",
        "faceres",
        "mobileface",
        "intercept b",
        "sum",
    ]
    contributions = [float(row[3]) for row in cells[1:]]
    assert sum(contributions[:4]) == pytest.approx(contributions[4], abs=1e-5)
    assert contributions[4] == pytest.approx(case.score, abs=1e-5)
    caption = flow[-1].getPlainText()
    assert "DEMO" in caption and "log-odds" in caption
    single = engine.compare(*genuine_small, "mobileface")
    assert (
        fused_members_section(
            ReportContext(Case.from_comparison(single), single, None, None, "now")
        )
        == []
    )
