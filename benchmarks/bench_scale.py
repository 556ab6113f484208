"""Scale figures for docs/scale.md, each measured in one run on the same data.

    .venv/bin/python benchmarks/bench_scale.py [--stages store,ray,search] [--images 100]
        [--pairs 100000] [--workers 2] [--model faceres] [--dim 256] [--sizes 10000,100000,1000000]

store:  `main.py evaluate` on all pairs of N shared photos twice with one fresh
        embedding store (wall times, interpreter start included), then once more in
        this process on the warm store with a new engine (so only the store helps).
ray:    --pairs seeded random pairs over the same photos: single process (every core,
        no store) against a local Ray cluster of --workers workers (one torch thread
        each, no store); pairs/s with and without the cluster's start-up.
search: FAISS exact inner product against numpy brute force (matrix product and
        argpartition), top 50, mean latency of 20 queries per gallery size of
        synthetic unit vectors (FAISS on 1 thread and on every core); at the largest
        size also the IVF index and its recall against the exact top 50, on random
        vectors and on identity-like clusters of 10.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.cli.runtime_options import engine_from_args  # noqa: E402
from core.embedding_store import EmbeddingStore  # noqa: E402
from core.evaluation import LabelledPair, evaluate_pairs  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
TOP = 50
QUERIES = 20


def shared_photos(count: int) -> list[Path]:
    """The identity photos, then LFW dev photos in name order, `count` in all."""
    photos = sorted((SHARED / "faces" / "identities").glob("*/*"))
    photos += sorted((SHARED / "lfw-dev").glob("*/*.jpg"))
    return photos[:count]


def all_pairs(photos: list[Path]) -> list[LabelledPair]:
    return [LabelledPair(a, b, a.parent == b.parent) for a, b in itertools.combinations(photos, 2)]


def random_pairs(photos: list[Path], count: int, seed: int = 0) -> list[LabelledPair]:
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < count:
        a, b = rng.sample(photos, 2)
        pairs.append(LabelledPair(a, b, a.parent == b.parent))
    return pairs


def runtime(threads: int | None) -> argparse.Namespace:
    return argparse.Namespace(
        device="cpu", detector="mtcnn", detector_pack=None, max_pixels=None, threads=threads
    )


class Clock:
    """Progress callback that notes when embedding finished."""

    def __init__(self):
        self.start = time.perf_counter()
        self.embedded_at = self.start

    def __call__(self, done: int, total: int) -> None:
        if done == total:
            self.embedded_at = time.perf_counter()

    def report(self, label: str, pairs: int) -> float:
        total = time.perf_counter() - self.start
        embed = self.embedded_at - self.start
        print(
            f"  {label:34s} {total:8.2f} s  (embedding {embed:7.2f} s, scoring and metrics "
            f"{total - embed:6.2f} s)  {pairs / total:10.0f} pairs/s"
        )
        return total


def _cli_evaluate(csv_path: str, store: str, model: str) -> float:
    """Wall seconds of one `main.py evaluate` (interpreter, imports, models included)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO / "main.py"), "evaluate", "--pairs", csv_path,
         "--model", model, "--detector", "mtcnn", "--device", "cpu", "--store", store],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    return time.perf_counter() - start


def bench_store(photos: list[Path], model: str) -> None:
    pairs = all_pairs(photos)
    print(f"store: {len(photos)} photos, {len(pairs)} pairs, model {model}")
    with tempfile.TemporaryDirectory() as folder:
        csv_path = str(Path(folder) / "pairs.csv")
        with open(csv_path, "w") as fh:
            fh.write("image_a,image_b,same\n")
            fh.writelines(f"{p.image_a},{p.image_b},{int(p.same)}\n" for p in pairs)
        store = str(Path(folder) / "store")
        first = _cli_evaluate(csv_path, store, model)
        second = _cli_evaluate(csv_path, store, model)
        print(f"  CLI evaluate, empty store: {first:8.2f} s wall")
        print(f"  CLI evaluate, same store:  {second:8.2f} s wall  -> {first / second:.1f}x faster")
        engine = engine_from_args(runtime(None))
        with EmbeddingStore(store) as opened:
            clock = Clock()
            result = evaluate_pairs(engine, pairs, model, progress=clock, store=opened)
            warm = clock.report("in-process evaluate, same store", len(pairs))
        use = result["embedding_store"]
        print(
            f"    faces embedded {use['faces_embedded']}, from store {use['faces_from_store']}; "
            f"the rest of the CLI's {second:.1f} s is start-up ({second - warm:.1f} s)"
        )


