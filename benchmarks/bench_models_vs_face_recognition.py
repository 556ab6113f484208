"""Every bundled model (and `fused`) side by side with face_recognition 1.3, in one run.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_models_vs_face_recognition.py \
        --dlib-python /work/venvs/dlib/bin/python [--lfw /work/shared/data/lfw-dev] \
        [--faces /work/shared/data/faces/identities] [--impostors 3000] [--singletons 500] \
        [--models dlib-resnet,faceres,mobileface,fused] [--json OUT]

Pair sets: the shared identity photos (every pair), and LFW development photos: every
genuine pair inside the 52 folders with two or more photos, plus `--impostors` seeded
impostor pairs among those photos and `--singletons` seeded one-photo people.
Patchwise uses MTCNN (largest face); face_recognition runs in its own venv
(tools/dlib_reference.py: HOG detector, upsample 1, 5-point landmarks, dlib's chip and
network). Each system is scored on the pairs whose two photos gave it a face (both
counts are printed), and Patchwise's models also on the pairs face_recognition scored
("common pairs": the same pairs for every system). Metrics:
core/verification_metrics.py for every system. Per-stage wall times are printed; on a
shared machine they are only indicative.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.evaluation import LabelledPair, evaluate_pairs  # noqa: E402
from core.strength_of_evidence.pair_sets import (  # noqa: E402
    identity_images,
    pairs_from_identity_tree,
)
from core.verification_metrics import verification_report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def lfw_pairs(root: Path, impostors: int, singletons: int, seed: int) -> list[LabelledPair]:
    people = identity_images(root)
    multi = {k: v for k, v in people.items() if len(v) > 1}
    rng = np.random.default_rng(seed)
    single = sorted(k for k, v in people.items() if len(v) == 1)
    chosen = [people[single[i]][0] for i in sorted(rng.choice(len(single), singletons, False))]
    genuine = [
        LabelledPair(a, b, True) for v in multi.values() for a, b in itertools.combinations(v, 2)
    ]
    pool = [p for v in multi.values() for p in v] + chosen
    impostor: set[tuple[Path, Path]] = set()
    while len(impostor) < impostors:
        a, b = (pool[i] for i in rng.choice(len(pool), 2, replace=False))
        if a.parent != b.parent:
            impostor.add(tuple(sorted((a, b))))
    return genuine + [LabelledPair(a, b, False) for a, b in sorted(impostor)]


def face_recognition_scores(dlib_python: str, pairs: list[LabelledPair]) -> tuple[dict, float]:
    images = sorted({p.image_a for p in pairs} | {p.image_b for p in pairs})
    with tempfile.TemporaryDirectory() as tmp:
        Path(f"{tmp}/r.json").write_text(json.dumps({"images": [str(p) for p in images]}))
        start = time.perf_counter()
        script = str(REPO / "tools" / "dlib_reference.py")
        subprocess.run([dlib_python, script, f"{tmp}/r.json", f"{tmp}/o.npz"], check=True)
        seconds = time.perf_counter() - start
        out = dict(np.load(f"{tmp}/o.npz"))
    encoding = {p: e for p, e, f in zip(images, out["encodings"], out["found"], strict=True) if f}
    scored = [p for p in pairs if p.image_a in encoding and p.image_b in encoding]
    scored_keys = {(p.image_a, p.image_b) for p in scored}
    # face_recognition compares by Euclidean distance; its negative is the score.
    scores = np.array([-np.linalg.norm(encoding[p.image_a] - encoding[p.image_b]) for p in scored])
    same = np.array([p.same for p in scored])
    return {
        "system": "face_recognition 1.3 (dlib HOG + 5-point + ResNet; -distance)",
        "images": len(images),
        "failed_images": len(images) - len(encoding),
        "pairs_scored": len(scored),
        "metrics": verification_report(scores, same),
        "scored_keys": scored_keys,
    }, seconds


def patchwise_scores(engine, pairs, model_id: str, common: set) -> tuple[dict, float]:
    """Metrics on every pair Patchwise scored, and on those face_recognition scored too."""
    start = time.perf_counter()
    result = evaluate_pairs(engine, pairs, model_id)
    seconds = time.perf_counter() - start
    shared = [p for p in result["per_pair"] if (Path(p["image_a"]), Path(p["image_b"])) in common]
    return {
        "metrics_on_common_pairs": verification_report(
            np.array([p["cosine"] for p in shared]), np.array([p["same"] for p in shared])
        ),
        "common_pairs": len(shared),
        "system": f"Patchwise {model_id} (MTCNN)",
        "images": result["images"],
        "failed_images": len(result["failed_images"]),
        "pairs_scored": len(result["per_pair"]),
        "metrics": result["metrics"],
    }, seconds


def _figures(m: dict) -> str:
    tar = m["tar_at_far"].get("0.01")
    return f"{m['roc_auc']:.4f} | {100 * m['eer']:.1f} % | {'n/a' if tar is None else f'{tar:.3f}'}"


def row(name: str, r: dict, seconds: float) -> str:
    common = r.get("metrics_on_common_pairs", r["metrics"])
    return (
        f"| {name} | {r['pairs_scored']} | {r['failed_images']}/{r['images']} | "
        f"{_figures(r['metrics'])} | {_figures(common)} | {seconds:.0f} s |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dlib-python", required=True)
    ap.add_argument("--lfw", type=Path, default=Path("/work/shared/data/lfw-dev"))
    ap.add_argument("--faces", type=Path, default=Path("/work/shared/data/faces/identities"))
    ap.add_argument("--impostors", type=int, default=3000)
    ap.add_argument("--singletons", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default="dlib-resnet,faceres,mobileface,fused")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sets", default="shared,lfw", help="which pair sets: shared, lfw")
    args = ap.parse_args()

    from core.detection.select import make_detector
    from core.engine import Engine

    cpu = torch.device("cpu")
    chosen = args.sets.split(",")
    sets = {}
    if "shared" in chosen:
        sets["shared photos"] = pairs_from_identity_tree(args.faces)
    if "lfw" in chosen:
        sets["LFW development photos"] = lfw_pairs(
            args.lfw, args.impostors, args.singletons, args.seed
        )
    results = {}
    for set_name, pairs in sets.items():
        engine = Engine(make_detector("mtcnn", device=cpu), cpu, cache_size=10_000)
        genuine = sum(p.same for p in pairs)
        print(f"\n### {set_name}: {len(pairs)} pairs ({genuine} genuine)\n")
        print(
            "| system | pairs scored | no face | ROC AUC | EER | TAR at FAR 1 % | "
            "common pairs: ROC AUC | EER | TAR at FAR 1 % | time |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        results[set_name] = {}
        fr, seconds = face_recognition_scores(args.dlib_python, pairs)
        common = fr.pop("scored_keys")
        results[set_name]["face_recognition"] = {**fr, "seconds": seconds}
        print(row("face_recognition 1.3", fr, seconds), flush=True)
        for model_id in args.models.split(","):
            r, seconds = patchwise_scores(engine, pairs, model_id, common)
            results[set_name][model_id] = {**r, "seconds": seconds}
            print(row(f"Patchwise `{model_id}`", r, seconds), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
