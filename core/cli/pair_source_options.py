"""Where `calibrate` and `validate` get labelled pairs: an identity tree or a pairs CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import UsageError

DEFAULT_MAX_PAIRS = 200_000


def add_pair_source_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data", metavar="DIR", help="identity-per-folder tree (one folder of photos per person)"
    )
    source.add_argument("--pairs", metavar="CSV", help="CSV with columns image_a,image_b,same")
    parser.add_argument(
        "--root", metavar="DIR", help="folder relative CSV paths start from (default: the CSV's)"
    )
    parser.add_argument(
        "--max-impostor",
        type=int,
        default=None,
        metavar="N",
        help="with --data: sample N impostor pairs (seeded) instead of using all",
    )
    parser.add_argument(
        "--max-pairs",
        type=int,
        default=DEFAULT_MAX_PAIRS,
        metavar="N",
        help="with --data: at most N pairs in all; genuine pairs are sampled (seeded) to at "
        f"most N/2 and impostor pairs fill the rest (default {DEFAULT_MAX_PAIRS})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of sampling and folds")


def pairs_from_args(args) -> tuple[list, dict]:
    """(pairs, record of where they came from) for the options above."""
    from core.evaluation import read_pairs_csv
    from core.strength_of_evidence.pair_sets import capped_pairs, dataset_fingerprint

    if args.max_impostor is not None and args.max_impostor < 1:
        raise UsageError("--max-impostor must be at least 1")
    if args.max_pairs < 2:
        raise UsageError("--max-pairs must be at least 2")
    if args.data:
        pairs = capped_pairs(args.data, args.max_pairs, args.max_impostor, args.seed)
        root = Path(args.data)
        source = {
            "kind": "identity folders",
            "path": str(root),
            "max_impostor": args.max_impostor,
            "max_pairs": args.max_pairs,
            "sampling_seed": args.seed,
        }
    else:
        pairs = read_pairs_csv(args.pairs, root=args.root)
        root = Path(args.root) if args.root else Path(args.pairs).parent
        source = {"kind": "pairs CSV", "path": str(args.pairs), "root": str(root)}
    return pairs, {"source": source, **dataset_fingerprint(pairs, root)}
