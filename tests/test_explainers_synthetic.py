"""Explainers on a synthetic model that only looks at the left half of the face.

Known answer: every faithful map must put (almost) all its mass on the left.
Also: seeds reproduce maps, cancellation stops the work, the sanity check and
bad settings behave. The model is tiny, so these tests are fast.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from core.errors import UsageError
from core.explainers import base
from core.explainers.base import Cancelled, ExplainPair, pair_with_model
from core.explainers.corrrise import CorrRiseSettings, PixelCorrelation, square_masks
from core.explainers.gradcam import GradCamSettings
from core.explainers.registry import EXPLAINERS, explain_pair
from core.explainers.sanity import layer_groups, randomised_copy
from core.explainers.xmaps import XMapSettings, clear_occlusion_cache, occlusion_positions
from core.models.face_model import ModelKind, cosine_score_tensor, grid_layout

SIZE = 112


class LeftHalfNet(torch.nn.Module):
    """conv -> ReLU -> 14x14 map whose right half is zeroed -> mean -> linear (16-D)."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 8, stride=8)
        self.fc = torch.nn.Linear(8, 16)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
        mask = torch.zeros(1, 1, 14, 14)
        mask[..., :7] = 1.0
        self.register_buffer("left", mask)

    def forward(self, x):
        return torch.relu(self.conv(x / 255.0 - 0.5)) * self.left


class LeftHalfModel:
    id = "left-half-test"
    kind = ModelKind.GRID
    input_size = SIZE
    layout = grid_layout(2, SIZE)

    score_tensor = staticmethod(cosine_score_tensor)

    def __init__(self):
        self.device = torch.device("cpu")
        self.net = LeftHalfNet().eval()

    def spatial_forward(self, x):
        fmap = self.net(x)
        return fmap, self.net.fc(fmap.mean(dim=(2, 3)))

    def embed_tensor(self, x):
        return self.spatial_forward(x)[1]


def _textured_face(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(14, 14, 3)).astype(np.float32)
    import cv2

    return (
        cv2.resize(coarse, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
        .clip(0, 255)
        .astype(np.uint8)
    )


@pytest.fixture(scope="module")
def pair() -> ExplainPair:
    model = LeftHalfModel()
    a = _textured_face(1)
    noise = np.random.default_rng(2).normal(0, 25, a.shape)
    b = np.clip(a + noise, 0, 255).astype(np.uint8)
    base = ExplainPair(a, b, np.zeros(16), np.zeros(16), model)
    return pair_with_model(base, model)  # embeddings from the model itself


FAST = {
    "xmap": XMapSettings(patch_sizes=(14, 28), stride=7),
    "corrrise": CorrRiseSettings(masks=500),
    "corrrise-grid": CorrRiseSettings(masks=500, mask_design="grid"),
    "gradcam": GradCamSettings(),
}


def _left_share(m: np.ndarray) -> float:
    """Share of |map| mass in columns 0-49 against columns 86-111.

    The model sees columns 0-55; CorrRISE's 30 px patches can link a pixel to
    the left half from up to 30 px away, so the far side starts at 56 + 30.
    """
    left = np.abs(m[:, :50]).mean()
    right = np.abs(m[:, 86:]).mean()
    return float(left / (left + right))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAST))
def test_maps_concentrate_where_the_model_looks(pair, name):
    ex = explain_pair(name.split("-")[0], pair, FAST[name], seed=0)
    assert ex.map_a.shape == ex.map_b.shape == (SIZE, SIZE)
    assert np.isfinite(ex.map_a).all() and np.isfinite(ex.map_b).all()
    # The paper's fixed count of 10 squares per mask links regions: a square on the
    # right means one fewer on the left, so unseen pixels keep a small |r| (~0.07).
    # The RISE-style grid has independent cells and no such floor.
    floor = 0.75 if name == "corrrise" else 0.9
    assert _left_share(ex.map_a) > floor, name
    assert _left_share(ex.map_b) > floor, name
    assert ex.forward_passes > 0 and ex.seconds > 0 and ex.model_id == "left-half-test"


