"""CorrRISE under full model randomisation, per mask design (the figures in docs/explainers.md).

    .venv/bin/python benchmarks/bench_corrrise_sanity.py [--model mobileface] [--masks 200]
        [--draws 6] [--a PHOTO] [--b PHOTO] [--threads N] [--json OUT]

For each mask design ("squares", the paper's literal text; "grid", RISE-style):
the map of the trained model, the Spearman rho between it and the map of the
model with every layer group re-drawn (`draws` independent randomisations, same
masks), and the rho between two mask seeds of the trained model (how
reproducible the map is at this mask count). A faithful map has rho near 0 under
randomisation; the spread of rho over the draws is printed beside its mean,
since smooth maps give Spearman values of +-0.2 by chance. Also prints each
stage's wall time (a contended CPU inflates them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.detection.select import make_detector  # noqa: E402
from core.device import configure_threads  # noqa: E402
from core.engine import Engine  # noqa: E402
from core.explainers.base import pair_from_comparison, pair_with_model  # noqa: E402
from core.explainers.corrrise import MASK_DESIGNS, CorrRiseSettings, explain_corrrise  # noqa: E402
from core.explainers.sanity import layer_groups, randomised_copy  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "identities"


def rho(x: np.ndarray, y: np.ndarray) -> float:
    return float(spearmanr(x.ravel(), y.ravel())[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobileface")
    parser.add_argument("--masks", type=int, default=200)
    parser.add_argument("--draws", type=int, default=6)
    parser.add_argument("--a", default=str(SHARED / "obama" / "obama_1.jpg"))
    parser.add_argument("--b", default=str(SHARED / "obama" / "obama_2.jpg"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    configure_threads(args.threads)
    cpu = torch.device("cpu")
    engine = Engine(make_detector("mtcnn", device=cpu), cpu)
    pair = pair_from_comparison(engine.compare(args.a, args.b, args.model))
    groups = layer_groups(pair.model)
    results = {}
    for design in MASK_DESIGNS:
        settings = CorrRiseSettings(masks=args.masks, mask_design=design)
        start = time.perf_counter()
        original = explain_corrrise(pair, settings, 0)
        reseeded = explain_corrrise(pair, settings, 1)
        randomised = []
        for draw in range(args.draws):
            clone = randomised_copy(pair.model, len(groups), np.random.default_rng(100 + draw))
            other = explain_corrrise(pair_with_model(pair, clone), settings, 0)
            randomised += [rho(original.map_a, other.map_a), rho(original.map_b, other.map_b)]
        values = np.array(randomised)
        results[design] = {
            "rho_full_randomisation_mean": float(values.mean()),
            "rho_full_randomisation_sd": float(values.std()),
            "rho_full_randomisation_values": values.tolist(),
            "rho_between_mask_seeds": (
                rho(original.map_a, reseeded.map_a) + rho(original.map_b, reseeded.map_b)
            )
            / 2,
            "seconds": time.perf_counter() - start,
        }
        r = results[design]
        print(
            f"{design:>8}: rho under full randomisation {r['rho_full_randomisation_mean']:+.3f} "
            f"(sd {r['rho_full_randomisation_sd']:.3f}, {values.size} maps); rho between mask "
            f"seeds {r['rho_between_mask_seeds']:+.3f}; {r['seconds']:.1f} s"
        )
    if args.json:
        settings = {"model": args.model, "masks": args.masks, "draws": args.draws}
        Path(args.json).write_text(json.dumps({"settings": settings, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
