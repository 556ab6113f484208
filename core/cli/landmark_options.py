"""`--landmarks-a` / `--landmarks-b`: five points placed by hand, replacing detection."""

from __future__ import annotations

import argparse

from core.manual_landmarks import parse_landmarks

HELP = (
    "five landmarks placed by hand in image {side}, in photo pixels: "
    "x1,y1,...,x5,y5 for the left eye, right eye, nose tip, left and right mouth corners "
    "(as seen in the photo); they replace the detector's face for that image"
)


def add_landmark_options(parser: argparse.ArgumentParser) -> None:
    for side in ("a", "b"):
        parser.add_argument(
            f"--landmarks-{side}",
            metavar="X1,Y1,...,X5,Y5",
            default=None,
            help=HELP.format(side=side.upper()),
        )


def landmarks_from_args(args) -> dict:
    """{"landmarks_a": 5x2 or None, "landmarks_b": ...} for Engine.compare."""
    return {
        f"landmarks_{side}": None if value is None else parse_landmarks(value)
        for side, value in (("a", args.landmarks_a), ("b", args.landmarks_b))
    }
