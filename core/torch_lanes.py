"""Torch work split by hand over two threads ("lanes"), each with its own intra-op threads.

Small networks on a CPU (MTCNN's) waste much of a second intra-op thread: torch's
threads meet at a barrier after every operator, which costs most on small
operators and on a loaded machine. Splitting the work into two independent parts
and running each on one thread keeps both cores busy without those barriers (the
ONNX Runtime path does the same: core/models/onnx_runtime.py).

How torch's thread count binds, in torch 2.13 with OpenMP (checked by
tests/test_torch_lanes.py): each thread has its own count. A thread takes the
process default at its first parallel operator or `torch.get_num_threads()`, and
`torch.set_num_threads(n)` sets n for the calling thread and also as the default.
So a lane first takes the default, then sets its own count once, and the thread
that creates the lanes then sets its own count again, which restores the default
for every other thread.

`lanes_for()` gives the caller's threads split over two lanes (half each), or None
when the caller runs on one thread, where there is nothing to split.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

LANE_COUNT = 2

_LOCK = threading.Lock()
_LANES: dict[int, Lanes] = {}


class Lanes:
    """LANE_COUNT single-worker threads, each running torch on `threads_per_lane` threads."""

    def __init__(self, threads_per_lane: int) -> None:
        self.threads_per_lane = threads_per_lane
        caller_threads = torch.get_num_threads()
        started = threading.Barrier(LANE_COUNT + 1)

        def start_lane() -> None:
            torch.get_num_threads()  # takes the default first, so that the next call sticks
            torch.set_num_threads(threads_per_lane)
            started.wait()

        self._pools = [
            ThreadPoolExecutor(1, f"torch-lane-{i}", initializer=start_lane)
            for i in range(LANE_COUNT)
        ]
        for pool in self._pools:
            pool.submit(int)  # starts the lane's thread, which runs start_lane first
        started.wait()
        torch.set_num_threads(caller_threads)  # the default for other threads again

    def run(self, *calls: Callable[[], object]) -> list:
        """Run call i on lane i (at most LANE_COUNT calls); wait for all; results in order.

        Each call runs in torch.inference_mode (the lanes are for inference; a
        lane thread is not in the caller's mode). A call must not use the lanes
        itself. If calls fail, the first one's exception is raised once all have
        finished.
        """
        if len(calls) > LANE_COUNT:
            raise ValueError(f"at most {LANE_COUNT} calls at once, got {len(calls)}")
        pairs = zip(self._pools, calls, strict=False)
        futures = [pool.submit(_inference, call) for pool, call in pairs]
        errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error
        return [f.result() for f in futures]


def _inference(call: Callable[[], object]) -> object:
    with torch.inference_mode():
        return call()


def lanes_for(device: torch.device) -> Lanes | None:
    """Two lanes that share the calling thread's torch threads, or None.

    None on a GPU (the work is not the CPU's) and when the caller has a single
    thread (nothing to split). Lanes are made once per threads-per-lane count and
    shared by every caller.
    """
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads < LANE_COUNT:
        return None
    per_lane = threads // LANE_COUNT
    with _LOCK:
        if per_lane not in _LANES:
            _LANES[per_lane] = Lanes(per_lane)
        return _LANES[per_lane]
