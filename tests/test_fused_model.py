"""`fused`: sum_m w_m cos_m + b, decomposed exactly into the members' scaled pair terms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.decomposition import decompose
from core.models.face_model import CellFeatures, grid_layout
from core.models.fused import fuse, fused_layout
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
