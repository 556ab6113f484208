"""Options every engine-driven command shares, and the engine they configure."""

from __future__ import annotations

import argparse


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
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
        "--model-pack",
        metavar="DIR",
        default=None,
        help="folder of insightface recognition ONNX models to list and use as "
        "pack:<folder>/<file> (also $PATCHWISE_MODEL_PACK and ~/.insightface/models/*)",
    )
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        help="refuse images with more pixels than this "
        "(default 100 million, or $PATCHWISE_MAX_PIXELS)",
    )


def engine_from_args(args):
    """An Engine configured by the runtime options (device, threads, detector, pixel limit)."""
    from core.engine import make_engine
    from core.models.onnx_pack import use_model_pack

    use_model_pack(args.model_pack)

    return make_engine(
        device=args.device,
        threads=args.threads,
        detector=args.detector,
        detector_pack=args.detector_pack,
        max_pixels=args.max_pixels,
    )
