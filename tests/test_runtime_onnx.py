"""The ONNX Runtime fast path equals the torch reference, and its export cache is hashed.

Real photos: the aligned obama faces, plain and with an X-Maps-style occlusion,
through every bundled full-face model with an export. The export's graph clean-up
(core.models.onnx_graph) is checked on a synthetic graph with a known answer.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import torch

from core.batch_embedding import embed_images
from core.embedding_store import EmbeddingStore, Producer
from core.errors import UsageError
from core.explainers.base import BatchRunner, pair_from_comparison
from core.explainers.corrrise import CorrRiseSettings
from core.explainers.registry import explain
from core.models import onnx_runtime
from core.models.onnx_runtime import exported_onnx, with_runtime
from core.models.registry import load_model


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test exports into its own cache folder, with no session kept from another test."""
    monkeypatch.setenv("PATCHWISE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(onnx_runtime, "_sessions", {})


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def comparison_of(engine, faces_dir):
    """The obama pair under a model, compared once per model when a test first asks."""
    photos = [faces_dir / "identities" / "obama" / f"obama_{n}.jpg" for n in (1, 2)]
    return functools.cache(lambda model_id: engine.compare(*photos, model_id))


@pytest.mark.parametrize(
    "model_id",
    [
        "mobileface",
        pytest.param("faceres", marks=pytest.mark.slow),
        "dlib-resnet",  # the default model
    ],
)
def test_onnx_embeddings_equal_the_torch_reference(comparison_of, model_id):
    comparison = comparison_of(model_id)
    faces = np.stack([comparison.a.aligned.image, comparison.b.aligned.image]).astype(np.float32)
    occluded = faces.copy()
    s = faces.shape[1]
    occluded[:, s // 3 : s // 2, s // 4 : s // 2] = 0.0  # an occluder over one eye
    batch = np.concatenate([faces, occluded])
    reference = BatchRunner(load_model(model_id, torch.device("cpu")), None, None).embed(batch)
    fast_model = with_runtime(load_model(model_id, torch.device("cpu")), "onnx", 2)
    assert fast_model.runtime == "onnx"
    fast = BatchRunner(fast_model, None, None).embed(batch)
    assert np.abs(unit(fast) - unit(reference)).max() < 1e-4
    # the unperturbed faces also match the engine's cells, which the decomposition uses
    cells = np.stack([comparison.a.features.embedding, comparison.b.features.embedding])
    assert np.abs(unit(fast[:2]) - unit(cells)).max() < 1e-4


def test_explanation_records_the_runtime_and_the_score_stays_the_reference(comparison_of):
    comparison = comparison_of("mobileface")
    ex = explain("corrrise", comparison, CorrRiseSettings(masks=16), 0, runtime="onnx")
    assert ex.runtime["runtime"] == "onnx" and len(ex.runtime["onnx_sha256"]) == 64
    assert ex.to_json()["runtime"]["onnxruntime_providers"] == ["CPUExecutionProvider"]
    pair = pair_from_comparison(comparison, runtime="onnx")
    assert np.array_equal(pair.emb_a, comparison.a.features.embedding)
    gradcam = explain("gradcam", comparison, None, 0, runtime="onnx")
    assert gradcam.runtime["runtime"] == "torch"  # gradients always run on the reference


@pytest.mark.slow
def test_export_is_cached_hashed_and_redone_when_altered(tmp_path):
    model = load_model("mobileface", torch.device("cpu"))
    path, digest = exported_onnx(model)
    assert path.is_relative_to(tmp_path) and model.describe()["weights_sha256"][:16] in path.name
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["onnx_sha256"] == digest and sidecar["probe_max_unit_difference"] < 1e-4
    stamp = path.stat().st_mtime_ns
    assert exported_onnx(model) == (path, digest) and path.stat().st_mtime_ns == stamp
    path.write_bytes(path.read_bytes()[:-10] + b"tampered!!")
    again, digest_again = exported_onnx(model)
    assert again == path and digest_again == digest  # exported afresh, same bytes


def test_models_without_an_export_stay_on_torch_and_bad_names_are_refused():
    rrf = load_model("faceres-rrf56", torch.device("cpu"))
    assert with_runtime(rrf, "onnx") is rrf
    assert "no ONNX export" in onnx_runtime.onnx_unavailable_reason(rrf)
    with pytest.raises(UsageError):
        with_runtime(rrf, "tensorrt")


def test_an_unwritable_cache_is_a_clear_usage_error(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("PATCHWISE_CACHE_DIR", str(blocked))
    with pytest.raises(UsageError, match="--runtime torch"):
        with_runtime(load_model("mobileface", torch.device("cpu")), "onnx")


def test_batch_embedding_on_onnx_equals_torch_and_is_stored_under_its_own_key(
    engine, faces_dir, tmp_path
):
    photos = [faces_dir / "identities" / "obama" / f"obama_{n}.jpg" for n in (1, 2, 3)]
    model = engine.model("mobileface")
    with EmbeddingStore(tmp_path / "store") as store:
        torch_run = embed_images(engine, model, photos, store=store)
        onnx_run = embed_images(engine, model, photos, store=store, runtime="onnx")
        assert onnx_run.from_store == 0 and onnx_run.embedded == 3  # torch's entries not reused
        again = embed_images(engine, model, photos, store=store, runtime="onnx")
        assert again.from_store == 3 and again.embedded == 0
        with pytest.raises(UsageError, match="cell features come from torch"):
            embed_images(engine, model, photos, store=store, runtime="onnx", with_cells=True)
    for photo in photos:
        reference = unit(torch_run.embeddings[photo][None])
        assert np.abs(unit(onnx_run.embeddings[photo][None]) - reference).max() < 1e-4
        assert np.array_equal(again.embeddings[photo], onnx_run.embeddings[photo])
        assert not np.array_equal(onnx_run.embeddings[photo], torch_run.embeddings[photo])
    torch_key = Producer.of(engine.detector, model).model
    onnx_key = Producer.of(engine.detector, with_runtime(model, "onnx")).model
    assert onnx_key.startswith(torch_key + "+onnx@")
