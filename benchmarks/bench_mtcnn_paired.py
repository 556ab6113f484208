"""Old against new MTCNN in one process, detection by detection: paired time ratios.

    .venv/bin/python benchmarks/bench_mtcnn_paired.py OLD_CHECKOUT [PHOTO ...] [--pairs 60]

This development machine's speed drifts by ±30 % within minutes, so two runs a
minute apart (even bench_mtcnn.py --against, which alternates processes) can differ
by more than a change gains. Here both detectors live in one process and take turns,
one detection each, in alternating order, so that each pair of detections sees the
same machine; the ratio of each pair's times is robust to the drift. Printed per
photo: the median ms/MP of each, and the median and quartiles of new ÷ old over
the pairs (after --warm-up pairs). The faces found must agree within 1e-3 px.

OLD_CHECKOUT is another checkout of Patchwise (e.g. `mkdir /tmp/old && git archive
HEAD | tar -x -C /tmp/old`); only its core/detection/mtcnn.py is loaded, against
this checkout's other modules, so the two must share those modules' interfaces.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# core first: it sets the process's thread and memory policy before torch loads
from core.detection import mtcnn as new_mtcnn  # noqa: E402, I001
from benchmarks.bench_mtcnn import DEFAULT_PHOTOS  # noqa: E402
from core.photo import load_evidence  # noqa: E402


def load_old_module(checkout: Path):
    path = checkout / "core" / "detection" / "mtcnn.py"
    spec = importlib.util.spec_from_file_location("old_mtcnn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paired_times(detectors: dict, rgb: np.ndarray, pairs: int, warm_up: int) -> dict:
    times = {name: [] for name in detectors}
    found = {}
    for k in range(pairs + warm_up):
        order = list(detectors) if k % 2 else list(detectors)[::-1]
        for name in order:
            start = time.perf_counter()
            found[name] = detectors[name].detect(rgb)
            times[name].append(time.perf_counter() - start)
    old, new = found["old"], found["new"]
    assert len(old) == len(new), "the detectors found different faces"
    for a, b in zip(old, new, strict=True):
        assert np.abs(np.subtract(a.box, b.box)).max() < 1e-3, "the detectors' boxes differ"
    return {name: np.array(t[warm_up:]) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_checkout", type=Path)
    parser.add_argument("photos", nargs="*", default=[str(p) for p in DEFAULT_PHOTOS])
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--warm-up", type=int, default=5)
    args = parser.parse_args()
    import torch

    detectors = {
        "old": load_old_module(args.old_checkout).MTCNNDetector(),
        "new": new_mtcnn.MTCNNDetector(),
    }
    print(f"{torch.get_num_threads()} torch threads, {args.pairs} pairs per photo")
    header = f"  {'photo':22s} {'MP':>5s} {'old ms/MP':>10s} {'new ms/MP':>10s}"
    print(header + "   new ÷ old: median (q25-q75)")
    for photo in args.photos:
        rgb = load_evidence(Path(photo)).rgb
        mp = rgb.shape[0] * rgb.shape[1] / 1e6
        t = paired_times(detectors, rgb, args.pairs, args.warm_up)
        ratio = t["new"] / t["old"]
        q25, q50, q75 = np.quantile(ratio, [0.25, 0.5, 0.75])
        print(
            f"  {Path(photo).name:22s} {mp:5.2f} {1e3 * np.median(t['old']) / mp:10.1f} "
            f"{1e3 * np.median(t['new']) / mp:10.1f}   {q50:.3f} ({q25:.3f}-{q75:.3f})"
        )


if __name__ == "__main__":
    main()
