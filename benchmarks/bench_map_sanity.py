"""How long the workbench's "Sanity check the current map…" takes, per level and explainer.

    .venv/bin/python benchmarks/bench_map_sanity.py [--models mobileface,faceres]
        [--methods gradcam,corrrise] [--a PHOTO] [--b PHOTO] [--threads N]

Runs exactly what the workbench's sanity job runs (registry.randomisation_check with
core.workbench.map_sanity.SANITY_LEVELS levels, each explainer's default settings,
seed 0) on one pair, and prints the map's own time, each level's time and rho, and
the verdict. The randomised copies run on torch (an ONNX export per copy would cost
more than it saves), so X-Maps and CorrRISE on 224-px models take minutes. A
contended CPU inflates every figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.detection.select import make_detector  # noqa: E402
from core.device import configure_threads  # noqa: E402
from core.engine import Engine  # noqa: E402
from core.explainers.registry import explain, randomisation_check  # noqa: E402
from core.workbench.map_sanity import SANITY_LEVELS  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "identities"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mobileface,faceres")
    parser.add_argument("--methods", default="gradcam,corrrise")
    parser.add_argument("--a", default=str(SHARED / "obama" / "obama_6_small.jpg"))
    parser.add_argument("--b", default=str(SHARED / "obama" / "obama_5_240p.jpg"))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    configure_threads(args.threads)
    cpu = torch.device("cpu")
    engine = Engine(make_detector("mtcnn", device=cpu), cpu)
    for model in args.models.split(","):
        comparison = engine.compare(args.a, args.b, model)
        for method in args.methods.split(","):
            start = time.perf_counter()
            explanation = explain(method, comparison, None, 0)
            print(f"{model} {method}: map {time.perf_counter() - start:.1f} s")
            last = [time.perf_counter()]

            def level_done(level, _randomised, last=last):
                now = time.perf_counter()
                print(
                    f"  top {level['randomised_layers']:>3} of {level['of_layers']} groups: "
                    f"{now - last[0]:6.1f} s, rho A {level['spearman_a']:+.3f} "
                    f"B {level['spearman_b']:+.3f}"
                )
                last[0] = now

            start = time.perf_counter()
            result = randomisation_check(
                method, comparison, explanation, None, 0, SANITY_LEVELS, on_level=level_done
            )
            verdict = result["verdict"]
            outcome = "passed" if verdict["passed"] else "failed"
            print(
                f"  sanity check {time.perf_counter() - start:.1f} s: {outcome} "
                f"(largest |rho| {verdict['value']:.3f}, threshold {verdict['threshold']})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