@pytest.mark.slow
def test_xmap_and_corrrise_say_the_left_half_makes_the_faces_similar(pair):
    """Occluding / masking the left half of a near-duplicate lowers the cosine: positive map."""
    for name in ("xmap", "corrrise"):
        ex = explain_pair(name, pair, FAST[name], seed=0)
        assert ex.map_a[:, :50].mean() > 0, name


def test_xmap_per_size_maps_and_method_variants(pair):
    for method in (1, 2, 3):
        ex = explain_pair("xmap", pair, XMapSettings(method=method, patch_sizes=(28,), stride=14))
        assert set(ex.extras) == {"a_patch28", "b_patch28"}
        assert np.abs(ex.map_a).max() == pytest.approx(1.0)
        assert ex.parameters["method"] == method
    positions = occlusion_positions(112, 28, 14)
    assert len(positions) == 7 * 7 and positions[-1] == (84, 84)


def test_corrrise_correlation_matches_a_direct_pearson():
    rng = np.random.default_rng(3)
    masks = square_masks(rng, 40, 20, 3, 6)
    scores = rng.normal(size=40)
    corr = PixelCorrelation(20)
    corr.add(scores[:25], masks[:25])
    corr.add(scores[25:], masks[25:])
    got = corr.result()
    y, x = 7, 11
    expected = np.corrcoef(scores, masks[:, y, x])[0, 1]
    assert got[y, x] == pytest.approx(expected, abs=1e-9)
    assert masks.min() >= 0 and masks.max() <= 1


@pytest.mark.parametrize(
    "name,settings",
    [
        ("corrrise", CorrRiseSettings(masks=60)),
        ("xmap", XMapSettings(patch_sizes=(28,), stride=14, occlusion="noise")),
    ],
)
def test_same_seed_same_maps_other_seed_other_maps(pair, name, settings):
    one = explain_pair(name, pair, settings, seed=5)
    again = explain_pair(name, pair, settings, seed=5)
    other = explain_pair(name, pair, settings, seed=6)
    assert np.array_equal(one.map_a, again.map_a) and np.array_equal(one.map_b, again.map_b)
    assert not np.allclose(one.map_a, other.map_a)
    assert one.seed == 5 and other.seed == 6


def test_cancel_flag_stops_the_work(pair):
    event = threading.Event()
    calls = []

    def progress(done, total):
        calls.append((done, total))
        event.set()  # cancel after the first batch

    with pytest.raises(Cancelled):
        explain_pair("corrrise", pair, CorrRiseSettings(masks=500), 0, progress, event)
    assert len(calls) == 1 and calls[0][0] < calls[0][1] == 1000


def test_cancel_callable_and_progress_reaches_total(pair):
    clear_occlusion_cache()
    calls = []
    explain_pair(
        "xmap",
        pair,
        XMapSettings(patch_sizes=(28,), stride=14),
        0,
        lambda d, t: calls.append((d, t)),
        lambda: False,
    )
    assert calls[-1][0] == calls[-1][1] == 2 * 49
    clear_occlusion_cache()
    with pytest.raises(Cancelled):
        explain_pair("xmap", pair, FAST["xmap"], 0, None, lambda: True)


