"""The ENFSI verbal scale: every boundary, the mirror for Hd, and the versioned file."""

import json
import math

import pytest

from core.errors import UsageError
from core.strength_of_evidence.verbal_scale import load_verbal_scale, verbal_category

EXPECTED = [
    (1.0001, "weak or limited"),
    (9.99, "weak or limited"),
    (10, "moderate"),
    (99.9, "moderate"),
    (100, "moderately strong"),
    (1000, "strong"),
    (9999, "strong"),
    (10_000, "very strong"),
    (999_999, "very strong"),
    (1_000_000, "extremely strong"),
    (1e9, "extremely strong"),
]


@pytest.mark.parametrize(("lr", "category"), EXPECTED)
def test_each_boundary_maps_to_its_band_for_hp_and_mirrored_for_hd(lr, category):
    scale = load_verbal_scale()
    for_hp = verbal_category(math.log10(lr), scale)
    for_hd = verbal_category(-math.log10(lr), scale)
    assert (for_hp.category, for_hp.supports) == (category, "hp")
    assert (for_hd.category, for_hd.supports) == (category, "hd")
    assert f"{category} support" in for_hp.statement
    assert for_hp.statement.index(scale.hp) < for_hp.statement.index(scale.hd)
    assert for_hd.statement.index(scale.hd) < for_hd.statement.index(scale.hp)


def test_lr_of_one_is_neutral_and_the_version_is_recorded():
    scale = load_verbal_scale()
    neutral = verbal_category(0.0, scale)
    assert neutral.category == "neutral" and neutral.supports == "neither"
    assert neutral.scale_version == scale.version == "enfsi-2015/patchwise-1"


def test_a_lab_scale_replaces_the_default(tmp_path):
    data = json.loads(open(load_verbal_scale().path).read())
    data["version"] = "lab-7"
    data["bands"] = [
        {"lower": 1, "upper": 100, "category": "limited"},
        {"lower": 100, "upper": None, "category": "strong"},
    ]
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(data))
    result = verbal_category(2.5, load_verbal_scale(path))
    assert (result.category, result.scale_version) == ("strong", "lab-7")


def test_a_broken_scale_is_a_clear_error(tmp_path):
    data = json.loads(open(load_verbal_scale().path).read())
    data["bands"][1]["lower"] = 20  # gap between 10 and 20
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="contiguous"):
        load_verbal_scale(path)
