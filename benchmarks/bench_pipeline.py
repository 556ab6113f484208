"""Cold start, warm comparison per stage, detection per megapixel, batch-embedding throughput.

    .venv/bin/python benchmarks/bench_pipeline.py [--repeat 5] [--device auto] [--threads N]
        [--a PHOTO] [--b PHOTO] [--batch 32] [--models faceres,mobileface,...] [--no-cold]

Cold start: a fresh `python main.py compare A B --model M` process, from launch to exit
(imports, weights, detector, first comparison). Warm comparison: models and detector
loaded, engine caches empty, so every stage (load, detect, align, embed, decompose)
really runs; medians in milliseconds, with detection also per megapixel. Then images/s
for embedding a batch of aligned faces. Numbers depend on the machine: report them
with the device, thread count and load average printed in the header.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.detection.select import make_detector  # noqa: E402
from core.device import configure_threads, select_device  # noqa: E402
from core.engine import Engine  # noqa: E402
from core.models.onnx_runtime import with_runtime  # noqa: E402
from core.models.registry import load_model, model_ids  # noqa: E402
from core.photo import load_evidence  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "identities"
STAGES = ("load", "detect", "align", "embed", "decompose")


def cold_start_ms(args, model_id: str) -> float:
    """Launch to exit of a fresh `main.py compare` process (its first comparison)."""
    command = [sys.executable, str(REPO / "main.py"), "compare", args.a, args.b]
    command += ["--model", model_id, "--device", args.device, "--detector", "mtcnn"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default=str(SHARED / "obama" / "obama_1.jpg"))
    parser.add_argument("--b", default=str(SHARED / "obama" / "obama_2.jpg"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--models", default=",".join(model_ids()))
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start processes")
    args = parser.parse_args()

    threads = configure_threads(args.threads)
    device = select_device(args.device)
    detector = make_detector("mtcnn", device=device)
    print(
        f"device {device}, {threads} torch threads, repeat {args.repeat}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    if not args.no_cold:
        for model_id in args.models.split(","):
            print(f"cold start {model_id:<15} {cold_start_ms(args, model_id):8.0f} ms")
    megapixels = (
        sum(load_evidence(p).rgb.shape[0] * load_evidence(p).rgb.shape[1] for p in (args.a, args.b))
        / 1e6
    )
    print(f"warm comparison ({megapixels:.2f} MP in the two photos):")
    print(f"{'model':<15}" + "".join(f"{s:>11}" for s in STAGES) + f"{'total':>11}   (median ms)")
    for model_id in args.models.split(","):
        load_model(model_id, device)  # weights load outside the timed region
        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = Engine(detector, device).compare(args.a, args.b, model_id)
            runs.append({**result.timings_ms, "total": (time.perf_counter() - t0) * 1000})
        medians = [statistics.median(r.get(s, 0.0) for r in runs) for s in (*STAGES, "total")]
        print(
            f"{model_id:<15}"
            + "".join(f"{m:>11.1f}" for m in medians)
            + f"   detect {medians[1] / megapixels:.1f} ms/MP"
        )

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
            f"({passes / elapsed:8.1f} backbone images/s), torch cell_features"
        )
        fast = with_runtime(model, "onnx", threads)
        if fast is not model:
            x = np.ascontiguousarray(faces.transpose(0, 3, 1, 2), np.float32)
            fast.embed_array(x[:2])
            t0 = time.perf_counter()
            fast.embed_array(x)
            rate = args.batch / (time.perf_counter() - t0)
            print(f"{model_id:<15} {rate:8.1f} faces/s   ONNX Runtime embeddings")


if __name__ == "__main__":
    main()
