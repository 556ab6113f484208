"""MTCNN's fast building blocks give the plain results: pools and NMS exactly, the pyramid
within float32 rounding, two lanes what one thread finds (issue 12)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from core.detection.area_pyramid import area_shrink_edged, area_windows, with_zero_edge
from core.detection.mtcnn import (
    LEVEL_MAKING_SHARE,
    TORCH_POOL_BELOW,
    MaxPool2dCeil,
    MTCNNDetector,
    RowsPReLU,
    nms,
    pyramid_scales,
    share_levels,
)
from core.photo import load_evidence
from core.torch_lanes import lanes_for


@pytest.mark.parametrize(("kernel", "stride"), [(2, 2), (3, 2)])
def test_max_pool_equals_torch_ceil_mode_exactly(kernel, stride):
    torch.manual_seed(0)
    reference, fast = nn.MaxPool2d(kernel, stride, ceil_mode=True), MaxPool2dCeil(kernel, stride)
    sizes = itertools.product((3, 4, 5, 9, 22, 23, 120, 121), (3, 4, 7, 10, 21, 96, 97))
    assert 2 * 5 * 120 * 96 > TORCH_POOL_BELOW > 2 * 5 * 23 * 21  # both paths are tested
    for h, w in sizes:
        x = torch.randn(2, 5, h, w)
        for layout in (torch.contiguous_format, torch.channels_last):
            x = x.contiguous(memory_format=layout)
            assert torch.equal(fast(x), reference(x)), (h, w, layout)


def test_rows_prelu_equals_torch_prelu_exactly():
    torch.manual_seed(0)
    reference, fast = nn.PReLU(10), RowsPReLU(10)
    with torch.no_grad():
        reference.weight.copy_(torch.randn(10))  # slopes of both signs, as P-Net's
        fast.weight.copy_(reference.weight)
    for h, w in ((1, 1), (5, 7), (61, 44)):
        x = torch.randn(2, 10, h, w)
        for layout in (torch.contiguous_format, torch.channels_last):
            x = x.contiguous(memory_format=layout)
            assert torch.equal(fast(x), reference(x)), (h, w, layout)


def test_area_windows_are_adaptive_pooling_windows():
    first, length = area_windows(10, 4)  # 2.5 input pixels per output pixel
    assert first.tolist() == [0, 2, 5, 7]
    assert length.tolist() == [3, 3, 3, 3]
    first, length = area_windows(6, 6)
    assert first.tolist() == list(range(6)) and length.tolist() == [1] * 6


def area_shrink(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The pyramid's averaging on a plain (not zero-edged) image."""
    return area_shrink_edged(with_zero_edge(x), height, width)[:-1, :-1]


def test_area_shrink_matches_torch_area_interpolation():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (137, 91, 3), dtype=np.uint8)
    source = torch.from_numpy(image)
    reference = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    for size in ((83, 55), (59, 39), (12, 12)):  # ratios 0.6 and 0.709 as in the pyramid
        shrunk = area_shrink(source, *size)
        reference = F.interpolate(reference, size=size, mode="area")
        expected = reference[0].permute(1, 2, 0)
        assert shrunk.shape == expected.shape
        assert (shrunk - expected).abs().max().item() <= 1e-4  # float32 rounding on 0..255
        source = shrunk
    # a constant image stays exactly constant
    flat = area_shrink(torch.full((50, 40, 3), 7, dtype=torch.uint8), 31, 29)
    assert torch.equal(flat, torch.full((31, 29, 3), 7.0))


def _greedy_nms(boxes, scores, threshold, mode):
    """The textbook loop: take the best remaining box, drop every box it overlaps too much."""
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0.0) * np.maximum(y2 - y1, 0.0)
    order, keep = np.argsort(-scores, kind="stable"), []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        iw = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0.0)
        ih = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0.0)
        inter = iw * ih
        union = areas[i] + areas[rest] - inter
        denom = np.minimum(areas[i], areas[rest]) if mode == "min" else union
        order = rest[inter / np.maximum(denom, 1e-12) <= threshold]
    return keep


@pytest.mark.parametrize("count", [1, 7, 300, 700])  # 700: more than one block of rows
def test_block_nms_keeps_what_greedy_nms_keeps(count):
    rng = np.random.default_rng(count)
    corner = rng.uniform(0, 300, (count, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(5, 60, (count, 2))], axis=1)
    scores = rng.choice(rng.uniform(0.6, 1.0, max(count // 2, 1)), count)  # with ties
    for threshold, mode in ((0.5, "union"), (0.7, "union"), (0.7, "min")):
        expected = _greedy_nms(boxes, scores, threshold, mode)
        assert nms(boxes, scores, threshold, mode).tolist() == expected


def test_share_levels_gives_the_largest_to_lane_zero_and_balances_the_rest():
    areas = [int(372_918 * 0.709 ** (2 * k)) for k in range(12)]
    lanes = share_levels(areas)
    assert lanes[0] == 0 and set(lanes) == {0, 1}
    work = [0.0, LEVEL_MAKING_SHARE * sum(areas[1:])]
    for lane, area in zip(lanes, areas, strict=True):
        work[lane] += area
    assert abs(work[0] - work[1]) <= areas[1]  # within one level of even
    assert share_levels([500]) == [0]


@pytest.fixture
def torch_threads():
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_two_lanes_find_what_one_thread_finds(torch_threads, faces_dir):
    detector = MTCNNDetector()
    for name in ("identities/obama/obama_1.jpg", "multi_face/obama_and_biden.jpg"):
        rgb = load_evidence(faces_dir / name).rgb
        torch_threads(1)
        alone = detector.detect(rgb)
        torch_threads(2)  # two lanes of one thread each
        assert lanes_for(detector.device) is not None
        laned = detector.detect(rgb)
        assert len(laned) == len(alone) >= 1
        for a, b in zip(alone, laned, strict=True):
            assert np.abs(np.subtract(a.box, b.box)).max() < 1e-3
            assert np.abs(a.landmarks - b.landmarks).max() < 1e-3
            assert abs(a.score - b.score) < 1e-5


def test_a_failure_while_making_levels_is_raised_not_waited_for(torch_threads, monkeypatch):
    torch_threads(2)
    detector = MTCNNDetector(retry=False)
    made = detector._level

    def fail_on_the_third(pixels, source, s):
        if s < detector_scales[2]:
            raise MemoryError("no room for this level")
        return made(pixels, source, s)

    rgb = np.random.default_rng(0).integers(0, 256, (400, 300, 3), dtype=np.uint8)
    detector_scales = pyramid_scales(400, 300, detector.min_face_size, detector.factor)
    monkeypatch.setattr(detector, "_level", fail_on_the_third)
    with pytest.raises(MemoryError, match="no room"):
        detector.detect(rgb)
