"""Issue 12's goal table: explainer wall times per runtime, passes/s vs bare throughput.

    .venv/bin/python benchmarks/bench_explainers.py [--models faceres,mobileface]
        [--runtimes torch,onnx] [--methods xmap,corrrise,gradcam] [--masks 500]
        [--threads N] [--device auto] [--contended] [--fidelity] [--json OUT]

For every model and runtime (torch eager = the reference, onnx = ONNX Runtime),
measured back to back in the same process:
- bare throughput: images/s of the runtime's batched embedding of copies of face
  A, same forward-pass size as the explainers, the runtimes taking turns (5 rounds of
  1 s, median) so that a changing machine load favours neither;
- per method: wall time, time to the first provisional map, passes, passes/s
  and its ratio to the bare throughput of the same runtime (1.0 = no overhead);
- X-Maps: Method II runs the occlusions, then I and III are timed as switches
  (they reuse the cached occluded embeddings);
- with --fidelity: the fidelity job's time (it runs after the map).
The goal column is the issue's target for that row.

--contended runs everything twice: quiet, then with a CPU-bound process
(one busy Python loop) beside it, and prints contended / quiet throughput.
The load average is printed with each section: on a shared machine the
"quiet" run is only as quiet as the machine was.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.detection.select import make_detector  # noqa: E402
from core.device import configure_threads, select_device  # noqa: E402
from core.engine import Engine  # noqa: E402
from core.explainers.base import BatchRunner, pair_from_comparison  # noqa: E402
from core.explainers.corrrise import CorrRiseSettings  # noqa: E402
from core.explainers.faithfulness import FidelitySettings, fidelity  # noqa: E402
from core.explainers.registry import availability, explain  # noqa: E402
from core.explainers.xmaps import XMapSettings, clear_occlusion_cache  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "identities"
GOALS = {  # (model, method) -> seconds on 2 cores, issue 12
    ("faceres", "xmap"): 10.0,
    ("faceres", "corrrise"): 5.0,
    ("faceres", "gradcam"): 0.3,
    ("mobileface", "xmap"): 1.0,
    ("mobileface", "corrrise"): 1.0,
    ("mobileface", "gradcam"): 1.0,
}
HOG = "while True: pass"


def bare_throughput(models: dict, face: np.ndarray, rounds: int = 5, seconds: float = 1.0):
    """Images/s of each runtime's batched embedding on copies of one face: the runtimes take
    turns for `rounds` rounds of `seconds` each and the median round counts, so that a
    machine whose load changes during the run favours neither."""
    runners = {name: BatchRunner(model, None, None) for name, model in models.items()}
    rates = {name: [] for name in models}
    for runner in runners.values():
        runner.embed_chunk(np.repeat(face[None].astype(np.float32), 2, axis=0))  # warm-up
    for _ in range(rounds):
        for name, runner in runners.items():
            batch = np.repeat(face[None].astype(np.float32), runner.chunk, axis=0)
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                runner.embed_chunk(batch)
                done += len(batch)
            rates[name].append(done / (time.perf_counter() - start))
    return {name: float(np.median(r)) for name, r in rates.items()}


def timed_explain(method, comparison, settings, runtime):
    first = []
    start = time.perf_counter()

    def partial(map_a, map_b, done, total):
        if not first:
            first.append(time.perf_counter() - start)

    ex = explain(method, comparison, settings, 0, runtime=runtime, partial=partial)
    return ex, time.perf_counter() - start, (first[0] if first else None)


def rows_for(comparison, model, runtime, bare: float, args) -> list[dict]:
    rows = [{"method": "bare", "passes_per_s": bare}]
    for method in args.methods.split(","):
        if availability(method, model):
            continue
        settings = {"corrrise": CorrRiseSettings(masks=args.masks), "xmap": XMapSettings()}
        clear_occlusion_cache()
        ex, wall, first = timed_explain(method, comparison, settings.get(method), runtime)
        row = {
            "method": method,
            "wall_s": wall,
            "first_partial_s": first,
            "passes": ex.forward_passes,
            # the goals are for the defaults (CorrRISE with 500 masks)
            "goal_s": None
            if method == "corrrise" and args.masks != 500
            else GOALS.get((model.id, method)),
            "runtime_ran": ex.runtime["runtime"],
        }
        if ex.forward_passes >= 20:
            row["passes_per_s"] = ex.forward_passes / ex.seconds
            row["ratio_to_bare"] = row["passes_per_s"] / bare
        if method == "xmap":
            row["switch_s"] = {}
            for other in (1, 3):
                _, wall_other, _ = timed_explain(
                    method, comparison, XMapSettings(method=other), runtime
                )
                row["switch_s"][f"method {other}"] = wall_other
        if args.fidelity:
            start = time.perf_counter()
            pair = pair_from_comparison(comparison, runtime=runtime)
            fidelity(pair, ex, FidelitySettings(), 0)
            row["fidelity_s"] = time.perf_counter() - start
        rows.append(row)
    return rows


def print_rows(model_id: str, runtime: str, rows: list[dict]) -> None:
    for r in rows:
        if r["method"] == "bare":
            print(f"{model_id:11s} {runtime:6s} {'bare':9s} {r['passes_per_s']:8.1f} passes/s")
            continue
        first = f"{r['first_partial_s']:6.2f}" if r["first_partial_s"] is not None else "     -"
        rate = (
            f"{r['passes_per_s']:7.1f}/s ratio {r['ratio_to_bare']:.2f}"
            if "ratio_to_bare" in r
            else " " * 20
        )
        goal = r["goal_s"]
        verdict = (
            ""
            if goal is None
            else f"goal {goal:g} s: {'met' if r['wall_s'] <= goal else 'NOT met'}"
        )
        extra = ""
        if "switch_s" in r:
            extra += " switch " + ", ".join(f"{k} {v:.3f} s" for k, v in r["switch_s"].items())
        if "fidelity_s" in r:
            extra += f" fidelity {r['fidelity_s']:.2f} s"
        print(
            f"{model_id:11s} {runtime:6s} {r['method']:9s} {r['wall_s']:7.2f} s first map {first} s"
            f" {r['passes']:5d} passes {rate}  {verdict}{extra}"
        )


def run_all(engine, args) -> dict:
    results = {}
    for model_id in args.models.split(","):
        model = engine.model(model_id)
        comparison = engine.compare(args.a, args.b, model_id)
        runtimes = args.runtimes.split(",")
        bare = bare_throughput(
            {r: pair_from_comparison(comparison, runtime=r).model for r in runtimes},
            comparison.a.aligned.image,
        )
        for runtime in runtimes:
            rows = rows_for(comparison, model, runtime, bare[runtime], args)
            print_rows(model_id, runtime, rows)
            results[f"{model_id}/{runtime}"] = rows
        for runtime in args.runtimes.split(",")[1:]:
            base = args.runtimes.split(",")[0]
            speedup = results[f"{model_id}/{runtime}"][0]["passes_per_s"] / max(
                results[f"{model_id}/{base}"][0]["passes_per_s"], 1e-9
            )
            print(f"{model_id:11s} bare throughput {runtime} / {base}: {speedup:.2f}x (goal >= 2)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default=str(SHARED / "obama" / "obama_1.jpg"))
    parser.add_argument("--b", default=str(SHARED / "obama" / "obama_2.jpg"))
    parser.add_argument("--models", default="faceres,mobileface")
    parser.add_argument("--runtimes", default="torch,onnx")
    parser.add_argument("--methods", default="xmap,corrrise,gradcam")
    parser.add_argument("--masks", type=int, default=500)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--contended", action="store_true")
    parser.add_argument("--fidelity", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    device = select_device(args.device)
    engine = Engine(make_detector("mtcnn", device=device), device)
    print(f"device {device}, {threads} threads, {os.cpu_count()} cores, pair {args.a} / {args.b}")
    report = {"device": str(device), "threads": threads}
    print(f"-- quiet run (load average before: {os.getloadavg()[0]:.2f})")
    report["quiet"] = run_all(engine, args)
    if args.contended:
        hog = subprocess.Popen([sys.executable, "-c", HOG])
        try:
            time.sleep(1.0)
            print(f"-- contended run: CPU hog pid {hog.pid} (load {os.getloadavg()[0]:.2f})")
            report["contended"] = run_all(engine, args)
        finally:
            hog.kill()
            hog.wait()
        print("-- contended / quiet passes/s (fair share on 2 cores is 0.5; goal >= 0.45)")
        for key, rows in report["quiet"].items():
            for quiet, busy in zip(rows, report["contended"][key], strict=True):
                if "passes_per_s" in quiet and "passes_per_s" in busy:
                    ratio = busy["passes_per_s"] / quiet["passes_per_s"]
                    print(f"{key:18s} {quiet['method']:9s} {ratio:.2f}")
    print(f"(load average after: {os.getloadavg()[0]:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