def bench_ray(photos: list[Path], count: int, workers: int, model: str) -> None:
    from core.distributed.ray_chunks import _connect, ray_chunk_runner

    pairs = random_pairs(photos, count)
    print(f"ray: {len(pairs)} random pairs over {len(photos)} photos, model {model}, no store")
    engine = engine_from_args(runtime(None))
    clock = Clock()
    single = evaluate_pairs(engine, pairs, model, progress=clock)
    single_s = clock.report(f"single process ({os.cpu_count()} threads)", len(pairs))
    start = time.perf_counter()
    _connect("local", workers)
    startup = time.perf_counter() - start
    args = argparse.Namespace(**vars(runtime(1)), cluster="local", workers=workers)
    engine = engine_from_args(runtime(None))
    with ray_chunk_runner(args, model) as run_chunks:
        clock = Clock()
        on_ray = evaluate_pairs(engine, pairs, model, progress=clock, run_chunks=run_chunks)
        ray_s = clock.report(f"Ray, {workers} local workers x 1 thread", len(pairs))
    import ray

    ray.shutdown()
    print(f"  Ray start-up {startup:.2f} s (not in the line above)")
    print(
        f"  pairs/s ratio Ray / single: {single_s / ray_s:.2f} "
        f"({single_s / (ray_s + startup):.2f} counting start-up)"
    )
    same = on_ray["metrics"] == single["metrics"]
    cosines = [[p["cosine"] for p in r["per_pair"]] for r in (single, on_ray)]
    gap = float(np.max(np.abs(np.subtract(*cosines))))
    print(
        f"  metrics identical: {same}; largest per-pair difference {gap:.1e} (thread counts differ)"
    )


def bench_search(sizes: list[int], dim: int) -> None:
    import faiss

    from core.gallery_search import GalleryIndex

    rng = np.random.default_rng(0)
    largest = max(sizes)
    print(f"search: synthetic {dim}-d vectors, top {TOP}, mean of {QUERIES} queries")
    gallery = rng.standard_normal((largest, dim), dtype=np.float32)
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    queries = rng.standard_normal((QUERIES, dim), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    for size in sizes:
        part = gallery[:size]
        start = time.perf_counter()
        index = GalleryIndex.build(part)
        build = time.perf_counter() - start
        faiss_ms = {}
        for threads in sorted({1, os.cpu_count()}):
            faiss.omp_set_num_threads(threads)
            start = time.perf_counter()
            found = [index.index.search(q[None, :], TOP)[1][0] for q in queries]
            faiss_ms[threads] = (time.perf_counter() - start) / QUERIES * 1000
        start = time.perf_counter()
        brute = []
        for q in queries:
            scores = part @ q
            best = np.argpartition(-scores, TOP)[:TOP]
            brute.append(best[np.argsort(-scores[best])])
        numpy_ms = (time.perf_counter() - start) / QUERIES * 1000
        agree = all(np.array_equal(a, b) for a, b in zip(found, brute, strict=True))
        print(
            f"  {size:>9,d} vectors: faiss exact "
            + ", ".join(f"{ms:7.2f} ms/query on {t} thread(s)" for t, ms in faiss_ms.items())
            + f" (build {build:5.2f} s), "
            f"numpy {numpy_ms:8.2f} ms/query; same top {TOP}: {agree}"
        )
    start = time.perf_counter()
    ivf = GalleryIndex.build(gallery, exact_limit=0)
    build = time.perf_counter() - start
    start = time.perf_counter()
    approx = [ivf.index.search(q[None, :], TOP)[1][0] for q in queries]
    ivf_ms = (time.perf_counter() - start) / QUERIES * 1000
    recall = np.mean([len(set(a) & set(b)) / TOP for a, b in zip(approx, brute, strict=True)])
    print(
        f"  {largest:>9,d} vectors: faiss IVF ({ivf.description['lists']} lists, "
        f"{ivf.description['probes']} probed) {ivf_ms:8.2f} ms/query (build {build:6.2f} s), "
        f"recall@{TOP} {recall:.3f} (random vectors: the IVF worst case)"
    )
    clustered = _identity_like(rng, largest, dim)
    exact = GalleryIndex.build(clustered)
    ivf = GalleryIndex.build(clustered, exact_limit=0)
    probes = clustered[rng.integers(0, largest, QUERIES)] + 0.05 * rng.standard_normal(
        (QUERIES, dim), dtype=np.float32
    )
    mates = 10  # a cluster's members: the neighbours a search is for
    recall = np.mean(
        [
            len(set(ivf.index.search(q[None, :], mates)[1][0]) & set(exact.top(q, mates)[0]))
            / mates
            for q in probes
        ]
    )
    print(
        f"  {largest:>9,d} identity-like vectors ({largest // 10:,d} clusters of 10): faiss IVF "
        f"recall@{mates} {recall:.3f}"
    )


def _identity_like(rng, count: int, dim: int) -> np.ndarray:
    """Unit vectors in clusters of 10 around random centres (cosine to the centre ~0.7)."""
    centres = rng.standard_normal((count // 10, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.standard_normal((count, dim), dtype=np.float32) / np.sqrt(dim)
    vectors = np.repeat(centres, 10, axis=0) + noise
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default="store,ray,search")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="faceres")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    stages = args.stages.split(",")
    print(
        f"bench_scale: {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    photos = shared_photos(args.images)
    if "store" in stages:
        bench_store(photos, args.model)
    if "ray" in stages:
        bench_ray(photos, args.pairs, args.workers, args.model)
    if "search" in stages:
        bench_search([int(s) for s in args.sizes.split(",")], args.dim)


if __name__ == "__main__":
    main()
