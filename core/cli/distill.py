"""`distill`: label-free relational distillation of RRFNet or xCos from faceres."""

from __future__ import annotations

from core.cli.training_options import add_training_options


def register(commands) -> None:
    parser = commands.add_parser(
        "distill",
        help="train an RRFNet or xCos student from the faceres teacher on unlabelled photos",
    )
    add_training_options(parser, default_lr=0.1)
    parser.add_argument("--teacher", default="faceres", choices=["faceres"])


def run(args) -> int:
    from core.cli.training_options import (
        cancel_on_ctrl_c,
        job_from_args,
        print_summary,
        progress_bar,
    )
    from core.training.jobs import distill

    job = job_from_args(args, labelled=False)
    job.teacher = args.teacher
    with cancel_on_ctrl_c() as cancel:
        meta = distill(job, progress=progress_bar(f"distill {args.arch}"), cancel=cancel)
    print_summary(meta, job.out)
    return 0