def test_one_occlusion_run_serves_methods_one_two_and_three(pair, monkeypatch):
    """Methods I-III differ only in how distances are chosen, so they share the occlusions;
    the reused result equals a fresh run, and a partial map arrives while passes accumulate."""
    settings = XMapSettings(patch_sizes=(14, 28), stride=7)
    monkeypatch.setattr(base, "PARTIAL_EVERY_S", 0.0)  # a provisional map after every batch
    clear_occlusion_cache()
    partials = []
    first = explain_pair(
        "xmap", pair, settings, 0, partial=lambda a, b, d, t: partials.append((a, d, t))
    )
    assert first.forward_passes == 2 * (15 * 15 + 13 * 13)
    for method in (1, 3, 2):
        reused = explain_pair("xmap", pair, XMapSettings(method, (14, 28), 7), 0)
        assert reused.forward_passes == 0 and reused.notes
        clear_occlusion_cache()
        fresh = explain_pair("xmap", pair, XMapSettings(method, (14, 28), 7), 0)
        assert np.array_equal(reused.map_a, fresh.map_a)
        assert np.array_equal(reused.map_b, fresh.map_b)
    assert first.parameters["method"] == 2 and np.array_equal(first.map_a, fresh.map_a)
    assert len(partials) >= 3
    for provisional, done, total in partials:
        assert provisional.shape == (SIZE, SIZE) and 0 < done < total


def test_corrrise_provisional_maps_converge_to_the_final_one(pair, monkeypatch):
    monkeypatch.setattr(base, "PARTIAL_EVERY_S", 0.0)
    partials = []
    settings = CorrRiseSettings(masks=96)
    final = explain_pair(
        "corrrise", pair, settings, 3, partial=lambda a, b, d, t: partials.append((a, b, d, t))
    )
    plain = explain_pair("corrrise", pair, settings, 3)
    assert np.array_equal(final.map_a, plain.map_a)  # reporting changes nothing
    assert [d for *_, d, _ in partials] == sorted({d for *_, d, _ in partials})
    assert len(partials) >= 2 and all(0 < d < t == 192 for *_, d, t in partials)
    gaps = [np.abs(a - final.map_a).mean() for a, *_ in partials]
    assert gaps[-1] < gaps[0]  # more masks, closer to the final correlation


def test_bad_settings_are_usage_errors(pair):
    with pytest.raises(UsageError):
        explain_pair("xmap", pair, XMapSettings(method=4))
    with pytest.raises(UsageError):
        explain_pair("xmap", pair, XMapSettings(occlusion="pink"))
    with pytest.raises(UsageError):
        explain_pair("corrrise", pair, CorrRiseSettings(masks=1))
    with pytest.raises(UsageError):
        explain_pair("nonsense", pair)
    assert {"xmap", "corrrise", "gradcam", "gradcampp", "sdd", "marginals"} == set(EXPLAINERS)


def test_randomised_copy_changes_only_the_top_layers(pair):
    model = pair.model
    groups = layer_groups(model)
    assert [name for name, _ in groups] == ["conv", "fc"]
    clone = randomised_copy(model, 1, np.random.default_rng(0))
    assert torch.equal(clone.net.conv.weight, model.net.conv.weight)
    assert not torch.equal(clone.net.fc.weight, model.net.fc.weight)


class LeftHalfDenseModel(LeftHalfModel):
    """The same left-half map, read by a dense layer over the flattened map (no averaging)."""

    id = "left-half-dense-test"

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Linear(8 * 14 * 14, 16)
        with torch.no_grad():
            self.head.weight.copy_(
                torch.randn(16, 8 * 14 * 14, generator=torch.Generator().manual_seed(1)) * 0.05
            )

    def spatial_forward(self, x):
        fmap = self.net(x)
        return fmap, self.head(fmap.flatten(1))


def test_gradcampp_is_not_offered_where_it_equals_gradcam(pair):
    """Global average pooling: spatially constant gradients, Grad-CAM++ = Grad-CAM."""
    from core.explainers.base import MethodUnavailableError
    from core.explainers.registry import availability

    assert availability("gradcam", pair.model) is None
    reason = availability("gradcampp", pair.model)
    assert reason and "same map as Grad-CAM" in reason
    with pytest.raises(MethodUnavailableError, match="global average"):
        explain_pair("gradcampp", pair, GradCamSettings(plus_plus=True))
    dense = pair_with_model(pair, LeftHalfDenseModel())
    assert availability("gradcampp", dense.model) is None
    plus = explain_pair("gradcampp", dense, GradCamSettings(plus_plus=True))
    plain = explain_pair("gradcam", dense, GradCamSettings())
    assert _left_share(plus.map_a) > 0.9
    assert np.corrcoef(plus.map_a.ravel(), plain.map_a.ravel())[0, 1] < 0.999


