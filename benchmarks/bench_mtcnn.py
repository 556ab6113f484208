"""MTCNN detection time per photo and per megapixel, with a per-stage breakdown.

    .venv/bin/python benchmarks/bench_mtcnn.py [PHOTO ...] [--repeat 9] [--threads N]
        [--against OLD_CHECKOUT] [--rounds 3]

For each photo (default: obama_1, obama_2, a 1 MP and a 3.4 MP shared photo; above
1600 px the detector works on a downscaled copy, so its cost stops growing with the
pixel count) this prints the median wall time of `MTCNNDetector.detect` over
--repeat runs after one warm-up, the same per megapixel of the photo, the median
CPU time of the process (user + system: under contention it rises far less than the
wall time), and medians per stage:

* wall time of the three stages (1: pyramid, P-Net, candidates and NMS; 2: crops
  and R-Net; 3: crops and O-Net) and of what remains (the retry check, sorting,
  conversions);
* time summed over threads ("sum") of P-Net's passes, of all crops and of R-Net's
  and O-Net's passes. With two threads the detector splits its work over two lanes
  (core/torch_lanes.py), so these sums can exceed the stage's wall time.

The stages are timed by wrapping the detector's own methods.

--against OLD_CHECKOUT measures another checkout of Patchwise (e.g. `mkdir /tmp/old
&& git archive c6252f3 | tar -x -C /tmp/old`) the same way, alternating old and new processes for
--rounds rounds so that both see the same machine load, and prints both.
Report the load average printed in the header with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "faces" / "identities"
DEFAULT_PHOTOS = (
    SHARED / "obama" / "obama_1.jpg",
    SHARED / "obama" / "obama_2.jpg",
    SHARED / "rose_leslie" / "rose_leslie_1.jpg",
    SHARED / "obama" / "obama_3.jpg",
)
STAGES = (
    "stage 1",
    "stage 2",
    "stage 3",
    "other",
    "P-Net sum",
    "crops sum",
    "R-Net sum",
    "O-Net sum",
)
_TOTALS_LOCK = threading.Lock()  # the lanes add their times from two threads


class _Timed:
    """Calls `fn`, adding its wall time to `totals[name]`."""

    def __init__(self, fn, name: str, totals: dict[str, float]) -> None:
        self.fn, self.name, self.totals = fn, name, totals

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            with _TOTALS_LOCK:
                self.totals[self.name] += time.perf_counter() - start


def _instrument(detector, mtcnn_module, totals: dict[str, float]) -> None:
    for net in ("pnet", "rnet", "onet"):
        name = f"{net[0].upper()}-Net sum"
        setattr(detector, net, _Timed(getattr(detector, net), name, totals))
    for number in (1, 2, 3):
        stage = f"_stage{number}"
        setattr(detector, stage, _Timed(getattr(detector, stage), f"stage {number}", totals))
    mtcnn_module.crop_resized = _Timed(mtcnn_module.crop_resized, "crops sum", totals)


def measure(tree: Path, photos: list[str], repeat: int, threads: int) -> dict:
    """Time detection on each photo in this process, with the detector of checkout `tree`."""
    sys.path.insert(0, str(tree))
    from core.detection import mtcnn as mtcnn_module  # core first: the OpenMP wait policy
    from core.device import configure_threads
    from core.photo import load_evidence

    configure_threads(threads)
    detector = mtcnn_module.MTCNNDetector()
    totals: defaultdict[str, float] = defaultdict(float)
    _instrument(detector, mtcnn_module, totals)
    results = {}
    for photo in photos:
        rgb = load_evidence(photo).rgb
        detector.detect(rgb)  # warm-up
        runs = []
        for _ in range(repeat):
            totals.clear()
            cpu, start = time.process_time(), time.perf_counter()
            faces = detector.detect(rgb)
            wall = time.perf_counter() - start
            stages = {name: totals[name] for name in STAGES if name != "other"}
            stages["other"] = wall - sum(totals[f"stage {number}"] for number in (1, 2, 3))
            runs.append({"wall": wall, "cpu": time.process_time() - cpu, **stages})
        results[photo] = {
            "megapixels": rgb.shape[0] * rgb.shape[1] / 1e6,
            "faces": len(faces),
            **{k: statistics.median(r[k] for r in runs) * 1000 for k in runs[0]},
        }
    return results


def _print(label: str, results: dict) -> None:
    print(f"{label}")
    print(
        f"  {'photo':<22}{'MP':>6}{'faces':>6}{'wall ms':>9}{'ms/MP':>8}{'cpu ms':>8}  "
        + "".join(f"{s:>12}" for s in STAGES)
    )
    for photo, r in results.items():
        print(
            f"  {Path(photo).name:<22}{r['megapixels']:6.2f}{r['faces']:6d}{r['wall']:9.1f}"
            f"{r['wall'] / r['megapixels']:8.1f}{r['cpu']:8.1f}  "
            + "".join(f"{r[s]:12.1f}" for s in STAGES)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*", default=[str(p) for p in DEFAULT_PHOTOS])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--against", type=Path, help="another checkout to measure alongside")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=REPO, help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)  # one measuring subprocess
    args = parser.parse_args()

    if args.json_out:
        results = measure(args.tree, args.photos, args.repeat, args.threads)
        Path(args.json_out).write_text(json.dumps(results))
        return
    print(
        f"{args.threads} torch threads, {args.repeat} runs per photo (median), "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    if not args.against:
        _print(f"this checkout ({REPO})", measure(REPO, args.photos, args.repeat, args.threads))
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        return
    for round_ in range(args.rounds):
        for label, tree in (("old", args.against.resolve()), ("new", REPO)):
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "results.json"
                command = [sys.executable, str(Path(__file__).resolve()), *args.photos]
                command += ["--repeat", str(args.repeat), "--threads", str(args.threads)]
                command += ["--tree", str(tree), "--json-out", str(out)]
                subprocess.run(command, check=True, cwd=tree)
                results = json.loads(out.read_text())
            _print(
                f"round {round_ + 1}, {label} ({tree}), load average {os.getloadavg()[0]:.2f}",
                results,
            )


if __name__ == "__main__":
    main()
