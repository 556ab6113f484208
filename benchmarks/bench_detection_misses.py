"""MTCNN's miss rate with and without its second pass, and its boxes on multi-face photos.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_detection_misses.py \
        [--lfw /work/shared/data/lfw-dev] [--faces /work/shared/data/faces]

A miss is a photo where no face is found (every photo in these sets shows a face).
The second pass runs only on the first pass's misses, so the box counts on the
multi-face photos are printed for both settings to show they do not change.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.detection.mtcnn import MTCNNDetector  # noqa: E402
from core.photo import load_evidence  # noqa: E402


def photos(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lfw", type=Path, default=Path("/work/shared/data/lfw-dev"))
    ap.add_argument("--faces", type=Path, default=Path("/work/shared/data/faces"))
    ap.add_argument("--limit", type=int, help="a seeded sample of this many LFW photos")
    args = ap.parse_args()
    first, second = MTCNNDetector(retry=False), MTCNNDetector(retry=True)
    for name, root in (
        ("LFW development", args.lfw),
        ("shared identities", args.faces / "identities"),
    ):
        images = photos(root)
        if args.limit and len(images) > args.limit:
            chosen = np.random.default_rng(0).choice(len(images), args.limit, replace=False)
            images = [images[i] for i in sorted(chosen)]
        start = time.perf_counter()
        missed = [p for p in images if not first.detect(load_evidence(p).rgb)]
        seconds = time.perf_counter() - start
        found = {p: second.detect(load_evidence(p).rgb) for p in missed}
        recovered = [p for p, faces in found.items() if faces]
        print(
            f"{name}: {len(images)} photos; first pass missed {len(missed)} "
            f"({100 * len(missed) / len(images):.2f} %) in {seconds:.0f} s; second pass found "
            f"a face in {len(recovered)} -> miss rate "
            f"{100 * (len(missed) - len(recovered)) / len(images):.2f} %"
        )
        for p in missed:
            boxes = [np.round(f.box).astype(int).tolist() for f in found[p]]
            print(f"  {p.relative_to(root)}: second pass {boxes or 'nothing'}", flush=True)
    for p in photos(args.faces / "multi_face"):
        rgb = load_evidence(p).rgb
        print(
            f"multi_face/{p.name}: {len(first.detect(rgb))} boxes without the second pass, "
            f"{len(second.detect(rgb))} with it"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
