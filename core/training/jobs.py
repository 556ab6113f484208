"""The two jobs behind `train` and `distill`: build the network, the data and the
objective, run the loop, and (xCos) fit the correlated attention P at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.errors import UsageError
from core.models.checkpoint import ARCHITECTURES, build_network, save_checkpoint
from core.models.rrfnet import ARCH_LAYOUTS, rrfnet_backbone
from core.models.xcos import XCosNet, xcos_backbone
from core.training.augmentations import AugmentConfig
from core.training.correlated_attention import fit_correlated_attention
from core.training.loop import LoopConfig, run_loop
from core.training.margin_heads import MarginHead
from core.training.objectives import (
    IdentityObjective,
    RelationalDistillation,
    XCosIdentityObjective,
)
from core.training.teacher import Teacher

DEFAULT_EPOCHS = 20  # RRFNet §IV: 20-30 epochs; xCos decays its LR at epochs 12/15/18


@dataclass
class JobConfig:
    arch: str
    data: object  # a face source (face_data / face_folder)
    out: Path
    device: object
    backbone: str = "r18"
    width: int = 64
    epochs: int | None = None
    steps: int | None = None
    batch_size: int = 128
    seed: int = 0
    lr: float = 0.1
    margin: str = "arcface"
    xcos_weight: float = 1.0
    teacher: str = "faceres"
    checkpoint_every: int = 1000
    resume: bool = False
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def total_steps(self) -> int:
        if self.steps is not None:
            if self.steps < 1:
                raise UsageError("--steps must be at least 1")
            return self.steps
        epochs = self.epochs if self.epochs is not None else DEFAULT_EPOCHS
        if epochs < 1:
            raise UsageError("--epochs must be at least 1")
        return epochs * math.ceil(len(self.data) / self.batch_size)


def architecture(arch: str, backbone: str, width: int) -> dict:
    if arch not in ARCHITECTURES:
        raise UsageError(f"unknown --arch '{arch}'; choose from {', '.join(ARCHITECTURES)}")
    if arch in ARCH_LAYOUTS:
        config = rrfnet_backbone(arch, backbone, width)
    else:
        config = xcos_backbone(backbone, width)
    return {"arch": arch, "backbone": config.to_json()}


def _seeded(seed: int, make, *args):
    """`make(*args)` with torch's global RNG seeded by `seed` (and restored afterwards)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make(*args)


def _loop_config(job: JobConfig) -> LoopConfig:
    if job.batch_size < 2:
        raise UsageError("--batch-size must be at least 2")
    return LoopConfig(
        steps=job.total_steps(),
        batch_size=job.batch_size,
        seed=job.seed,
        device=job.device,
        lr=job.lr,
        checkpoint_every=job.checkpoint_every,
        augment=job.augment,
    )


def _meta(job: JobConfig, arch: dict, method: str, objective, loop: LoopConfig) -> dict:
    net = objective.net
    embedding = (
        net.embedding_size if isinstance(net, XCosNet) else arch["backbone"]["embedding_size"]
    )
    return {
        "name": job.out.name,
        "architecture": arch,
        "layout": {"rrfnet56": "rrf56", "rrfnet28": "rrf28"}.get(job.arch, "grid 7x7"),
        "embedding_size": embedding,
        "training": {
            "method": method,
            "arch": job.arch,
            "steps_total": loop.steps,
            "batch_size": loop.batch_size,
            "seed": loop.seed,
            "lr": loop.lr,
            "schedule": "polynomial decay, power 2, no warm-up",
            "optimizer": f"SGD momentum {loop.momentum}, weight decay {loop.weight_decay}",
            "augment": loop.augment.to_json(),
            "device": str(loop.device),
            "amp": loop.amp,
            "data": job.data.describe(),
            "objective": objective.describe(),
            **({"teacher": job.teacher} if method == "distillation" else {}),
        },
    }


def _finish_xcos(objective, job: JobConfig, meta: dict, teacher: Teacher) -> dict:
    """Fit P (Eq. 6) after training and re-save the checkpoint with it."""
    info = fit_correlated_attention(objective.net, teacher, job.data, job.device, job.seed)
    meta = {**meta, "correlated_attention_ready": info["ready"], "correlated_attention": info}
    return save_checkpoint(job.out, objective.net, meta)


def train(
    job: JobConfig,
    progress: Callable[[int, int, dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> dict:
    """Identity training (ArcFace/CosFace; xCos adds L_cos, Eq. 10). Returns model.json."""
    if job.data.num_classes < 2:
        raise UsageError(
            f"identity training needs at least 2 identities, found {job.data.num_classes}"
        )
    arch = architecture(job.arch, job.backbone, job.width)
    net = _seeded(job.seed, build_network, arch)
    loop = _loop_config(job)
    if isinstance(net, XCosNet):
        teacher = Teacher(job.teacher, job.device)
        head = _seeded(job.seed, MarginHead, job.margin, net.embedding_size, job.data.num_classes)
        objective = XCosIdentityObjective(net, head, teacher, job.xcos_weight)
    else:
        teacher = None
        size = arch["backbone"]["embedding_size"]
        head = _seeded(job.seed, MarginHead, job.margin, size, job.data.num_classes)
        objective = IdentityObjective(net, head)
    meta = run_loop(
        objective,
        job.data,
        loop,
        job.out,
        _meta(job, arch, "identity", objective, loop),
        job.resume,
        progress,
        cancel,
    )
    if teacher is not None and "cancelled_at" not in meta["training"]:
        meta = _finish_xcos(objective, job, meta, teacher)
    return meta


def distill(
    job: JobConfig,
    progress: Callable[[int, int, dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> dict:
    """Label-free relational distillation from the teacher. Returns model.json."""
    arch = architecture(job.arch, job.backbone, job.width)
    net = _seeded(job.seed, build_network, arch)
    loop = _loop_config(job)
    teacher = Teacher(job.teacher, job.device)
    objective = RelationalDistillation(net, teacher)
    meta = run_loop(
        objective,
        job.data,
        loop,
        job.out,
        _meta(job, arch, "distillation", objective, loop),
        job.resume,
        progress,
        cancel,
    )
    if isinstance(net, XCosNet) and "cancelled_at" not in meta["training"]:
        meta = _finish_xcos(objective, job, meta, teacher)
    return meta
