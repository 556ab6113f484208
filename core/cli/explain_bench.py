"""`explain-bench --pairs CSV`: the CorrRISE paper's fidelity protocol over a labelled pair set.

For each explainer: verification accuracy on the set's matching pairs, at the
set's own threshold, while the top-p % pixels of each map are deleted or
inserted, and the same for random maps (core/explainers/accuracy_fidelity.py).
Prints the table in the shape of CorrRISE Table 1 and writes
explain_bench.json and explain_bench.png into --out.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.atomic_write import write_bytes_atomically, write_json_atomically
from core.cli.runtime_options import add_runtime_options, engine_from_args

# name -> (registry explainer, what it is); xmap3 is X-Maps Method III, tested jointly
BENCH_METHODS = {
    "xmap": ("xmap", "X-Maps Method II"),
    "xmap3": ("xmap", "X-Maps Method III (joint occlusion)"),
    "corrrise": ("corrrise", "CorrRISE"),
    "gradcam": ("gradcam", "Grad-CAM"),
    "gradcampp": ("gradcampp", "Grad-CAM++"),
    "marginals": ("marginals", "decomposition marginals"),
}


def register(commands) -> None:
    parser = commands.add_parser(
        "explain-bench",
        help="explainer fidelity over labelled pairs: accuracy after deleting/inserting pixels",
    )
    parser.add_argument(
        "--pairs", required=True, metavar="CSV", help="CSV with columns image_a,image_b,same"
    )
    parser.add_argument("--root", metavar="DIR", help="folder relative CSV paths start from")
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument(
        "--methods",
        default=",".join(BENCH_METHODS),
        help=f"comma-separated, from {','.join(BENCH_METHODS)} (default: all that apply)",
    )
    parser.add_argument(
        "--max-pairs", type=int, default=None, metavar="N", help="use the first N matching pairs"
    )
    parser.add_argument("--steps", type=int, default=10, help="n: p = k/n, k = 1..n (default 10)")
    parser.add_argument("--random-maps", type=int, default=3, help="random maps per pair")
    parser.add_argument("--masks", type=int, default=500, help="CorrRISE masks (default 500)")
    parser.add_argument(
        "--xmap-sizes", default="7,14,28", help="X-Maps patch sizes in 112-px units"
    )
    parser.add_argument("--xmap-stride", type=int, default=5, help="X-Maps stride, 112-px units")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--out", metavar="DIR", default="explain_bench", help="output folder")
    add_runtime_options(parser)


def _methods(text: str) -> list[str]:
    from core.errors import UsageError

    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in BENCH_METHODS]
    if unknown or not names:
        raise UsageError(
            f"unknown --methods {', '.join(unknown) or '(none)'}; choose from "
            f"{', '.join(BENCH_METHODS)}"
        )
    return names


def _settings(name: str, args):
    from core.explainers.corrrise import CorrRiseSettings
    from core.explainers.registry import spec_for
    from core.explainers.xmaps import XMapSettings

    if name in ("xmap", "xmap3"):
        sizes = tuple(int(v) for v in args.xmap_sizes.split(","))
        return XMapSettings(
            method=3 if name == "xmap3" else 2, patch_sizes=sizes, stride=args.xmap_stride
        )
    if name == "corrrise":
        return CorrRiseSettings(masks=args.masks)
    return spec_for(BENCH_METHODS[name][0]).default_settings()


def _progress(label: str):
    def show(done: int, total: int) -> None:
        print(f"\r  {label}: {done}/{total}", end="", file=sys.stderr, flush=True)

    return show


def run(args) -> int:
    import numpy as np

    from core.errors import UsageError
    from core.evaluation import evaluate_pairs, read_pairs_csv
    from core.explainers.accuracy_fidelity import (
        AccuracyFidelitySettings,
        method_fidelity,
        set_threshold,
    )
    from core.explainers.accuracy_fidelity_plot import accuracy_curves_png
    from core.explainers.base import pair_from_comparison
    from core.explainers.registry import availability, explain
    from core.models.registry import DEFAULT_MODEL

    if args.steps < 1 or args.random_maps < 1 or args.masks < 3:
        raise UsageError("--steps and --random-maps must be >= 1 and --masks >= 3")
    if args.max_pairs is not None and args.max_pairs < 1:
        raise UsageError("--max-pairs must be at least 1")
    methods = _methods(args.methods)
    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    model = engine.model(model_id)
    pairs = read_pairs_csv(args.pairs, root=args.root)
    evaluation = evaluate_pairs(engine, pairs, model_id, seed=args.seed)
    scored = evaluation["per_pair"]
    same = np.array([p["same"] for p in scored], dtype=bool)
    if same.all() or not same.any():
        raise UsageError("explain-bench needs genuine and impostor pairs to set the threshold")
    threshold = set_threshold(np.array([p["cosine"] for p in scored]), same)
    genuine = [p for p in scored if p["same"]][: args.max_pairs]
    comparisons = [engine.compare(p["image_a"], p["image_b"], model_id) for p in genuine]
    explain_pairs = [pair_from_comparison(c, model) for c in comparisons]
    settings = AccuracyFidelitySettings(steps=args.steps, random_maps=args.random_maps)
    out = Path(args.out)
    payload = {
        "schema": "patchwise.explain_bench/1",
        "protocol": (
            "CorrRISE Alg. 2 / Table 1: verification accuracy (%) on the matching pairs at the "
            "set's accuracy-maximising threshold, area under accuracy vs share of pixels "
            "deleted (lower is better) or inserted (higher is better), k = 1..n"
        ),
        "model": model.describe(),
        "pairs_csv": str(args.pairs),
        "dataset": {k: v for k, v in evaluation.items() if k not in ("per_pair", "model")},
        "threshold": threshold,
        "matching_pairs_used": [[p["image_a"], p["image_b"]] for p in genuine],
        "unperturbed_accuracy": float(np.mean([p["cosine"] >= threshold for p in genuine])),
        "settings": {"seed": args.seed, "steps": args.steps, "random_maps": args.random_maps},
        "results": {},
        "not_available": {},
    }
    for name in methods:
        reason = availability(BENCH_METHODS[name][0], model)
        if reason:
            payload["not_available"][name] = reason
            continue
        config = _settings(name, args)
        maps = []
        for n, c in enumerate(comparisons, start=1):
            ex = explain(BENCH_METHODS[name][0], c, config, args.seed, _progress(f"{name} {n}"))
            maps.append((ex.map_a, ex.map_b))
        print(file=sys.stderr)
        mode = "joint" if name == "xmap3" else "single"
        result = method_fidelity(
            explain_pairs, maps, threshold, settings, mode, args.seed, _progress(f"{name} curves")
        )
        result["label"] = BENCH_METHODS[name][1]
        result["explainer_parameters"] = ex.parameters
        payload["results"][name] = result
        print(file=sys.stderr)
        write_json_atomically(out / "explain_bench.json", payload)  # kept if a later one fails
    write_json_atomically(out / "explain_bench.json", payload)
    if payload["results"]:
        title = f"{model_id}: {len(genuine)} matching pairs, threshold {threshold:.3f}"
        png = accuracy_curves_png(payload["results"], title)
        write_bytes_atomically(out / "explain_bench.png", png)
    print_table(payload)
    print(f"JSON and plot in {out}")
    return 0


def print_table(payload: dict) -> None:
    """The table in the shape of CorrRISE Table 1, with the random-map baseline beside it."""
    print(
        f"{payload['model']['id']}: threshold {payload['threshold']:.4f}, "
        f"{len(payload['matching_pairs_used'])} matching pairs, unperturbed accuracy "
        f"{100 * payload['unperturbed_accuracy']:.1f} %"
    )
    print(f"{'method':<38} {'Del %':>7} {'(random)':>9} {'Ins %':>7} {'(random)':>9}")
    for result in payload["results"].values():
        print(
            f"{result['label']:<38} {result['deletion_percent']:>7.2f} "
            f"{result['random_deletion_percent']:>9.2f} {result['insertion_percent']:>7.2f} "
            f"{result['random_insertion_percent']:>9.2f}  {result['flag'] or ''}"
        )
    for name, reason in payload["not_available"].items():
        print(f"{name}: not run ({reason})")
