"""The converted faceres/mobileface weights reproduce the original TF.js graphs.

The fixtures in tests/fixtures/conversion/ were written by
`tools/convert_models.py --write-fixtures`: the outputs of an independent numpy interpreter
of the TF.js graphs (tools/tfjs_reference.py, float64) on fixed synthetic inputs, which are
regenerated here from their seeds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import ModelNotFoundError
from core.models.faceres_net import load_faceres
from core.models.mobileface_net import load_mobileface

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / "resources" / "models"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "conversion"
TOLERANCE = 1e-4  # max |torch - reference| relative to max |reference|


def _reference_module():
    path = REPO / "tools" / "tfjs_reference.py"
    spec = importlib.util.spec_from_file_location("tfjs_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(name: str, loader, size: int) -> dict:
    fixture = dict(np.load(FIXTURES / f"{name}.npz", allow_pickle=False))
    x = _reference_module().synthetic_inputs(size)
    np.testing.assert_array_equal(
        x.astype(np.float64).sum(axis=(1, 2, 3)),
        fixture["inputs_sum"],
        err_msg="the synthetic inputs no longer match the ones the fixtures were made from",
    )
    model = loader(MODELS_DIR / f"{name}.safetensors")
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    with torch.inference_mode():
        fmap = model(xt)
        emb = model.embed(xt)
    return {"fixture": fixture, "model": model, "map": fmap, "embedding": emb}


@pytest.fixture(scope="module")
def faceres() -> dict:
    return _run("faceres", load_faceres, 224)


@pytest.fixture(scope="module")
def mobileface() -> dict:
    return _run("mobileface", load_mobileface, 112)


def _relative_error(actual: torch.Tensor, reference: np.ndarray) -> float:
    error = np.abs(actual.numpy().astype(np.float64) - reference).max()
    return float(error / np.abs(reference).max())


@pytest.mark.parametrize("output", ["embedding", "map"])
def test_faceres_matches_graph(faceres, output):
    reference = faceres["fixture"][output]
    assert faceres[output].shape == reference.shape
    assert _relative_error(faceres[output], reference) <= TOLERANCE


@pytest.mark.parametrize("output", ["embedding", "map"])
def test_mobileface_matches_graph(mobileface, output):
    reference = mobileface["fixture"][output]
    assert mobileface[output].shape == reference.shape
    assert _relative_error(mobileface[output], reference) <= TOLERANCE


@pytest.mark.slow
def test_faceres_shapes_and_embedding_is_map_mean(faceres):
    fmap, emb = faceres["map"], faceres["embedding"]
    assert fmap.shape[1:] == (1024, 7, 7) and emb.shape[1:] == (1024,)
    torch.testing.assert_close(emb, fmap.mean(dim=(2, 3)), rtol=0, atol=1e-6)
    # The graph itself: global_pooling/Mean is the mean of the 7x7 cells.
    reference = faceres["fixture"]
    cell_mean = reference["map"].mean(axis=(2, 3))
    np.testing.assert_allclose(cell_mean, reference["embedding"], atol=1e-6)


def test_mobileface_head_is_affine_in_cells(mobileface):
    model, fmap, emb = mobileface["model"], mobileface["map"], mobileface["embedding"]
    weights, bias = model.head_cell_weights(), model.head_bias()
    assert weights.shape == (16, 256, 128) and bias.shape == (256,)
    cells = fmap.double().flatten(2)  # B x 128 x 16, cell c = h * 4 + w
    rebuilt = torch.einsum("coi,bic->bo", weights.double(), cells) + bias.double()
    error = (rebuilt - emb.double()).abs().max() / emb.double().abs().max()
    assert float(error) <= 1e-5


def test_mobileface_embedding_is_not_normalised(mobileface):
    norms = mobileface["embedding"].norm(dim=1)
    assert not torch.allclose(norms, torch.ones_like(norms), atol=1e-2)


@pytest.mark.parametrize("name", ["faceres", "mobileface"])
def test_manifest_matches_files(name):
    entry = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))[name]
    data = (MODELS_DIR / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert len(data) == entry["size_bytes"]
    assert entry["license"]["spdx"] == "MIT"
    fixture = np.load(FIXTURES / f"{name}.npz", allow_pickle=False)
    assert sorted(entry["source_files"].values()) == fixture["source_sha256"].tolist()


def test_loaders_reject_wrong_weights(tmp_path):
    with pytest.raises(ModelNotFoundError):
        load_faceres(MODELS_DIR / "mobileface.safetensors")
    with pytest.raises(ModelNotFoundError):
        load_mobileface(tmp_path / "missing.safetensors")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelNotFoundError):
        load_mobileface(broken)
