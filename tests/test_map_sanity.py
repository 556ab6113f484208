"""The sanity check's verdict on known correlations, and which workbench maps it checks."""

from __future__ import annotations

import math

import pytest

from core.explainers.sanity import RHO_THRESHOLD, sanity_verdict, verdict_text
from core.workbench.map_sanity import (
    NOT_A_MAP,
    NOT_YET,
    SDD_REASON,
    level_rows,
    unavailable_reason,
)


def _levels(rho_a: float, rho_b: float, top: int = 9, of: int = 9) -> list[dict]:
    first = {"randomised_layers": 1, "of_layers": of, "lowest_randomised": "head"}
    last = {"randomised_layers": top, "of_layers": of, "lowest_randomised": "conv1"}
    return [
        {**first, "spearman_a": 0.9, "spearman_b": 0.8, "spearman_mean": 0.85},
        {**last, "spearman_a": rho_a, "spearman_b": rho_b, "spearman_mean": (rho_a + rho_b) / 2},
    ]


@pytest.mark.parametrize(
    "rho_a,rho_b,passed,value",
    [
        (0.05, -0.12, True, 0.12),
        (0.29, 0.0, True, 0.29),
        (0.1, 0.31, False, 0.31),  # the larger face decides
        (-0.45, 0.0, False, 0.45),  # an inverted map still resembles the original
        (math.nan, 0.0, False, None),  # a constant map is not a changed map
    ],
)
def test_the_verdict_takes_the_larger_rho_at_full_randomisation(rho_a, rho_b, passed, value):
    verdict = sanity_verdict(_levels(rho_a, rho_b))
    assert verdict["passed"] is passed and verdict["threshold"] == RHO_THRESHOLD == 0.3
    if value is not None:
        assert verdict["value"] == pytest.approx(value)
    text = verdict_text(verdict)
    assert text.startswith("PASSED" if passed else "FAILED")
    assert "Threshold 0.3" in text and "Cohen" in text and "Adebayo" in text


def test_a_check_that_never_reached_a_fully_random_model_is_not_judged():
    verdict = sanity_verdict(_levels(0.0, 0.0, top=6, of=9))
    assert not verdict["passed"] and verdict_text(verdict).startswith("NOT JUDGED")


def test_rows_and_which_maps_can_be_checked():
    rows = level_rows({"levels": _levels(0.1, -0.2)})
    assert rows[1] == ("top 9 of 9 layer groups (down to conv1)", "+0.100", "-0.200", "-0.050")
    assert unavailable_reason("Decomposition marginals (exact)", None) == NOT_A_MAP
    assert unavailable_reason("SDD", {"map_a": 0}) == SDD_REASON
    assert unavailable_reason("Grad-CAM", None) == NOT_YET
    assert unavailable_reason("Grad-CAM", {"map_a": 0}) is None
