"""The command-line interface: `python main.py compare|evaluate|models ...`.

Exit codes (docs/cli.md): 0 success, 1 internal error, 2 bad usage,
3 unreadable image, 4 image too large, 5 no face found, 6 face index out of
range, 7 model not found or broken, 8 detector unavailable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

from core import __version__
from core.errors import PatchwiseError, UsageError


def _add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="torch device (default: CUDA when available, else CPU)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: all cores)"
    )
    parser.add_argument(
        "--detector",
        default="auto",
        choices=["auto", "mtcnn", "insightface"],
        help="face detector (auto: insightface when a local pack exists, else the bundled MTCNN)",
    )
    parser.add_argument(
        "--detector-pack",
        metavar="DIR",
        default=None,
        help="insightface model pack directory (else $PATCHWISE_DETECTOR_PACK "
        "or ~/.insightface/models/<pack>)",
    )
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        help="refuse images with more pixels than this "
        "(default 100 million, or $PATCHWISE_MAX_PIXELS)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Patchwise: forensic face comparison with exact explanations."
    )
    parser.add_argument("--version", action="version", version=f"Patchwise {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    compare = commands.add_parser("compare", help="compare the faces in two photos")
    compare.add_argument("image_a")
    compare.add_argument("image_b")
    compare.add_argument("--model", default=None, help="model id (see `models`)")
    compare.add_argument(
        "--face-a", type=int, default=0, help="face index in image A (0 = largest face)"
    )
    compare.add_argument(
        "--face-b", type=int, default=0, help="face index in image B (0 = largest face)"
    )
    compare.add_argument("--json", metavar="OUT", help="write the full result as JSON")
    compare.add_argument("--top", type=int, default=5, help="top pair terms to print")
    _add_runtime_options(compare)

    evaluate = commands.add_parser("evaluate", help="score labelled pairs from a CSV")
    evaluate.add_argument(
        "--pairs", required=True, metavar="CSV", help="CSV with columns image_a,image_b,same"
    )
    evaluate.add_argument(
        "--root", metavar="DIR", help="folder that relative paths start from (default: the CSV's)"
    )
    evaluate.add_argument("--model", default=None, help="model id (see `models`)")
    evaluate.add_argument("--json", metavar="OUT", help="write metrics and per-pair scores")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the 10-fold split")
    _add_runtime_options(evaluate)

    models = commands.add_parser("models", help="list models and detectors with provenance")
    models.add_argument("--json", metavar="OUT", help="also write the listing as JSON")
    _add_runtime_options(models)
    return parser


def write_json_atomically(path: str | os.PathLike, payload: dict) -> None:
    """Write JSON to a temp file beside `path`, fsync, then rename over it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _engine(args):
    from core.detection.select import make_detector
    from core.device import configure_threads, select_device
    from core.engine import Engine

    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    configure_threads(args.threads)
    device = select_device(args.device)
    detector = make_detector(args.detector, pack_dir=args.detector_pack, device=device)
    return Engine(detector, device, max_pixels=args.max_pixels)


def run_compare(args) -> int:
    from core.cli_report import print_comparison
    from core.models.registry import DEFAULT_MODEL

    engine = _engine(args)
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


def run_evaluate(args) -> int:
    from core.cli_report import print_evaluation
    from core.evaluation import evaluate_pairs, read_pairs_csv
    from core.models.registry import DEFAULT_MODEL

    pairs = read_pairs_csv(args.pairs, root=args.root)
    engine = _engine(args)
    result = evaluate_pairs(
        engine,
        pairs,
        args.model or DEFAULT_MODEL,
        seed=args.seed,
        progress=lambda done, total: print(
            f"\rembedding images {done}/{total}", end="", file=sys.stderr
        ),
    )
    print(file=sys.stderr)
    print_evaluation(result)
    if args.json:
        write_json_atomically(args.json, result)
        print(f"JSON written to {args.json}")
    return 0


def run_models(args) -> int:
    from core.cli_report import print_models
    from core.inventory import inventory

    listing = inventory(args)
    print_models(listing)
    if args.json:
        write_json_atomically(args.json, listing)
    return 0


COMMANDS = {"compare": run_compare, "evaluate": run_evaluate, "models": run_models}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except PatchwiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - last resort: report, never hide
        traceback.print_exc()
        print("error: internal error (a bug in Patchwise); the traceback is above", file=sys.stderr)
        return 1
