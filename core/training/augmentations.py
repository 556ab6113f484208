"""Training augmentations on a batch of aligned faces (B x 3 x 112 x 112, float 0..255).

- Random horizontal flip, p = 0.5 (xCos §4.1, arcface_torch).
- Random shifts of up to +-`max_shift` px in x and y (RRFNet §IV-B: [-5, 5]);
  pixels shifted in are 0, like the border of the alignment warp.
- Masked-patch augmentation (RRFNet §IV-B, ratios 20% and 40%). The paper gives
  no details; our reading: the face is divided into an 8 x 8 grid of 14 px
  blocks (the RRFNet-28 stride) and round(ratio * 64) random blocks per face are
  set to 127.5, i.e. zero after the models' normalisation.

Every random draw comes from the torch.Generator passed in, so a seeded run
repeats exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as nnf

MASK_BLOCK = 14
MASK_FILL = 127.5


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = True
    max_shift: int = 5
    mask_ratio: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def random_flip(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    flip = torch.rand(x.shape[0], generator=g) < 0.5
    out = x.clone()
    out[flip] = x[flip].flip(-1)
    return out


def random_shift(x: torch.Tensor, max_shift: int, g: torch.Generator) -> torch.Tensor:
    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    padded = nnf.pad(x, (max_shift,) * 4, value=0.0)
    offsets = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=g)
    return torch.stack(
        [padded[i, :, oy : oy + h, ox : ox + w] for i, (ox, oy) in enumerate(offsets.tolist())]
    )


def random_block_mask(x: torch.Tensor, ratio: float, g: torch.Generator) -> torch.Tensor:
    if ratio <= 0:
        return x
    b, _, h, w = x.shape
    rows, cols = h // MASK_BLOCK, w // MASK_BLOCK
    count = round(ratio * rows * cols)
    out = x.clone()
    for i in range(b):
        for cell in torch.randperm(rows * cols, generator=g)[:count].tolist():
            r, c = divmod(cell, cols)
            out[
                i, :, r * MASK_BLOCK : (r + 1) * MASK_BLOCK, c * MASK_BLOCK : (c + 1) * MASK_BLOCK
            ] = MASK_FILL
    return out


def augment(x: torch.Tensor, config: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    """Flip, shift, then mask (each only if enabled), drawing from `g`."""
    if config.flip:
        x = random_flip(x, g)
    x = random_shift(x, config.max_shift, g)
    return random_block_mask(x, config.mask_ratio, g)
