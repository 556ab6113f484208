"""Embedding chunks of images on a Ray cluster: each chunk is one Ray task, retried
when its worker dies, and each chunk's results reach the caller exactly once.

The driver keeps at most IN_FLIGHT_PER_CPU tasks per cluster CPU submitted, so a
million images neither floods the scheduler nor the driver's memory. Workers build
their engine once (same detector, model and pixel limit as the driver; one torch
thread each, or --threads) and keep it for later tasks. Scores are bit-identical to a
single-process run with the same --threads (torch's float sums depend on the thread
count, so with another count they agree to about 1e-4, not bit for bit).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from core.errors import ClusterError

TASK_RETRIES = 3  # a chunk whose worker dies is run again up to this many times
IN_FLIGHT_PER_CPU = 2
OBJECT_STORE_BYTES = 1 << 30  # a local cluster's shared memory for results
REPO = Path(__file__).resolve().parents[2]

_worker_engines: dict = {}  # in each Ray worker: engine per settings


def _embed_in_worker(settings: dict, model_id: str, paths: list[Path]):
    """A Ray task's body: embed one chunk with this worker's engine (built once)."""
    from core.batch_embedding import embed_chunk
    from core.engine import make_engine

    key = tuple(sorted(settings.items()))
    if key not in _worker_engines:
        _worker_engines[key] = make_engine(**settings)
    engine = _worker_engines[key]
    return embed_chunk(engine, engine.model(model_id), paths)


def _connect(cluster: str, workers: int | None) -> bool:
    """Join or start the cluster; True when this call started Ray (and must stop it)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # offline: never report usage
    import ray

    if ray.is_initialized():
        return False
    local = {
        "num_cpus": workers or os.cpu_count(),
        "object_store_memory": OBJECT_STORE_BYTES,
        "include_dashboard": False,
        "runtime_env": {"env_vars": {"PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0"}},
    }
    try:
        if cluster == "local":
            ray.init(**local)
        elif cluster == "auto":
            try:
                ray.init(address="auto", include_dashboard=False)
            except ConnectionError:
                ray.init(**local)
        else:
            ray.init(address=cluster, include_dashboard=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ClusterError(f"Ray cluster {cluster!r}: cannot connect ({exc})") from exc
    return True


def settings_of(args) -> dict:
    """The runtime options a worker needs to build the same engine as the driver
    (one torch thread per worker unless --threads says otherwise)."""
    return {
        "device": args.device,
        "detector": args.detector,
        "detector_pack": args.detector_pack,
        "max_pixels": args.max_pixels,
        "threads": args.threads or 1,
    }


@contextmanager
def ray_chunk_runner(args, model_id: str):
    """A core.batch_embedding ChunkRunner on the cluster named by `args.cluster`."""
    if args.workers is not None and args.workers < 1:
        raise ClusterError("--workers must be at least 1")
    started = _connect(args.cluster, args.workers)
    import ray

    remote = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(_embed_in_worker)
    settings = settings_of(args)

    def run(chunks):
        window = max(1, int(ray.cluster_resources().get("CPU", 1)) * IN_FLIGHT_PER_CPU)
        queue, pending = list(reversed(chunks)), []
        try:
            while queue or pending:
                while queue and len(pending) < window:
                    pending.append(remote.remote(settings, model_id, queue.pop()))
                ready, pending = ray.wait(pending, num_returns=1)
                try:
                    yield ray.get(ready[0])
                except ray.exceptions.RayError as exc:
                    raise ClusterError(
                        f"a chunk of {len(chunks[0])} images failed on the cluster after "
                        f"{TASK_RETRIES} retries: {exc}"
                    ) from exc
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    try:
        yield run
    finally:
        if started:
            ray.shutdown()
