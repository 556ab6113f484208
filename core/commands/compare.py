"""`compare A B`: detect, align and compare two faces; print a summary, optionally write JSON."""

from __future__ import annotations

from core.atomic_write import write_json_atomically
from core.commands.runtime_options import add_runtime_options, engine_from_args


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
    add_runtime_options(parser)


def run(args) -> int:
    from core.cli_report import print_comparison
    from core.models.registry import DEFAULT_MODEL

    engine = engine_from_args(args)
    result = engine.compare(
        args.image_a,
        args.image_b,
        args.model or DEFAULT_MODEL,
        face_a=args.face_a,
        face_b=args.face_b,
    )
    print_comparison(result, top=args.top)
    if args.json:
        write_json_atomically(args.json, result.to_json())
        print(f"JSON written to {args.json}")
    return 0
