"""`evaluate --pairs CSV`: verification metrics over labelled pairs."""

from __future__ import annotations

from core.atomic_write import write_json_atomically
from core.cli.runtime_options import add_runtime_options, engine_from_args
from core.cli.scale_options import add_scale_options, batch_context


def register(commands) -> None:
    parser = commands.add_parser("evaluate", help="score labelled pairs from a CSV")
    parser.add_argument(
        "--pairs", required=True, metavar="CSV", help="CSV with columns image_a,image_b,same"
    )
    parser.add_argument(
        "--root", metavar="DIR", help="folder that relative paths start from (default: the CSV's)"
    )
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument("--json", metavar="OUT", help="write metrics and per-pair scores")
    parser.add_argument("--seed", type=int, default=0, help="seed of the 10-fold split")
    parser.add_argument(
        "--folds-column",
        metavar="NAME",
        help="CSV column with each pair's protocol fold: accuracy over those folds "
        "(threshold from the other folds) instead of 10 random folds",
    )
    add_runtime_options(parser)
    add_scale_options(parser)


def run(args) -> int:
    from core.cli.printing import print_evaluation
    from core.cli.progress import image_progress
    from core.evaluation import evaluate_pairs, read_pairs_csv
    from core.models.registry import DEFAULT_MODEL

    pairs = read_pairs_csv(args.pairs, root=args.root, folds_column=args.folds_column)
    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    with batch_context(args, model_id) as (store, run_chunks):
        result = evaluate_pairs(
            engine, pairs, model_id, args.seed, image_progress(), store=store,
            run_chunks=run_chunks, runtime=args.runtime,
        )  # fmt: skip
    print_evaluation(result)
    if args.json:
        write_json_atomically(args.json, result)
        print(f"JSON written to {args.json}")
    return 0
