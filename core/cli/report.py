"""`report`: compare two photos and write a PDF report (and a .pwcase), or report on a saved case.

    report Q K --out CASE.pdf [--case-id ID] [--examiner NAME] ... [--save-case CASE.pwcase]
    report --case CASE.pwcase --out CASE.pdf [--save-case CASE.pwcase]

With --case, the stored originals are verified against their SHA-256s (an
altered case is refused, exit 9), everything is recomputed from them, and the
report says whether the stored result was reproduced.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from core.cli.runtime_options import add_runtime_options, engine_from_args
from core.errors import UsageError


def register(commands) -> None:
    parser = commands.add_parser(
        "report", help="write a PDF report (and optionally a .pwcase case file)"
    )
    parser.add_argument("image_q", nargs="?", help="questioned photo (image A)")
    parser.add_argument("image_k", nargs="?", help="reference (known) photo (image B)")
    parser.add_argument("--out", required=True, metavar="PDF", help="the PDF to write")
    parser.add_argument("--case", metavar="PWCASE", help="report on a saved case instead")
    parser.add_argument("--save-case", metavar="PWCASE", help="also save the case to this file")
    parser.add_argument("--case-id", default=None, help="case id (default PW-<date>-<time>)")
    parser.add_argument("--examiner", default="", help="examiner's name")
    parser.add_argument("--agency", default="", help="agency or laboratory")
    parser.add_argument("--notes", default="", help="free-text case notes")
    parser.add_argument("--hp", default=None, help="the same-person proposition (Hp), in words")
    parser.add_argument("--hd", default=None, help="the different-person proposition (Hd)")
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument("--face-a", type=int, default=0, help="face index in Q (0 = largest)")
    parser.add_argument("--face-b", type=int, default=0, help="face index in K (0 = largest)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="decision threshold on the score (only without --calibration, which has its own)",
    )
    parser.add_argument(
        "--calibration",
        metavar="CAL.json",
        default=None,
        help="calibration file for the LR, C-Score and verbal statement, or 'demo' for the "
        "model's bundled DEMO calibration (not for casework)",
    )
    parser.add_argument(
        "--explain",
        metavar="LIST",
        default=None,
        help="comma-separated explainers to run and show, e.g. xmap,corrrise (see `explain`)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random explainers")
    add_runtime_options(parser)


def run(args) -> int:
    if args.case:
        if args.image_q or args.image_k:
            raise UsageError("give either two photos or --case, not both")
        case, comparison, originals, extras = _from_case_file(args)
    else:
        if not (args.image_q and args.image_k):
            raise UsageError("report needs two photos (Q K) or --case CASE.pwcase")
        case, comparison, originals, extras = _new_case(args)
    from core.case.workflow import record_report
    from core.report.pdf_report import write_report

    with _writing(args.out):
        digest = write_report(case, comparison, args.out, progress=_print_progress, **extras)
    record_report(case, args.out, digest)
    print(f"report written to {args.out} (SHA-256 {digest})")
    if args.save_case:
        from core.case.case_file import save_case

        with _writing(args.save_case):
            save_case(case, args.save_case, originals)
        print(f"case saved to {args.save_case}")
    return 0


@contextmanager
def _writing(path: str):
    """Turn a failed write (no such folder, no permission, disk full) into a clear error."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the file ({exc.strerror or exc})") from None


def _print_progress(fraction: float, message: str) -> None:
    print(f"  [{fraction:4.0%}] {message}", file=sys.stderr)


def _new_case(args):
    from core.case.analyses import add_explanations
    from core.case.workflow import CaseDetails, build_case, case_files
    from core.models.registry import DEFAULT_MODEL
    from core.strength_of_evidence.calibration_choice import load_chosen_calibration

    details = CaseDetails.from_mapping(vars(args))  # a bad case id fails before costly work
    if args.calibration and args.threshold is not None:
        raise UsageError("--threshold cannot be combined with --calibration (it has its own)")
    methods = _explainer_names(args.explain)
    engine = engine_from_args(args)
    comparison = engine.compare(
        args.image_q,
        args.image_k,
        args.model or DEFAULT_MODEL,
        face_a=args.face_a,
        face_b=args.face_b,
    )
    calibration = load_chosen_calibration(args.calibration, comparison.model)
    case = build_case(
        comparison,
        details,
        calibration,
        detector_pack=args.detector_pack,
        max_pixels=args.max_pixels,
        threshold=args.threshold,
    )
    print(f"case {case.case_id}: {comparison.model.id} score {comparison.cosine:+.4f}")
    print(f"evidence: {case.results['evidence']['calibration_status']}")
    originals = {"A": Path(args.image_q).read_bytes(), "B": Path(args.image_k).read_bytes()}
    explanations = add_explanations(case, comparison, methods, args.seed)
    return (
        case,
        comparison,
        case_files(case, originals, calibration),
        {"explanations": explanations},
    )


def _explainer_names(value: str | None) -> list[str]:
    """The --explain list, checked against the registry before any costly work."""
    if not value:
        return []
    from core.explainers.registry import spec_for

    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        spec_for(name)  # UsageError naming the available ones
    if len(set(names)) != len(names):
        raise UsageError("--explain lists an explainer twice")
    return names


def _from_case_file(args):
    from core.case.case_file import open_case
    from core.case.rerun import engine_for_case, rerun_case
    from core.device import configure_threads, select_device

    case, originals, verification = open_case(args.case)
    verification.raise_if_failed(args.case)
    print(f"case {case.case_id}: {verification.summary()}")
    configure_threads(args.threads)
    engine = engine_for_case(case, select_device(args.device))
    rerun = rerun_case(case, originals, engine)
    print(f"re-run: {rerun.summary()}")
    if not rerun.reproduced:
        print("warning: the stored result was NOT reproduced; see the report", file=sys.stderr)
    return case, rerun.comparison, originals, {"verification": verification, "rerun": rerun}
