"""`compare A B`: detect, align and compare two faces; print a summary, optionally write JSON."""

from __future__ import annotations

from core.atomic_write import write_json_atomically
from core.cli.runtime_options import add_runtime_options, engine_from_args


def register(commands) -> None:
    parser = commands.add_parser("compare", help="compare the faces in two photos")
    parser.add_argument("image_a")
    parser.add_argument("image_b")
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument(
        "--face-a", type=int, default=0, help="face index in image A (0 = largest face)"
    )
    parser.add_argument(
        "--face-b", type=int, default=0, help="face index in image B (0 = largest face)"
    )
    parser.add_argument("--json", metavar="OUT", help="write the full result as JSON")
    parser.add_argument("--top", type=int, default=5, help="top pair terms to print")
    parser.add_argument(
        "--calibration",
        metavar="CAL.json",
        default=None,
        help="score-to-LR calibration of this model ('demo': the bundled DEMO one); "
        "without it the evidence section is 'uncalibrated'",
    )
    parser.add_argument(
        "--verbal-scale", metavar="FILE", default=None, help="verbal-scale JSON (default: ENFSI)"
    )
    add_runtime_options(parser)


def run(args) -> int:
    from core.cli.printing import print_comparison
    from core.models.registry import DEFAULT_MODEL
    from core.strength_of_evidence.calibration_choice import load_chosen_calibration
    from core.strength_of_evidence.evidence_section import evidence_for
    from core.strength_of_evidence.verbal_scale import load_verbal_scale

    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    calibration = load_chosen_calibration(args.calibration, engine.model(model_id).describe())
    scale = load_verbal_scale(args.verbal_scale)
    result = engine.compare(
        args.image_a,
        args.image_b,
        model_id,
        face_a=args.face_a,
        face_b=args.face_b,
    )
    print_comparison(result, top=args.top)
    evidence = evidence_for(result.cosine, calibration, model_id=model_id, scale=scale)
    print("\n".join(evidence.summary_lines()))
    if args.json:
        write_json_atomically(args.json, {**result.to_json(), "evidence": evidence.to_json()})
        print(f"JSON written to {args.json}")
    return 0
