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


def peaked_xcos_model(attention: str = "learned") -> XCosFaceModel:
    """A random-initialised xCos net whose learned attention is not uniform."""
    net = tiny_network("xcos")
    with torch.no_grad():
        torch.manual_seed(1)
        net.attention.fuse[-1].weight.normal_(0.0, 0.5)
        net.correlated.copy_(torch.linspace(-0.5, 1.0, 49).reshape(7, 7))
    return XCosFaceModel("x", net, META, CPU, attention)


@pytest.mark.parametrize("attention", ["learned", "correlated"])
def test_explainers_explain_the_reported_xcos_score(attention):
    """The score the explainers and the fidelity test perturb is the engine's xCos,
    not the cosine of the flattened grids (which differs on this net)."""
    from core.explainers.base import BatchRunner, ExplainPair
    from core.explainers.faithfulness import curves
    from core.explainers.xmaps import XMapSettings, explain_xmap

    model = peaked_xcos_model(attention)
    faces = random_faces(2, seed=11)
    reported = score_features(model, *model.cell_features(faces)).cosine
    emb = BatchRunner(model, None, None).embed(faces.astype(np.float32))
    flat_cosine = float(emb[0] @ emb[1] / np.linalg.norm(emb[0]) / np.linalg.norm(emb[1]))
    assert abs(flat_cosine - reported) > 1e-3  # the two scores really differ here
    pair = ExplainPair(faces[0], faces[1], emb[0], emb[1], model)
    assert pair.score == pytest.approx(reported, abs=1e-5)
    xmap = explain_xmap(pair, XMapSettings(patch_sizes=(28,), stride=84), seed=0)
    assert 1.0 - xmap.parameters["d_orig"] == pytest.approx(reported, abs=1e-5)
    runner = BatchRunner(model, None, None)
    for face, other, is_a in ((faces[0], emb[1], True), (faces[1], emb[0], False)):
        deletion, insertion = curves(runner, face, other, np.ones((112, 112)), 2, is_a)
        assert deletion[0] == pytest.approx(reported, abs=1e-5)  # k = 0: nothing deleted
        assert insertion[-1] == pytest.approx(reported, abs=1e-5)  # k = n: all inserted


def test_xcos_gradcam_differentiates_the_xcos_score():
    """Grad-CAM's gradient is that of xCos: a zero-attention cell gets no gradient."""
    from core.explainers.gradcam import similarity_cams

    model = peaked_xcos_model("correlated")
    with torch.no_grad():
        model.net.correlated.zero_()
        model.net.correlated[3, 3] = 1.0  # xCos = s_33 only
    faces = random_faces(2, seed=13)
    emb = np.stack([f.embedding for f in model.cell_features(faces)])
    x = torch.from_numpy(faces[:1].transpose(0, 3, 1, 2).astype(np.float32)).requires_grad_()
    grid, flat = model.spatial_forward(x)
    score = model.score_tensor(flat, torch.from_numpy(emb[1:]).float())
    (grad,) = torch.autograd.grad(score.sum(), grid)
    assert float(grad[0, :, 3, 3].abs().sum()) > 0
    assert float(grad[0, :, :3].abs().sum()) == 0.0  # other cells do not enter xCos
    cams = similarity_cams(model, faces[:1], emb[1:], False)
    assert np.isfinite(cams).all()


@pytest.mark.parametrize("arch", ["xcos", "rrfnet56"])
def test_forward_residual_checks_the_terms_against_the_forward_pass(arch):
    from core.forward_check import forward_score

    model = (
        peaked_xcos_model()
        if arch == "xcos"
        else TrainedRRFModel("t", tiny_network(arch), META, CPU)
    )
    faces = random_faces(2, seed=17)
    dec = score_features(model, *model.cell_features(faces))
    assert abs(forward_score(model, faces[0], faces[1]) - dec.total) <= 1e-5


def test_forward_residual_catches_a_wrong_split_that_residual_cannot():
    """Drop one cell: the terms still sum to the cosine of the cells (residual 0),
    but no longer to the model's own score (forward residual large)."""
    from core.forward_check import forward_score

    model = TrainedRRFModel("t", tiny_network("rrfnet56"), META, CPU)
    faces = random_faces(2, seed=19)
    cells = model.cell_features(faces)
    broken = [type(c)(cells=c.cells[:-1], bias=None) for c in cells]
    dec = score_features(model, *broken)
    assert dec.residual <= 1e-9
    assert abs(forward_score(model, faces[0], faces[1]) - dec.total) > 1e-3
