"""Per-method time for one pair, and forward passes/s inside each explainer vs bare throughput.

    .venv/bin/python benchmarks/bench_explainers.py [--models mobileface,faceres,...]
        [--a PHOTO] [--b PHOTO] [--masks 500] [--gallery DIR] [--device auto]
        [--threads N] [--full-rrf] [--fidelity] [--json OUT]

For every model and method: wall time, images sent through the model, passes/s,
and the bare batched throughput of the same model measured in the same run
(embed_tensor under inference_mode, same batch size, same number of images up to
256), with their ratio (1.0 = no overhead). Restricted-field models run one
backbone pass per patch per image, so by default they get reduced settings
(CorrRISE 20 masks, X-Maps one 28 px patch at stride 28: timing only, not
useful maps), recorded in the JSON;
--full-rrf uses the defaults. Without --gallery, SDD is reported as skipped.
--fidelity adds deletion/insertion AUCs (20 steps) and their random-map baselines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.detection.select import make_detector  # noqa: E402
from core.device import configure_threads, select_device  # noqa: E402
from core.engine import Engine  # noqa: E402
from core.explainers.base import default_batch, pair_from_comparison  # noqa: E402
from core.explainers.corrrise import CorrRiseSettings  # noqa: E402
from core.explainers.faithfulness import FidelitySettings, fidelity  # noqa: E402
from core.explainers.gallery import load_gallery  # noqa: E402
from core.explainers.registry import EXPLAINERS, availability, explain  # noqa: E402
from core.explainers.sdd import SddSettings  # noqa: E402
from core.explainers.xmaps import XMapSettings  # noqa: E402
from core.models.registry import model_ids  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces" / "identities"


def bare_throughput(model, face: np.ndarray, images: int) -> float:
    """Images/s of model.embed_tensor on batches of default_batch copies of one face."""
    batch = default_batch(model)
    x = torch.from_numpy(np.ascontiguousarray(face.transpose(2, 0, 1), np.float32))
    x = x[None].repeat(batch, 1, 1, 1).to(getattr(model, "device", "cpu"))
    with torch.inference_mode():
        model.embed_tensor(x[:1])  # warm-up
        done, start = 0, time.perf_counter()
        while done < images:
            model.embed_tensor(x)
            done += batch
    return done / (time.perf_counter() - start)


def settings_for(method, model, args, gallery):
    restricted = model.layout.kind == "restricted" and not args.full_rrf
    if method == "corrrise":
        return CorrRiseSettings(masks=20 if restricted else args.masks)
    if method == "xmap":
        return XMapSettings(patch_sizes=(28,), stride=28) if restricted else XMapSettings()
    if method == "sdd":
        return SddSettings(gallery=gallery)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default=str(SHARED / "obama" / "obama_1.jpg"))
    parser.add_argument("--b", default=str(SHARED / "obama" / "obama_2.jpg"))
    parser.add_argument("--models", default=",".join(model_ids()))
    parser.add_argument("--methods", default=",".join(EXPLAINERS))
    parser.add_argument("--masks", type=int, default=500)
    parser.add_argument("--gallery", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--full-rrf", action="store_true")
    parser.add_argument("--fidelity", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    configure_threads(args.threads)
    device = select_device(args.device)
    engine = Engine(make_detector("mtcnn", device=device), device)
    print(f"device {device}, torch threads {torch.get_num_threads()}, pair {args.a} / {args.b}")
    rows = []
    for model_id in args.models.split(","):
        model = engine.model(model_id)
        comparison = engine.compare(args.a, args.b, model_id)
        gallery = load_gallery(args.gallery, engine, model) if args.gallery else None
        for method in args.methods.split(","):
            row = {"model": model_id, "method": method}
            reason = availability(method, model)
            if reason or (method == "sdd" and gallery is None):
                row["skipped"] = reason or "no --gallery given"
                rows.append(row)
                print(f"{model_id:14s} {method:10s} skipped: {row['skipped']}")
                continue
            ex = explain(method, comparison, settings_for(method, model, args, gallery), seed=0)
            row |= {"seconds": ex.seconds, "forward_passes": ex.forward_passes}
            if ex.forward_passes >= 20:
                inside = ex.forward_passes / ex.seconds
                bare = bare_throughput(
                    model, comparison.a.aligned.image, min(256, ex.forward_passes)
                )
                row |= {"passes_per_s": inside, "bare_passes_per_s": bare, "ratio": inside / bare}
            if method in ("corrrise", "xmap"):
                row["settings"] = ex.parameters
                row["reduced_for_timing"] = model.layout.kind == "restricted" and not args.full_rrf
            if args.fidelity:
                fid = fidelity(pair_from_comparison(comparison, model), ex, FidelitySettings(), 0)
                row["fidelity"] = {k: v for k, v in fid.items() if k.endswith("auc")}
            rows.append(row)
            extra = (
                f"  {row['passes_per_s']:8.1f}/s vs bare {row['bare_passes_per_s']:8.1f}/s"
                f"  ratio {row['ratio']:.2f}"
                if "ratio" in row
                else ""
            )
            timing = f"{ex.seconds:8.2f} s {ex.forward_passes:6d} passes"
            print(f"{model_id:14s} {method:10s} {timing}{extra}")
            if "fidelity" in row:
                print("    " + ", ".join(f"{k} {v:.4f}" for k, v in row["fidelity"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"device": str(device), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
