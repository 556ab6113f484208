"""LR calibration with lir: analytic LRs, Cllr properties, ELUB bounds, small data."""

import numpy as np
import pytest

from core.errors import CalibrationError
from core.strength_of_evidence.lr_calibration import (
    CALIBRATOR_KINDS,
    cross_validated_llrs,
    elub_bounds,
    fit_calibrator,
    log10_lrs,
    lr_metrics,
)

MU_GENUINE, MU_IMPOSTOR, SIGMA = 0.7, 0.3, 0.1


def _gaussian_scores(n_genuine=2000, n_impostor=4000, seed=0):
    rng = np.random.default_rng(seed)
    scores = np.r_[
        rng.normal(MU_GENUINE, SIGMA, n_genuine), rng.normal(MU_IMPOSTOR, SIGMA, n_impostor)
    ]
    same = np.r_[np.ones(n_genuine, bool), np.zeros(n_impostor, bool)]
    return scores, same


def _analytic_log10_lr(x):
    """log10 of N(x; mu_g, s) / N(x; mu_i, s): linear in x for equal variances."""
    x = np.asarray(x)
    return np.log10(np.e) * ((x - MU_IMPOSTOR) ** 2 - (x - MU_GENUINE) ** 2) / (2 * SIGMA**2)


@pytest.mark.parametrize(
    ("kind", "tolerance"), [("logistic", 0.15), ("kde", 0.35), ("isotonic", 0.6)]
)
def test_calibrated_lrs_match_the_analytic_lr(kind, tolerance):
    scores, same = _gaussian_scores()
    calibrator = fit_calibrator(scores, same, kind)
    x = np.linspace(0.4, 0.6, 9)  # where both classes have data
    assert np.max(np.abs(log10_lrs(calibrator, x) - _analytic_log10_lr(x))) < tolerance


@pytest.mark.parametrize("kind", CALIBRATOR_KINDS)
def test_cllr_of_a_good_score_is_below_one_and_cllr_min_not_above_cllr(kind):
    scores, same = _gaussian_scores(300, 900, seed=1)
    metrics = lr_metrics(cross_validated_llrs(scores, same, kind, folds=5, seed=0), same)
    assert metrics["cllr"] < 0.5
    assert metrics["cllr_min"] <= metrics["cllr"] + 1e-12
    assert metrics["cllr_cal"] == pytest.approx(metrics["cllr"] - metrics["cllr_min"])


def test_a_useless_score_gives_cllr_near_one():
    rng = np.random.default_rng(2)
    scores = rng.random(2000)
    same = rng.random(2000) < 0.3
    metrics = lr_metrics(cross_validated_llrs(scores, same, "logistic", 5, 0), same)
    assert metrics["cllr"] == pytest.approx(1.0, abs=0.03)


def test_elub_bounds_hold_and_shrink_with_little_data():
    scores, same = _gaussian_scores(20, 60, seed=3)
    llrs = cross_validated_llrs(scores, same, "logistic", 4, 0)
    before = llrs.copy()
    lower, upper = elub_bounds(llrs, same)
    assert np.array_equal(llrs, before)  # lir's elub edits its input; we pass it a copy
    assert lower <= 0 <= upper
    # ELUB never exceeds what the counts support: |log10 LR| <= log10(n + 1) per side.
    assert lower >= -np.log10(same.sum() + 1) - 0.01
    assert upper <= np.log10((~same).sum() + 1) + 0.01
    bounded = np.clip(llrs, lower, upper)
    assert bounded.min() >= lower and bounded.max() <= upper


def test_too_few_pairs_for_the_folds_is_a_clear_error():
    scores, same = _gaussian_scores(3, 50)
    with pytest.raises(CalibrationError, match="3 genuine and 50 impostor.*at least 5"):
        cross_validated_llrs(scores, same, "logistic", folds=5, seed=0)


def test_unknown_calibrator_is_a_clear_error():
    scores, same = _gaussian_scores(10, 10)
    with pytest.raises(CalibrationError, match="unknown calibrator"):
        fit_calibrator(scores, same, "svm")
