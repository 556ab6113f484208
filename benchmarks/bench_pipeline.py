"""Per-stage timings of one comparison and batch-embedding throughput, per model.

    .venv/bin/python benchmarks/bench_pipeline.py [--repeat 5] [--device auto] [--threads N]
        [--a PHOTO] [--b PHOTO] [--batch 32] [--models faceres,mobileface,...]

Each repeat uses an engine with empty caches, so every stage (load, detect, align,
embed, decompose) really runs. Prints medians in milliseconds, then images/s for
embedding a batch of aligned faces. Numbers depend on the machine: report them
with the device and thread count printed in the header.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.detection.select import make_detector  # noqa: E402
from core.device import configure_threads, select_device  # noqa: E402
from core.engine import Engine  # noqa: E402
from core.models.registry import load_model, model_ids  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "identities"
STAGES = ("load", "detect", "align", "embed", "decompose")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default=str(SHARED / "obama" / "obama_1.jpg"))
    parser.add_argument("--b", default=str(SHARED / "obama" / "obama_2.jpg"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--models", default=",".join(model_ids()))
    args = parser.parse_args()

    threads = configure_threads(args.threads)
    device = select_device(args.device)
    detector = make_detector("mtcnn", device=device)
    print(f"device {device}, {threads} torch threads, repeat {args.repeat}")
    print(f"{'model':<15}" + "".join(f"{s:>11}" for s in STAGES) + f"{'total':>11}   (median ms)")
    for model_id in args.models.split(","):
        load_model(model_id, device)  # weights load outside the timed region
        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = Engine(detector, device).compare(args.a, args.b, model_id)
            runs.append({**result.timings_ms, "total": (time.perf_counter() - t0) * 1000})
        medians = [statistics.median(r.get(s, 0.0) for r in runs) for s in (*STAGES, "total")]
        print(f"{model_id:<15}" + "".join(f"{m:>11.1f}" for m in medians))

    print(f"\nbatch embedding throughput (batch {args.batch} aligned faces, after one warm-up)")
    for model_id in args.models.split(","):
        model = load_model(model_id, device)
        faces = np.random.default_rng(0).integers(
            0, 256, (args.batch, model.input_size, model.input_size, 3), dtype=np.uint8
        )
        model.cell_features(faces[:2])
        t0 = time.perf_counter()
        model.cell_features(faces)
        elapsed = time.perf_counter() - t0
        passes = args.batch * (model.layout.count if model.layout.kind == "restricted" else 1)
        print(
            f"{model_id:<15} {args.batch / elapsed:8.1f} faces/s   "
            f"({passes / elapsed:8.1f} backbone images/s)"
        )


if __name__ == "__main__":
    main()
