"""C-Score (Knoche et al. §3.1, Eq. 2-3): sigmoid recovery, range and monotonicity."""

import numpy as np
import pytest

from core.errors import CalibrationError
from core.strength_of_evidence.cscore import fit_cscore, fit_sigmoid, sigmoid

TRUE = {"L": 0.9, "k": -25.0, "d0": 0.8, "b": 0.05}


def _synthetic(n: int, seed: int):
    """Distances uniform on [0, 2]; each pair genuine with probability c_true(d)."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.0, 2.0, n)
    same = rng.random(n) < sigmoid(d, **TRUE)
    return d, same


def test_fit_recovers_known_sigmoid_parameters():
    d, same = _synthetic(400_000, seed=1)
    fitted = fit_sigmoid(d, same)
    assert fitted["L"] == pytest.approx(TRUE["L"], abs=0.03)
    assert fitted["k"] == pytest.approx(TRUE["k"], rel=0.1)
    assert fitted["d0"] == pytest.approx(TRUE["d0"], abs=0.02)
    assert fitted["b"] == pytest.approx(TRUE["b"], abs=0.02)


def test_parameters_are_reported_with_non_negative_L():
    d, same = _synthetic(50_000, seed=2)
    # The mirrored form (-L, -k, b + L) is the same curve; the fit must report L >= 0.
    assert fit_sigmoid(d, same)["L"] >= 0


def test_cscore_lies_in_half_to_one_and_is_monotone_on_each_side_of_t():
    rng = np.random.default_rng(3)
    genuine = rng.normal(0.3, 0.1, 600)
    impostor = rng.normal(0.8, 0.12, 3000)
    d = np.concatenate([genuine, impostor])
    same = np.r_[np.ones(600, bool), np.zeros(3000, bool)]
    t = 0.55
    model = fit_cscore(d, same, threshold_distance=t, folds=5, seed=0)
    assert len(model.folds) == 5
    grid = np.linspace(-0.2, 1.4, 321)
    values = np.array([model.evaluate(x)["c_score"] for x in grid])
    assert values.min() >= 0.5 and values.max() <= 1.0
    left, right = values[grid <= t], values[grid > t]
    assert np.all(np.diff(left) <= 1e-12)  # confidence falls towards t from the genuine side
    assert np.all(np.diff(right) >= -1e-12)  # and rises again past it
    assert values[0] > 0.95 and values[-1] > 0.95
    far = model.evaluate(0.0)
    assert far["fold_min"] <= far["c_score"] <= far["fold_max"] + 1e-12


def test_fold_spread_is_reported_and_round_trips():
    d, same = _synthetic(5_000, seed=4)
    model = fit_cscore(d, same, threshold_distance=0.8, folds=4, seed=7)
    result = model.evaluate(0.78)
    assert result["folds"] == 4
    # Four folds fitted on different data disagree a little, never by more than their range.
    assert 0 < result["fold_std"] <= result["fold_max"] - result["fold_min"]
    again = type(model).from_json(model.to_json())
    assert again.evaluate(0.78) == result


def test_one_class_only_is_a_clear_error():
    with pytest.raises(CalibrationError, match="both genuine and impostor"):
        fit_sigmoid(np.linspace(0, 1, 50), np.ones(50, bool))
