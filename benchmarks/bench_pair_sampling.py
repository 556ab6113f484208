"""Time building the labelled pairs of `calibrate`/`validate` for a large identity tree.

    python benchmarks/bench_pair_sampling.py [--images 5000] [--per-identity 3]
        [--max-pairs 200000] [--source /work/shared/data/lfw-dev]

Builds a temporary identity-per-folder tree of `--images` entries and times
`pairs_from_identity_tree` (all pairs counted, impostors sampled by number) and
`capped_pairs`. The entries are symlinks to the photos of `--source` (default
lfw-dev, 1,549 photos): with more entries than photos a photo appears in several
folders, so the tree measures pair handling only, NOT identity (it must never be
used to calibrate). Embedding the images, which dominates a real run, is timed by
benchmarks/bench_pipeline.py per image.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from core.strength_of_evidence.pair_sets import capped_pairs, pairs_from_identity_tree


def build_tree(root: Path, source: Path, images: int, per_identity: int) -> None:
    photos = sorted(p for p in source.rglob("*.jpg"))
    if not photos:
        raise SystemExit(f"no photos under {source}")
    for n in range(images):
        folder = root / f"identity_{n // per_identity:05d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{n:05d}.jpg").symlink_to(photos[n % len(photos)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--per-identity", type=int, default=3)
    parser.add_argument("--max-pairs", type=int, default=200_000)
    parser.add_argument("--source", type=Path, default=Path("/work/shared/data/lfw-dev"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="patchwise-bench-pairs-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        build_tree(root, args.source, args.images, args.per_identity)
        print(f"tree of {args.images} symlinks: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        sampled = pairs_from_identity_tree(root, max_impostor=args.max_pairs, seed=0)
        print(
            f"pairs_from_identity_tree, {args.max_pairs} impostors sampled: "
            f"{len(sampled)} pairs in {time.perf_counter() - start:.2f} s"
        )
        start = time.perf_counter()
        capped = capped_pairs(root, args.max_pairs, seed=0)
        print(f"capped_pairs: {len(capped)} pairs in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
