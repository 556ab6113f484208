"""Options and plumbing shared by `train` and `distill`: arguments, data, progress, Ctrl-C."""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from core.cli.runtime_options import add_runtime_options

DEFAULT_CACHE = Path.home() / ".cache" / "patchwise" / "aligned"


def add_training_options(parser, default_lr: float) -> None:
    parser.add_argument("--arch", required=True, choices=["rrfnet56", "rrfnet28", "xcos"])
    parser.add_argument("--data", required=True, metavar="DIR_OR_REC", help="training data")
    parser.add_argument("--out", required=True, metavar="CKPT_DIR", help="checkpoint directory")
    parser.add_argument("--backbone", default="r18", choices=["r18", "r34", "r50", "r100"])
    parser.add_argument(
        "--width", type=int, default=64, help="first-stage channels (64 as in the papers)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 20)")
    parser.add_argument("--steps", type=int, default=None, help="steps (overrides --epochs)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=default_lr, help="initial SGD learning rate")
    parser.add_argument(
        "--mask-ratio",
        type=float,
        default=0.0,
        help="masked-patch augmentation ratio (RRFNet paper: 0.2 or 0.4)",
    )
    parser.add_argument("--max-shift", type=int, default=5, help="random shift in px (0: off)")
    parser.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    parser.add_argument("--checkpoint-every", type=int, default=1000, metavar="STEPS")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument(
        "--cache",
        metavar="DIR",
        default=None,
        help=f"aligned-face cache for photo folders (default {DEFAULT_CACHE})",
    )
    add_runtime_options(parser)


def job_from_args(args, labelled: bool):
    """The JobConfig that the training options describe (loads and aligns the data)."""
    from core.cli.runtime_options import engine_from_args
    from core.errors import UsageError
    from core.training.augmentations import AugmentConfig
    from core.training.face_data import open_face_data
    from core.training.face_folder import FaceFolder
    from core.training.jobs import JobConfig

    if not 0.0 <= args.mask_ratio < 1.0:
        raise UsageError("--mask-ratio must be in [0, 1)")
    if args.width < 1:
        raise UsageError("--width must be at least 1")
    engine = engine_from_args(args)

    def prepare_folder(path):
        return FaceFolder(
            path, args.cache or DEFAULT_CACHE, labelled, engine, progress_bar("aligning")
        )

    data = open_face_data(args.data, prepare_folder)
    return JobConfig(
        arch=args.arch,
        data=data,
        out=Path(args.out),
        device=engine.device,
        backbone=args.backbone,
        width=args.width,
        epochs=args.epochs,
        steps=args.steps,
        batch_size=args.batch_size,
        seed=args.seed,
        lr=args.lr,
        checkpoint_every=max(1, args.checkpoint_every),
        resume=args.resume,
        augment=AugmentConfig(
            flip=not args.no_flip, max_shift=args.max_shift, mask_ratio=args.mask_ratio
        ),
    )


def progress_bar(desc: str):
    """A progress callback (done, total, info=None) drawing a tqdm bar on stderr."""
    from tqdm import tqdm

    state = {}

    def update(done: int, total: int, info: dict | None = None) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=desc, file=sys.stderr, unit="step")
        bar.update(done - bar.n)
        if info:
            bar.set_postfix({k: f"{v:.4g}" for k, v in info.items()}, refresh=False)
        if done >= total:
            bar.close()

    return update


@contextmanager
def cancel_on_ctrl_c():
    """Yields a cancel() callable; the first Ctrl-C asks the loop to save and stop."""
    asked = {"stop": False}

    def handler(signum, frame):
        asked["stop"] = True
        print("\nstopping after this step and saving a resumable checkpoint…", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: asked["stop"]
    finally:
        signal.signal(signal.SIGINT, previous)


def print_summary(meta: dict, out) -> None:
    training, metrics = meta["training"], meta["metrics"]
    state = "stopped early" if "cancelled_at" in training else "finished"
    print(f"{state}: {training['steps_done']}/{training['steps_total']} steps; checkpoint {out}")
    print(
        f"probe loss before {metrics.get('probe_loss_before')}, "
        f"after {metrics.get('probe_loss_after')}; weights sha256 {meta['weights_sha256'][:16]}…"
    )
    print(f"use it with: python main.py compare A B --model {out}")
