"""The optimisation loop shared by `train` and `distill`: seeded batches, augmentation,
SGD with momentum and polynomial LR decay (arcface_torch's schedule, without
warm-up), AMP on CUDA, periodic resumable checkpoints, progress and cancel.

Batches and augmentations at step t are drawn from generators seeded by
(seed, t) only, so a resumed run continues exactly as an uninterrupted one would
(up to floating-point non-determinism of the device).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch import nn

from core.errors import UsageError
from core.models.checkpoint import (
    META_FILE,
    STATE_META_FILE,
    load_checkpoint,
    load_into,
    load_train_state,
    save_checkpoint,
    save_train_state,
)
from core.training.augmentations import AugmentConfig, augment
from core.training.face_data import (
    batch_generator,
    identity_groups,
    load_batch,
    sample_indices,
    sample_pairs,
)

Progress = Callable[[int, int, dict], None]
HISTORY_POINTS = 200


@dataclass
class LoopConfig:
    steps: int
    batch_size: int
    seed: int
    device: torch.device
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    checkpoint_every: int = 1000
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @property
    def amp(self) -> bool:
        return self.device.type == "cuda"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _groups(objective, data) -> dict | None:
    """identity -> image indices, for objectives that train on pairs (xCos)."""
    return identity_groups(data.labels) if objective.uses_pairs else None


def _batch(objective, data, groups, config: LoopConfig, step: int, augmented: bool):
    g = batch_generator(config.seed, step, 0)
    if groups is not None:
        indices = sample_pairs(data.labels, groups, config.batch_size // 2, g)
    else:
        indices = sample_indices(len(data), config.batch_size, g)
    x, labels = load_batch(data, indices)
    if augmented:
        x = augment(x, config.augment, batch_generator(config.seed, step, 1))
    return x.to(config.device), labels.to(config.device)


def probe_loss(objective, data, groups, config: LoopConfig) -> float:
    """The loss on one fixed, un-augmented batch (batch statistics; BN buffers untouched)."""
    x, labels = _batch(objective, data, groups, config, -1, augmented=False)
    buffers = {k: v.clone() for k, v in objective.state_dict().items() if "running" in k}
    with torch.no_grad():
        value, _ = objective.loss(x, labels)
    objective.load_state_dict(buffers, strict=False)
    return float(value)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, entry in state["state"].items():
        for name, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{name}"] = value
            else:
                scalars[f"{index}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _restore_optimizer(optimizer, tensors: dict, info: dict) -> None:
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for key, value in info["scalars"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})


def _history(losses: list[tuple[int, float]]) -> list[list[float]]:
    stride = max(1, len(losses) // HISTORY_POINTS)
    return [[s, round(v, 6)] for s, v in losses[::stride]]


def run_loop(
    objective: nn.Module,
    data,
    config: LoopConfig,
    out_dir: str | Path,
    meta: dict,
    resume: bool = False,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> dict:
    """Optimise `objective` (whose .net is saved) for config.steps steps; return model.json."""
    out = Path(out_dir)
    net = objective.net
    existing = (out / META_FILE).is_file()
    if existing and not resume:
        raise UsageError(f"{out} already holds a checkpoint; pass --resume or choose a new --out")
    objective.to(config.device).train()
    params = [p for p in objective.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    scaler = torch.amp.GradScaler("cuda", enabled=config.amp)
    step, losses, metrics = 0, [], {}
    groups = _groups(objective, data)
    if existing and resume:
        if not (out / STATE_META_FILE).is_file():
            raise UsageError(f"{out}: no {STATE_META_FILE} to resume from")
        loaded, saved_meta = load_checkpoint(out)
        if saved_meta["architecture"] != meta["architecture"]:
            raise UsageError(f"{out}: the checkpoint's architecture differs from this run's")
        load_into(net, loaded.state_dict(), out)
        tensors, info = load_train_state(out)
        extra = {
            k[len("objective.") :]: v for k, v in tensors.items() if k.startswith("objective.")
        }
        try:
            objective.load_state_dict(extra, strict=False)
        except RuntimeError as exc:
            raise UsageError(f"{out}: the saved training state does not fit this run") from exc
        _restore_optimizer(optimizer, tensors, info)
        step = int(info["step"])
        losses = [tuple(x) for x in info.get("losses", [])]
        metrics = saved_meta.get("metrics", {})
    else:
        metrics["probe_loss_before"] = probe_loss(objective, data, groups, config)
    meta = {**meta, "training": {**meta["training"], "started": _now()}}

    def save(done: int) -> dict:
        head = {
            f"objective.{k}": v
            for k, v in objective.state_dict().items()
            if not k.startswith("net.")
        }
        opt_tensors, opt_info = _optimizer_tensors(optimizer)
        save_train_state(out, {**head, **opt_tensors}, {**opt_info, "step": done, "losses": losses})
        recent = [v for _, v in losses[-10:]]
        full = {
            **meta,
            "training": {**meta["training"], "steps_done": done, "finished": _now()},
            "metrics": {
                **metrics,
                "first_loss": losses[0][1] if losses else None,
                "last_loss_mean_10": sum(recent) / len(recent) if recent else None,
                "loss_history": _history(losses),
            },
        }
        return save_checkpoint(out, net, full)

    began = time.perf_counter()
    start_step = step
    while step < config.steps:
        if cancel is not None and cancel():
            meta["training"]["cancelled_at"] = step
            return save(step)
        lr = config.lr * (1 - step / config.steps) ** 2
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, labels = _batch(objective, data, groups, config, step, augmented=True)
        with torch.autocast(config.device.type, dtype=torch.float16, enabled=config.amp):
            loss, parts = objective.loss(x, labels)
        if not torch.isfinite(loss):
            raise UsageError(f"the loss became {float(loss.detach())} at step {step}; lower --lr")
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        step += 1
        losses.append((step, float(loss.detach())))
        if progress:
            progress(step, config.steps, {"loss": losses[-1][1], "lr": lr, **parts})
        if step % config.checkpoint_every == 0 and step < config.steps:
            save(step)
    seconds = time.perf_counter() - began
    metrics["probe_loss_after"] = probe_loss(objective, data, groups, config)
    metrics["seconds"] = round(seconds, 3)
    metrics["seconds_per_step"] = round(seconds / max(1, step - start_step), 4)
    return save(step)
