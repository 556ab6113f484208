"""Pack recognition models: a synthetic IResNet exported to ONNX in insightface's layout.

The head (BN2d -> Flatten -> Gemm -> BN1d) is parsed from the graph and applied in
float64; the cosine must split exactly into 49x49 cell terms plus bias terms.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from core.decomposition import decompose
from core.errors import ModelNotFoundError
from core.models import onnx_pack
from core.models.iresnet import BackboneConfig, IResNet
from core.models.onnx_pack import PackRecognitionModel, add_pack_dir, pack_models
from core.models.registry import available_model_ids, load_model


def _randomise_batch_norms(net: torch.nn.Module, seed: int) -> None:
    """Non-trivial BN statistics, so that a wrongly parsed head cannot pass."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packs") / "synthetic_pack"
    folder.mkdir()
    torch.manual_seed(0)
    net = IResNet(BackboneConfig(width=8, embedding_size=32)).eval()
    _randomise_batch_norms(net, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter
        torch.onnx.export(
            net,
            torch.zeros(1, 3, 112, 112),
            str(folder / "w600k_tiny.onnx"),
            dynamo=False,
            input_names=["input.1"],
            output_names=["embedding"],
            dynamic_axes={"input.1": {0: "batch"}, "embedding": {0: "batch"}},
        )
    (folder / "not_a_model.onnx").write_bytes(b"not onnx")
    add_pack_dir(folder)
    yield folder, net
    onnx_pack._extra_dirs.remove(folder)  # later test modules must not see this pack


def test_pack_is_listed_and_loads(pack):
    assert "pack:synthetic_pack/w600k_tiny" in pack_models()
    assert "pack:synthetic_pack/not_a_model" not in pack_models()
    assert "pack:synthetic_pack/w600k_tiny" in available_model_ids()
    model = load_model("pack:synthetic_pack/w600k_tiny", torch.device("cpu"))
    assert model.layout.count == 49
    assert model.raw_pixels  # the IResNet normalises its input inside the graph


def test_cells_rebuild_torch_embedding_and_split_the_cosine_exactly(pack):
    folder, net = pack
    model = PackRecognitionModel("pack:synthetic_pack/w600k_tiny", folder / "w600k_tiny.onnx")
    rng = np.random.default_rng(5)
    faces = rng.integers(0, 256, (2, 112, 112, 3), dtype=np.uint8)
    a, b = model.cell_features(faces)
    with torch.inference_mode():
        reference = net(torch.from_numpy(faces.transpose(0, 3, 1, 2).astype(np.float32)))
    np.testing.assert_allclose(a.embedding, reference[0].double().numpy(), rtol=1e-3, atol=1e-4)
    d = decompose(a, b, model.layout)
    assert d.pair_matrix.shape == (49, 49)
    assert np.abs(d.bias_a).sum() > 0  # the head's bias terms are there
    assert d.residual < 1e-5


def test_a_graph_without_the_head_is_refused(tmp_path):
    class NoHead(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    path = tmp_path / "nohead.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(NoHead(), torch.zeros(1, 3, 112, 112), str(path), dynamo=False)
    with pytest.raises(ModelNotFoundError, match="not an ArcFace-style head"):
        PackRecognitionModel("pack:x/nohead", path)
