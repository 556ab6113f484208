"""The decomposition is exact on synthetic cases with known answers."""

import numpy as np
import pytest

from core.decomposition import cosine, decompose
from core.models.face_model import CellFeatures, grid_layout
from core.models.rrf_layouts import RRF28_POSITIONS, RRF56_POSITIONS, rrf_layout


@pytest.mark.parametrize("with_bias", [False, True])
def test_terms_sum_to_cosine(with_bias):
    rng = np.random.default_rng(1)
    bias = rng.normal(size=64) if with_bias else None
    a = CellFeatures(rng.normal(size=(16, 64)), bias)
    b = CellFeatures(rng.normal(size=(16, 64)), bias)
    dec = decompose(a, b, grid_layout(4, 112))
    direct = cosine(
        a.cells.sum(0) + (bias if with_bias else 0), b.cells.sum(0) + (bias if with_bias else 0)
    )
    assert dec.cosine == pytest.approx(direct, abs=1e-12)
    assert dec.residual <= 1e-5
    assert dec.pair_matrix.shape == (16, 16)
    if not with_bias:
        assert not dec.bias_a.any() and dec.bias_bias == 0.0


def test_identical_faces_score_one_and_marginals_add_up():
    rng = np.random.default_rng(2)
    a = CellFeatures(rng.normal(size=(49, 32)), None)
    dec = decompose(a, a, grid_layout(7, 224))
    assert dec.cosine == pytest.approx(1.0, abs=1e-12)
    assert dec.row_marginals().sum() == pytest.approx(dec.total, abs=1e-12)
    assert dec.column_marginals().sum() == pytest.approx(dec.total, abs=1e-12)


def test_orthogonal_cells_give_a_diagonal_free_matrix():
    # A uses only the first coordinates, B only the last: every term is zero.
    a = CellFeatures(np.eye(4, 8), None)
    b = CellFeatures(np.eye(4, 8, k=4), None)
    dec = decompose(a, b, grid_layout(2, 112))
    assert dec.cosine == 0.0 and not dec.pair_matrix.any()


def test_top_pairs_are_ordered():
    rng = np.random.default_rng(3)
    dec = decompose(
        CellFeatures(rng.normal(size=(5, 8)), None),
        CellFeatures(rng.normal(size=(5, 8)), None),
        grid_layout(1, 112),
    )
    positive, negative = dec.top_pairs(3)
    terms = [p["term"] for p in positive]
    assert terms == sorted(terms, reverse=True)
    assert terms[0] == pytest.approx(dec.pair_matrix.max())
    assert negative[0]["term"] == pytest.approx(dec.pair_matrix.min())
    assert all(p["term"] > 0 for p in positive) and all(p["term"] < 0 for p in negative)


def test_top_pairs_skip_missing_signs():
    dec = decompose(
        CellFeatures(np.ones((3, 4)), None),
        CellFeatures(np.ones((3, 4)), None),
        grid_layout(1, 112),
    )
    positive, negative = dec.top_pairs(5)
    assert len(positive) == 5 and negative == []


def test_rrf_layouts_match_the_paper():
    assert len(RRF56_POSITIONS) == 5 and len(RRF28_POSITIONS) == 33
    assert (28, 28) in RRF56_POSITIONS
    # Corners left out: no 28 px patch touches a 2x2 corner block of the stride-14 grid.
    assert (0, 0) not in RRF28_POSITIONS and (84, 84) not in RRF28_POSITIONS
    assert (14, 14) not in RRF28_POSITIONS and (42, 42) in RRF28_POSITIONS
    layout = rrf_layout("rrf56", 224, "x")
    assert layout.boxes[0] == (0.0, 56.0, 112.0, 168.0)  # (0,28) scaled x2, size 112
