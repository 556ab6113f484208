"""Explainers on real genuine pairs from the shared photos, with mobileface (112 px, fast).

Deletion curves of CorrRISE and X-Maps must fall faster than a random map's;
the cascading-randomisation sanity check must show the maps change; the
decomposition marginals, SDD with a gallery and the photo overlays are checked.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import UsageError
from core.explainers.base import MethodUnavailableError, pair_from_comparison
from core.explainers.corrrise import CorrRiseSettings, explain_corrrise
from core.explainers.faithfulness import FidelitySettings, auc, fidelity
from core.explainers.gallery import load_gallery
from core.explainers.gradcam import GradCamSettings, explain_gradcam
from core.explainers.marginals import paint_boxes
from core.explainers.registry import explain
from core.explainers.sanity import SanitySettings, sanity_check
from core.explainers.sdd import SddSettings
from core.explainers.xmaps import XMapSettings

CPU = torch.device("cpu")
GENUINE = [("obama/obama_1.jpg", "obama/obama_2.jpg"), ("biden/biden_1.jpg", "biden/biden_2.jpg")]


@pytest.fixture(scope="module")
def comparisons(engine, faces_dir):
    ids = faces_dir / "identities"
    return [engine.compare(ids / a, ids / b, "mobileface") for a, b in GENUINE]


FAST = {
    "corrrise": CorrRiseSettings(masks=100),
    "xmap": XMapSettings(patch_sizes=(28,), stride=7),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAST))
def test_deletion_falls_faster_than_a_random_map(comparisons, name):
    for comparison in comparisons:
        ex = explain(name, comparison, FAST[name], seed=0)
        fid = fidelity(
            pair_from_comparison(comparison), ex, FidelitySettings(steps=6, random_maps=2), seed=0
        )
        assert fid["deletion_auc"] < fid["random_deletion_auc"], (name, fid)
        assert fid["insertion_auc"] > fid["random_insertion_auc"], (name, fid)
        curve = fid["curves"]["a"]["deletion"]
        assert curve[0] == pytest.approx(comparison.cosine, abs=1e-4)
        assert len(curve) == 7


def test_auc_is_the_trapezoid_area():
    assert auc(np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert auc(np.array([1.0, 0.0])) == pytest.approx(0.5)


@pytest.mark.slow
@pytest.mark.parametrize(
    "fn,settings,ceiling",
    [
        (explain_gradcam, GradCamSettings(), 0.5),
        (explain_corrrise, CorrRiseSettings(masks=80), 0.6),
    ],
    ids=["gradcam", "corrrise"],
)
def test_sanity_check_maps_change_when_the_model_is_randomised(comparisons, fn, settings, ceiling):
    pair = pair_from_comparison(comparisons[0])
    original = fn(pair, settings, 0)
    report = sanity_check(pair, fn, settings, original, seed=0, sanity=SanitySettings(levels=1))
    levels = report["levels"]
    assert levels[0]["randomised_layers"] == 1
    assert levels[-1]["randomised_layers"] == levels[-1]["of_layers"]
    print(fn.__name__, [round(level["spearman_mean"], 3) for level in levels])
    assert levels[-1]["spearman_mean"] < ceiling, levels  # identical maps would give 1.0


def test_marginal_maps_paint_the_decomposition(comparisons):
    comparison = comparisons[0]
    ex = explain("marginals", comparison)
    dec = comparison.decomposition
    rows, cols = dec.row_marginals(), dec.column_marginals()
    for i, (x1, y1, x2, y2) in enumerate(dec.layout.boxes):
        cy, cx = int((y1 + y2) / 2), int((x1 + x2) / 2)
        assert ex.map_a[cy, cx] == pytest.approx(rows[i], rel=1e-5)
        assert ex.map_b[cy, cx] == pytest.approx(cols[i], rel=1e-5)
    total = rows.sum() + dec.bias_b.sum() + dec.bias_bias
    assert abs(total - comparison.cosine) <= 1e-5
    assert ex.forward_passes == 0


def test_overlapping_boxes_take_the_mean_of_their_marginals():
    m = paint_boxes(np.array([1.0, 3.0]), [(0, 0, 6, 6), (4, 4, 10, 10)], 12)
    assert m[1, 1] == 1.0 and m[5, 5] == 2.0 and m[8, 8] == 3.0 and m[11, 11] == 0.0


def test_gradcam_is_refused_for_restricted_models(engine, faces_dir):
    ids = faces_dir / "identities"
    comparison = engine.compare(ids / GENUINE[0][0], ids / GENUINE[0][1], "faceres-rrf56")
    with pytest.raises(MethodUnavailableError, match="not available for this model"):
        explain("gradcam", comparison)


@pytest.mark.slow
def test_sdd_needs_a_gallery_and_uses_it(engine, comparisons, faces_dir, tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="gallery"):
        explain("sdd", comparisons[0], SddSettings())
    monkeypatch.setenv("PATCHWISE_CACHE_DIR", str(tmp_path / "cache"))
    gallery_dir = tmp_path / "gallery"
    gallery_dir.mkdir()
    for person in ("kit_harington", "rose_leslie"):
        for photo in sorted((faces_dir / "identities" / person).iterdir()):
            (gallery_dir / photo.name).symlink_to(photo)
    model = engine.model("mobileface")
    gallery = load_gallery(gallery_dir, engine, model)
    assert len(gallery.names) >= 4 and gallery.cache_hits == 0
    again = load_gallery(gallery_dir, engine, model)
    assert again.cache_hits == len(gallery.names) + len(gallery.skipped)
    assert np.allclose(again.embeddings, gallery.embeddings)
    ex = explain("sdd", comparisons[0], SddSettings(gallery=gallery, k=3))
    assert ex.map_a.shape == (112, 112) and ex.map_a.min() >= 0 and ex.map_a.max() == 1.0
    assert len(ex.parameters["a"]["competitors"]) == 3
    assert 3 <= ex.parameters["a"]["F"] <= 50 and 0.2 <= ex.parameters["a"]["alpha"] <= 0.4