def test_grid_masks_have_the_same_statistics_at_every_pixel_squares_do_not():
    from core.explainers.corrrise import grid_masks

    grid = grid_masks(np.random.default_rng(0), 2000, SIZE, 30).var(axis=0)
    squares = square_masks(np.random.default_rng(0), 2000, SIZE, 10, 30).var(axis=0)
    assert grid.max() / grid.min() < 1.3
    assert squares[SIZE // 2, SIZE // 2] / squares[0, 0] > 10  # corners rarely covered


def _near_duplicate_pairs(count: int) -> list[ExplainPair]:
    model = LeftHalfModel()
    pairs = []
    for seed in range(count):
        a = _textured_face(10 + seed)
        noise = np.random.default_rng(50 + seed).normal(0, 25, a.shape)
        b = np.clip(a + noise, 0, 255).astype(np.uint8)
        pairs.append(pair_with_model(ExplainPair(a, b, np.zeros(16), np.zeros(16), model), model))
    return pairs


@pytest.mark.slow
def test_accuracy_protocol_ranks_a_true_map_above_random_and_flags_a_wrong_one():
    """The paper's protocol on a model that looks only at the left half: a map on the left
    deletes accuracy faster than random maps; a map on the right is flagged."""
    from core.explainers.accuracy_fidelity import AccuracyFidelitySettings, method_fidelity

    pairs = _near_duplicate_pairs(3)
    left = np.zeros((SIZE, SIZE))
    left[:, :56] = 1.0
    left += np.linspace(0, 0.1, SIZE)[None]  # a fixed order inside each half
    right = left[:, ::-1].copy()
    settings = AccuracyFidelitySettings(steps=4, random_maps=2)
    threshold = 0.99  # the unperturbed pairs score ~1.0, a half-gray face ~0.985
    true_map = method_fidelity(pairs, [(left, left)] * 3, threshold, settings, "single", 0)
    wrong = method_fidelity(pairs, [(right, right)] * 3, threshold, settings, "single", 0)
    assert true_map["curves"]["deletion"]["accuracy"][0] == 1.0  # unperturbed: all accepted
    assert true_map["deletion_percent"] < true_map["random_deletion_percent"]
    assert true_map["insertion_percent"] >= true_map["random_insertion_percent"]
    assert true_map["curves"]["deletion"]["trials"] == 6  # A and B of 3 pairs
    assert wrong["worse_than_random"] == {"deletion": True, "insertion": True}
    assert wrong["flag"] == "WORSE THAN RANDOM"
    joint = method_fidelity(pairs, [(left, left)] * 3, threshold, settings, "joint", 0)
    assert joint["mode"] == "joint" and joint["curves"]["deletion"]["trials"] == 3


def test_per_pair_fidelity_tests_xmaps_iii_with_joint_occlusion(pair):
    from core.explainers.faithfulness import FidelitySettings, fidelity

    settings = XMapSettings(method=3, patch_sizes=(28,), stride=14)
    ex = explain_pair("xmap", pair, settings, seed=0)
    fid = fidelity(pair, ex, FidelitySettings(steps=3, random_maps=1), seed=0)
    assert fid["mode"] == "joint" and set(fid["curves"]) == {"ab"}
    assert "same pixels" in fid["protocol"] and set(fid["worse_than_random"]) == {
        "deletion",
        "insertion",
    }
    other = explain_pair("xmap", pair, XMapSettings(method=2, patch_sizes=(28,), stride=14))
    assert fidelity(pair, other, FidelitySettings(steps=3, random_maps=1), 0)["mode"] == "single"
