"""Training, distillation, resume, augmentations, margin heads (tiny CPU runs)."""

from __future__ import annotations

import math

import pytest
import torch
from trainable_synthetic import TINY_WIDTH, SyntheticFaces

from core.errors import UsageError
from core.models.checkpoint import load_checkpoint
from core.training.augmentations import (
    MASK_BLOCK,
    MASK_FILL,
    random_block_mask,
    random_shift,
)
from core.training.jobs import JobConfig, distill, train
from core.training.margin_heads import MarginHead

CPU = torch.device("cpu")
PLAIN = {"flip": False, "max_shift": 0, "mask_ratio": 0.0}


def job(tmp_path, arch, data, steps, name="ckpt", **kw):
    from core.training.augmentations import AugmentConfig

    augment = AugmentConfig(**kw.pop("augment", PLAIN))
    return JobConfig(
        arch=arch,
        data=data,
        out=tmp_path / name,
        device=CPU,
        width=TINY_WIDTH,
        steps=steps,
        lr=kw.pop("lr", 0.05),
        augment=augment,
        **kw,
    )


def test_identity_training_lowers_the_loss_rrfnet56(tmp_path):
    meta = train(job(tmp_path, "rrfnet56", SyntheticFaces(2, 2), steps=3, batch_size=4))
    m = meta["metrics"]
    assert m["probe_loss_after"] < m["probe_loss_before"]
    assert meta["training"]["method"] == "identity" and meta["training"]["steps_done"] == 3
    _, loaded = load_checkpoint(tmp_path / "ckpt")
    assert loaded["weights_sha256"] == meta["weights_sha256"]


@pytest.mark.slow
def test_xcos_multitask_training_lowers_the_loss_and_fits_p(tmp_path):
    meta = train(job(tmp_path, "xcos", SyntheticFaces(2, 2), steps=2, batch_size=4))
    m = meta["metrics"]
    assert m["probe_loss_after"] < m["probe_loss_before"]
    assert meta["correlated_attention_ready"] is True
    net, _ = load_checkpoint(tmp_path / "ckpt")
    p = net.correlated
    assert p.shape == (7, 7) and torch.all(p.abs() <= 1.0 + 1e-6) and p.abs().sum() > 0


@pytest.mark.slow
def test_distillation_lowers_its_loss(tmp_path):
    meta = distill(job(tmp_path, "rrfnet56", SyntheticFaces(2, 2), steps=3, batch_size=4, lr=0.1))
    m = meta["metrics"]
    assert m["probe_loss_after"] < m["probe_loss_before"]
    assert meta["training"]["method"] == "distillation"
    assert meta["training"]["teacher"] == "faceres"


@pytest.mark.slow
def test_resumed_run_matches_an_uninterrupted_one(tmp_path):
    data = SyntheticFaces(2, 2)
    kw = {"batch_size": 2, "augment": {"flip": True, "max_shift": 5, "mask_ratio": 0.2}}
    straight = train(job(tmp_path, "rrfnet56", data, steps=2, name="a", **kw))
    first = job(tmp_path, "rrfnet56", data, steps=2, name="b", **kw)
    stopped = {"n": 0}

    def cancel_after_one():
        stopped["n"] += 1
        return stopped["n"] > 1

    half = train(first, cancel=cancel_after_one)
    assert half["training"]["steps_done"] == 1 and half["training"]["cancelled_at"] == 1
    with pytest.raises(UsageError, match="--resume"):
        train(job(tmp_path, "rrfnet56", data, steps=2, name="b", **kw))
    resumed = train(job(tmp_path, "rrfnet56", data, steps=2, name="b", resume=True, **kw))
    assert resumed["training"]["steps_done"] == 2
    net_a, _ = load_checkpoint(tmp_path / "a")
    net_b, _ = load_checkpoint(tmp_path / "b")
    for (k, va), vb in zip(net_a.state_dict().items(), net_b.state_dict().values(), strict=True):
        assert torch.allclose(va.float(), vb.float(), atol=1e-5), k
    assert straight["weights_sha256"]


def test_identity_training_needs_two_identities(tmp_path):
    with pytest.raises(UsageError, match="2 identities"):
        train(job(tmp_path, "rrfnet56", SyntheticFaces(1, 2), steps=1, batch_size=2))


def test_shift_moves_content_and_mask_covers_the_ratio():
    x = torch.arange(112.0).repeat(1, 3, 112, 1)  # value = column index
    shifted = random_shift(x, 5, torch.Generator().manual_seed(1))
    assert shifted.shape == x.shape
    row = shifted[0, 0, 50]
    offset = row[56] - 56
    assert abs(offset) <= 5 and torch.all(row[10:100] == torch.arange(10.0, 100.0) + offset)
    masked = random_block_mask(torch.zeros(2, 3, 112, 112), 0.2, torch.Generator().manual_seed(0))
    blocks = (masked[:, 0] == MASK_FILL).float().sum(dim=(1, 2)) / MASK_BLOCK**2
    assert blocks.tolist() == [round(0.2 * 64)] * 2


@pytest.mark.parametrize("kind", ["arcface", "cosface"])
def test_margin_head_target_logit(kind):
    head = MarginHead(kind, 2, 2)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    theta = 0.6
    emb = torch.tensor([[math.cos(theta), math.sin(theta)]])
    with torch.no_grad():
        logits = head.logits(emb, torch.tensor([0]))
    expected = math.cos(theta + 0.5) if kind == "arcface" else math.cos(theta) - 0.4
    assert float(logits[0, 0]) == pytest.approx(64 * expected, abs=1e-3)
    assert float(logits[0, 1]) == pytest.approx(64 * math.sin(theta), abs=1e-3)
