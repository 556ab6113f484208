"""Options of the batch commands for the embedding store and the cluster (docs/scale.md)."""

from __future__ import annotations

import argparse
from contextlib import contextmanager


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    store = parser.add_mutually_exclusive_group()
    store.add_argument(
        "--store",
        metavar="DIR",
        default=None,
        help="embedding store folder (default: $PATCHWISE_STORE_DIR, else <user cache>/store)",
    )
    store.add_argument(
        "--no-store", action="store_true", help="embed everything again and keep nothing"
    )
    parser.add_argument(
        "--cluster",
        metavar="auto|local|ADDRESS",
        default=None,
        help="embed on a Ray cluster: local = start one on this machine, auto = join a "
        "running one (else start local), or a cluster address (default: this process)",
    )
    parser.add_argument(
        "--runtime",
        choices=("torch", "onnx"),
        default="torch",
        help="what embeds the images: torch (the reference, default) or onnx (ONNX Runtime, "
        "equal within 1e-4, stored under its own key; in this process only, cosine models)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="with --cluster local: worker processes (default: every core)",
    )


@contextmanager
def batch_context(args, model_id: str):
    """(store or None, chunk runner or None) for the options above; closes both after."""
    from core.embedding_store import EmbeddingStore, default_store_dir

    store = None if args.no_store else EmbeddingStore(args.store or default_store_dir())
    try:
        if args.cluster is None:
            yield store, None
        else:
            from core.distributed.ray_chunks import ray_chunk_runner

            with ray_chunk_runner(args, model_id) as runner:
                yield store, runner
    finally:
        if store is not None:
            store.close()
