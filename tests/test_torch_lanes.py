"""Torch lanes: each lane keeps its own thread count, and nobody else's count changes."""

from __future__ import annotations

import threading

import pytest
import torch

from core.torch_lanes import LANE_COUNT, Lanes, lanes_for


@pytest.fixture
def four_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    yield
    torch.set_num_threads(before)


def lane_threads(lanes: Lanes) -> list[int]:
    """Each lane's torch thread count, as the lane itself sees it."""
    return lanes.run(*[torch.get_num_threads] * LANE_COUNT)


def test_lanes_have_their_own_thread_count_and_leave_others_alone(four_threads):
    lanes = Lanes(threads_per_lane=1)
    assert lane_threads(lanes) == [1] * LANE_COUNT
    assert torch.get_num_threads() == 4  # the caller's own count
    seen = []
    newcomer = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    newcomer.start()
    newcomer.join()
    assert seen == [4]  # a new thread still takes the caller's count as the default
    assert lane_threads(lanes) == [1] * LANE_COUNT


def test_lanes_for_splits_the_callers_threads(four_threads):
    lanes = lanes_for(torch.device("cpu"))
    assert lanes is not None and lane_threads(lanes) == [2, 2]
    assert lanes_for(torch.device("cpu")) is lanes  # made once, shared
    torch.set_num_threads(1)
    assert lanes_for(torch.device("cpu")) is None  # nothing to split
    torch.set_num_threads(4)
    assert lanes_for(torch.device("cuda")) is None


def test_run_returns_results_in_order_in_inference_mode():
    lanes = Lanes(threads_per_lane=1)
    results = lanes.run(lambda: ("a", torch.is_inference_mode_enabled()), lambda: "b")
    assert results == [("a", True), "b"]
    with pytest.raises(ValueError, match="at most"):
        lanes.run(*[int] * (LANE_COUNT + 1))


def test_a_failing_call_raises_after_the_other_finishes():
    lanes = Lanes(threads_per_lane=1)
    finished = threading.Event()

    def slow() -> None:
        finished.wait(0.2)
        finished.set()

    def fail() -> None:
        raise RuntimeError("lane failed")

    with pytest.raises(RuntimeError, match="lane failed"):
        lanes.run(fail, slow)
    assert finished.is_set()
