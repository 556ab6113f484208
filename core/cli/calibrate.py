"""`calibrate --data DIR|--pairs CSV --out CAL.json`: fit C-Score and a score-to-LR calibration."""

from __future__ import annotations

from core.cli.pair_source_options import add_pair_source_options, pairs_from_args
from core.cli.runtime_options import add_runtime_options, engine_from_args
from core.cli.scale_options import add_scale_options, batch_context


def register(commands) -> None:
    parser = commands.add_parser(
        "calibrate", help="fit a score-to-likelihood-ratio calibration on labelled pairs"
    )
    add_pair_source_options(parser)
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument("--out", required=True, metavar="CAL.json", help="calibration file")
    parser.add_argument(
        "--calibrator",
        default="logistic",
        choices=["logistic", "kde", "isotonic"],
        help="lir calibrator (default: logistic)",
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--name", default=None, help="calibration name (default: the file name)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="label the file 'DEMO — not for casework' (for the bundled demo calibrations)",
    )
    add_runtime_options(parser)
    add_scale_options(parser)


def run(args) -> int:
    from pathlib import Path

    import numpy as np

    from core.cli.progress import image_progress
    from core.models.registry import DEFAULT_MODEL
    from core.strength_of_evidence.calibration_file import build_calibration, write_calibration
    from core.strength_of_evidence.lr_calibration import check_pairs
    from core.strength_of_evidence.scored_pairs import score_pairs

    pairs, dataset = pairs_from_args(args)
    labels = np.array([p.same for p in pairs], dtype=bool)
    check_pairs(labels.astype(float), labels, args.folds)  # fail before embedding anything
    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    with batch_context(args, model_id) as (store, run_chunks):
        scored = score_pairs(
            engine, pairs, model_id, args.seed, image_progress(), store=store,
            run_chunks=run_chunks, runtime=args.runtime,
        )  # fmt: skip
    evaluation = scored.evaluation
    data = build_calibration(
        scored.scores,
        scored.same,
        model=evaluation["model"],
        detector=evaluation["detector"],
        dataset={**dataset, **scored.failures},
        kind=args.calibrator,
        folds=args.folds,
        seed=args.seed,
        name=args.name or Path(args.out).stem,
        demo=args.demo,
    )
    write_calibration(args.out, data)
    m = data["metrics"]["cross_validated_bounded"]
    print(
        f"Patchwise calibrate — model {model_id}, {data['calibrator']['kind']} calibrator "
        f"({data['label']})"
    )
    print(
        f"pairs: {data['counts']['genuine']} genuine, {data['counts']['impostor']} impostor; "
        f"{len(scored.failures['failed_images'])} image(s) failed"
    )
    for item in scored.failures["failed_images"]:
        print(f"  failed: {item['error']}")
    print(f"threshold (max accuracy): cosine {data['threshold']['cosine']:+.4f}")
    print(
        f"{args.folds}-fold cross-validated: Cllr {m['cllr']:.3f}, Cllr_min {m['cllr_min']:.3f}, "
        f"Cllr_cal {m['cllr_cal']:.3f}"
    )
    print(
        f"ELUB log10 LR bounds: [{data['elub']['lower_log10']:+.2f}, "
        f"{data['elub']['upper_log10']:+.2f}]"
    )
    print(f"calibration written to {args.out}")
    return 0
