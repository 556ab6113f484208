"""`train`: identity training of RRFNet-56/28 or xCos (docs/training.md)."""

from __future__ import annotations

from core.cli.training_options import add_training_options


def register(commands) -> None:
    parser = commands.add_parser(
        "train", help="train an RRFNet or xCos model on labelled faces (folder or RecordIO)"
    )
    add_training_options(parser, default_lr=0.1)
    parser.add_argument("--margin", default="arcface", choices=["arcface", "cosface"])
    parser.add_argument(
        "--xcos-weight", type=float, default=1.0, help="lambda of L_cos in xCos's loss (Eq. 10)"
    )
    parser.add_argument("--teacher", default="faceres", choices=["faceres"], help="xCos teacher")


def run(args) -> int:
    from core.cli.training_options import (
        cancel_on_ctrl_c,
        job_from_args,
        print_summary,
        progress_bar,
    )
    from core.training.jobs import train

    job = job_from_args(args, labelled=True)
    job.margin = args.margin
    job.xcos_weight = args.xcos_weight
    job.teacher = args.teacher
    with cancel_on_ctrl_c() as cancel:
        meta = train(job, progress=progress_bar(f"train {args.arch}"), cancel=cancel)
    print_summary(meta, job.out)
    return 0
