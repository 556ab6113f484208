"""Fit the `fused` model's weights: logistic regression on member models' cosines.

    PYTHONPATH=. python tools/fit_fusion.py --data /work/shared/data/faces/identities --demo

Scores every labelled pair (genuine: same folder; impostor: different folders) with each
member model, fits scikit-learn's LogisticRegression on the cosines (log-odds =
sum_m w_m cos_m + b), and writes resources/models/fused-demo.json plus its manifest entry
(file SHA-256). --demo marks the fit DEMO: a handful of shared photos is not a
calibration set, and the label of every fused score says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.linear_model import LogisticRegression

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from core.file_hash import sha256_file  # noqa: E402
from core.models.weights import MANIFEST, MODELS_DIR  # noqa: E402

MEMBERS = ("dlib-resnet", "faceres", "mobileface")
REGULARISATION_C = 10.0


def member_cosines(engine, pairs, members) -> tuple[np.ndarray, np.ndarray]:
    """(pairs x members cosines, same) over the pairs every member could score."""
    from core.evaluation import evaluate_pairs

    per_member = [
        {
            (p["image_a"], p["image_b"]): (p["cosine"], p["same"])
            for p in evaluate_pairs(engine, pairs, m)["per_pair"]
        }
        for m in members
    ]
    keys = sorted(set.intersection(*(set(d) for d in per_member)))
    x = np.array([[d[k][0] for d in per_member] for k in keys])
    same = np.array([per_member[0][k][1] for k in keys], dtype=bool)
    return x, same


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, type=Path, help="identity-per-folder photos")
    ap.add_argument("--members", default=",".join(MEMBERS))
    ap.add_argument("--demo", action="store_true", help="mark the fit DEMO")
    ap.add_argument("--name", default="fused-demo")
    args = ap.parse_args(argv)

    from core.detection.select import make_detector
    from core.engine import Engine
    from core.strength_of_evidence.pair_sets import dataset_fingerprint, pairs_from_identity_tree

    cpu = torch.device("cpu")
    engine = Engine(make_detector("mtcnn", device=cpu), cpu)
    members = args.members.split(",")
    pairs = pairs_from_identity_tree(args.data)
    x, same = member_cosines(engine, pairs, members)
    fit = LogisticRegression(C=REGULARISATION_C).fit(x, same)
    result = {
        "schema": "patchwise.fusion/1",
        "demo": args.demo,
        "members": [
            {"id": m, "weight": round(float(w), 6)}
            for m, w in zip(members, fit.coef_[0], strict=True)
        ],
        "intercept": round(float(fit.intercept_[0]), 6),
        "fitted_on": {
            "data": args.data.name,
            "file_list_sha256": dataset_fingerprint(pairs, args.data)["file_list_sha256"],
            "pairs": int(len(same)),
            "genuine": int(same.sum()),
            "detector": "mtcnn, largest face",
        },
        "method": f"scikit-learn {sklearn.__version__} LogisticRegression(C={REGULARISATION_C})",
        "score": "log-odds of 'same person' under the fitting set's genuine/impostor ratio",
    }
    path = MODELS_DIR / f"{args.name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    manifest[args.name] = {
        "file": path.name,
        "sha256": sha256_file(path),
        "kind": "fusion fit (tools/fit_fusion.py)",
        "demo": args.demo,
    }
    MANIFEST.write_text(json.dumps(manifest, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
