"""`validate --data DIR|--pairs CSV --out DIR`: the validation report a lab runs before casework."""

from __future__ import annotations

from core.cli.pair_source_options import add_pair_source_options, pairs_from_args
from core.cli.runtime_options import add_runtime_options, engine_from_args
from core.cli.scale_options import add_scale_options, batch_context


def register(commands) -> None:
    parser = commands.add_parser(
        "validate", help="validation report: ROC, DET, Cllr, Tippett, PAV/ECE, LR histogram"
    )
    add_pair_source_options(parser)
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument(
        "--calibration",
        metavar="CAL.json",
        default=None,
        help="validate this calibration on these pairs (else: cross-validated calibration "
        "fitted on them)",
    )
    parser.add_argument(
        "--calibrator",
        default="logistic",
        choices=["logistic", "kde", "isotonic"],
        help="without --calibration: lir calibrator to cross-validate (default: logistic)",
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for JSON and PNGs")
    add_runtime_options(parser)
    add_scale_options(parser)


def run(args) -> int:
    from core.cli.progress import image_progress
    from core.models.registry import DEFAULT_MODEL
    from core.strength_of_evidence.calibration_file import load_calibration
    from core.strength_of_evidence.scored_pairs import score_pairs
    from core.strength_of_evidence.validation import write_validation

    pairs, dataset = pairs_from_args(args)
    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    calibration = (
        load_calibration(args.calibration, engine.model(model_id).describe())
        if args.calibration
        else None
    )
    with batch_context(args, model_id) as (store, run_chunks):
        scored = score_pairs(
            engine, pairs, model_id, args.seed, image_progress(), store=store,
            run_chunks=run_chunks, runtime=args.runtime,
        )  # fmt: skip
    report = write_validation(
        args.out,
        scored,
        dataset,
        calibration=calibration,
        kind=args.calibrator,
        folds=args.folds,
        seed=args.seed,
    )
    print(f"Patchwise validate — model {model_id}; LRs from {report['lr_source']}")
    print(
        f"pairs: {report['counts']['genuine']} genuine, {report['counts']['impostor']} "
        f"impostor; {len(report['failures']['failed_images'])} image(s) failed"
    )
    print(
        f"AUC {report['auc']:.4f}, EER {report['eer']:.4f}; Cllr {report['cllr']:.3f}, "
        f"Cllr_min {report['cllr_min']:.3f}, Cllr_cal {report['cllr_cal']:.3f}"
    )
    print(f"written to {args.out}: validation.json and {len(report['plots'])} PNG plots")
    return 0
