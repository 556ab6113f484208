"""IResNet, RRFNet and xCos: shapes, restricted receptive fields, exact decompositions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from trainable_synthetic import random_faces, tiny_network

from core.engine import pair_score, score_features
from core.models.iresnet import BackboneConfig, IResNet
from core.models.rrfnet import TRAINED_LABEL, TrainedRRFModel
from core.models.xcos import XCOS_CELL_LABEL, XCosFaceModel

CPU = torch.device("cpu")
META = {"architecture": {}, "training": {"method": "identity"}}


@pytest.mark.parametrize(("depth", "millions"), [("r18", 24.0), ("r100", 65.2)])
def test_iresnet_depths_have_the_arcface_torch_sizes(depth, millions):
    net = IResNet(BackboneConfig(depth=depth))
    count = sum(p.numel() for p in net.parameters()) / 1e6
    assert count == pytest.approx(millions, abs=0.1)


@pytest.mark.parametrize(("size", "stride", "side"), [(112, 2, 7), (56, 1, 7), (28, 1, 4)])
def test_first_stride_sets_the_final_map(size, stride, side):
    config = BackboneConfig(input_size=size, first_stride=stride, width=4)
    net = IResNet(config).eval()
    with torch.no_grad():
        fmap = net.feature_map(torch.full((2, 3, size, size), 127.5))
        emb = net(torch.rand(2, 3, size, size) * 255)
    assert fmap.shape == (2, 32, side, side) and config.map_size == side
    assert emb.shape == (2, 512)


@pytest.mark.parametrize(("arch", "patches"), [("rrfnet56", 5), ("rrfnet28", 33)])
def test_rrfnet_patch_and_pair_counts(arch, patches):
    model = TrainedRRFModel("t", tiny_network(arch), META, CPU)
    a, b = model.cell_features(random_faces(2))
    assert a.cells.shape == (patches, 512)
    dec = score_features(model, a, b)
    assert dec.pair_matrix.size == patches * patches
    assert dec.residual <= 1e-5
    assert model.layout.kind == "restricted" and model.layout.label == TRAINED_LABEL
    with pytest.raises(NotImplementedError):
        model.spatial_forward(torch.zeros(1, 3, 112, 112))


@pytest.mark.parametrize("arch", ["rrfnet56", "rrfnet28"])
def test_patch_feature_ignores_pixels_outside_its_patch(arch):
    net = tiny_network(arch)
    faces = torch.from_numpy(random_faces(1, seed=3).transpose(0, 3, 1, 2).astype(np.float32))
    p = net.patch_size
    for index in (net.patch_count - 1,):
        x0, y0 = net.positions[index]
        changed = torch.rand_like(faces) * 255
        changed[:, :, y0 : y0 + p, x0 : x0 + p] = faces[:, :, y0 : y0 + p, x0 : x0 + p]
        with torch.no_grad():
            before = net.patch_features(faces)
            after = net.patch_features(changed)
        assert torch.allclose(before[0, index], after[0, index], atol=1e-5)
        assert not torch.allclose(before[0], after[0], atol=1e-3)  # other patches did move


def test_rrfnet_embed_tensor_matches_cells():
    model = TrainedRRFModel("t", tiny_network("rrfnet56"), META, CPU)
    faces = random_faces(2, seed=5)
    cells = model.cell_features(faces)
    x = torch.from_numpy(faces.transpose(0, 3, 1, 2).astype(np.float32))
    with torch.no_grad():
        emb = model.embed_tensor(x).double().numpy()
    for c, e in zip(cells, emb, strict=True):
        assert np.allclose(c.embedding, e, atol=1e-5)


@pytest.mark.parametrize("attention", ["learned", "unit", "correlated"])
def test_xcos_decomposition_is_49_diagonal_terms_summing_to_xcos(attention):
    net = tiny_network("xcos")
    net.correlated.copy_(torch.linspace(-0.5, 1.0, 49).reshape(7, 7))
    model = XCosFaceModel("x", net, META, CPU, attention)
    faces = random_faces(2, seed=7)
    a, b = model.cell_features(faces)
    dec = score_features(model, a, b)
    assert dec.pair_matrix.shape == (49, 49)
    assert np.count_nonzero(dec.pair_matrix - np.diag(np.diag(dec.pair_matrix))) == 0
    assert dec.residual <= 1e-5
    assert pair_score(model, a, b) == dec.cosine
    assert model.layout.label == XCOS_CELL_LABEL
    # Independent check: xCos = <S, W>_F straight from the network.
    x = torch.from_numpy(faces.transpose(0, 3, 1, 2).astype(np.float32))
    with torch.no_grad():
        grid = net.grid(x)
        score, s, w = net.xcos(grid[:1], grid[1:], attention)
    assert dec.cosine == pytest.approx(float(score[0]), abs=1e-6)
    assert float((s * w).sum()) == pytest.approx(dec.total, abs=1e-5)
    if attention == "learned":
        assert float(w.sum()) == pytest.approx(1.0, abs=1e-6)


def test_xcos_cells_sum_to_the_flattened_grid():
    net = tiny_network("xcos")
    model = XCosFaceModel("x", net, META, CPU, "learned")
    faces = random_faces(1, seed=9)
    (f,) = model.cell_features(faces)
    with torch.no_grad():
        flat = model.embed_tensor(torch.from_numpy(faces.transpose(0, 3, 1, 2).astype(np.float32)))
    assert f.cells.shape == (49, 1568)
    assert np.allclose(f.embedding, flat[0].double().numpy(), rtol=1e-5, atol=1e-4)
