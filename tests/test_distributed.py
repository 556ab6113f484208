"""Embedding on a local Ray cluster (2 CPUs, started once for the module): the same
metrics as one process, and a worker killed mid-run loses and doubles nothing."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core.batch_embedding import embed_images
from core.evaluation import LabelledPair, evaluate_pairs

pytestmark = pytest.mark.slow
MODEL = "mobileface"
TASK_TITLE = b"ray::_embed_in_worker"


@pytest.fixture(scope="module")
def cluster():
    from core.distributed.ray_chunks import _connect

    pytest.importorskip("ray")
    import ray

    assert _connect("local", 2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def identity_pairs(faces_dir):
    photos = sorted((faces_dir / "identities").glob("*/*"))
    return [LabelledPair(a, b, a.parent == b.parent) for a, b in itertools.combinations(photos, 2)]


def cluster_args(**extra) -> SimpleNamespace:
    settings = dict(device="cpu", detector="mtcnn", detector_pack=None, max_pixels=None)
    return SimpleNamespace(**settings, threads=1, cluster="local", workers=None, **extra)


@pytest.fixture(scope="module")
def one_thread_run(engine, identity_pairs):
    """The single-process reference, with the workers' thread count (one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return evaluate_pairs(engine, identity_pairs, MODEL)
    finally:
        torch.set_num_threads(before)


def test_ray_evaluate_gives_identical_metrics_to_one_process(
    cluster, engine, identity_pairs, one_thread_run
):
    from core.distributed.ray_chunks import ray_chunk_runner

    engine._features.clear()  # noqa: SLF001 - every face must come from the workers
    with ray_chunk_runner(cluster_args(), MODEL) as run_chunks:
        on_ray = evaluate_pairs(engine, identity_pairs, MODEL, run_chunks=run_chunks)
    assert on_ray["embedding_store"]["faces_embedded"] == one_thread_run["images"]
    assert on_ray["metrics"] == one_thread_run["metrics"]
    assert on_ray["per_pair"] == one_thread_run["per_pair"]


def _kill_first_task_worker(killed: list[int], stop: threading.Event) -> None:
    """SIGKILL the first process seen running an embedding task."""
    while not stop.is_set():
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(TASK_TITLE):
                    os.kill(int(proc.name), signal.SIGKILL)
                    killed.append(int(proc.name))
                    return
            except OSError:
                continue
        time.sleep(0.02)


def test_a_worker_killed_mid_run_is_retried_and_no_image_is_lost_or_doubled(
    cluster, engine, identity_pairs, one_thread_run
):
    from core.distributed.ray_chunks import ray_chunk_runner

    images = sorted({p.image_a for p in identity_pairs} | {p.image_b for p in identity_pairs})
    killed, stop, chunks_seen = [], threading.Event(), []
    killer = threading.Thread(target=_kill_first_task_worker, args=(killed, stop))
    killer.start()
    try:
        with ray_chunk_runner(cluster_args(), MODEL) as run_chunks:

            def counted(chunks):
                for results in run_chunks(chunks):
                    chunks_seen.append([r.path for r in results])
                    yield results

            embedded = embed_images(
                engine, engine.model(MODEL), images, run_chunks=counted, chunk=3
            )
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was running a task to kill"
    seen = [path for chunk in chunks_seen for path in chunk]
    assert sorted(seen) == images  # each image came back exactly once
    assert embedded.embedded == len(images) and not embedded.failed
    unit = {p: e / np.linalg.norm(e) for p, e in embedded.embeddings.items()}
    for pair, reference in zip(identity_pairs, one_thread_run["per_pair"], strict=True):
        assert float(unit[pair.image_a] @ unit[pair.image_b]) == pytest.approx(
            reference["cosine"], abs=1e-12
        )


def test_evaluate_cli_on_the_cluster_reuses_it_and_matches(
    cluster, identity_pairs, one_thread_run, tmp_path
):
    import json

    from core.cli.entry import main

    csv_path, out = tmp_path / "pairs.csv", tmp_path / "eval.json"
    rows = [f"{p.image_a},{p.image_b},{int(p.same)}" for p in identity_pairs]
    csv_path.write_text("image_a,image_b,same\n" + "\n".join(rows) + "\n")
    argv = ["evaluate", "--pairs", str(csv_path), "--model", MODEL, "--detector", "mtcnn"]
    argv += ["--device", "cpu", "--store", str(tmp_path / "store"), "--json", str(out)]
    assert main([*argv, "--cluster", "local"]) == 0
    assert cluster.is_initialized()  # a running cluster is joined, not stopped
    result = json.loads(out.read_text())
    assert result["embedding_store"]["faces_embedded"] == result["images"]
    assert result["per_pair"] == one_thread_run["per_pair"]
