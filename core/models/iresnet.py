"""IResNet backbones in the arcface_torch style (Deng et al., ArcFace; insightface arcface_torch).

An IR block is BN -> conv3x3 -> BN -> PReLU -> conv3x3(stride) -> BN, plus a
shortcut (1x1 conv + BN when the shape changes). The network is a 3x3 stem
conv -> BN -> PReLU, four stages of IR blocks, then the embedding head
BN -> dropout -> flatten -> FC -> BN (arcface_torch's `features` BN, scale fixed
at 1).

Input: B x 3 x S x S RGB in 0..255; the model normalises it as (x - 127.5) / 128
itself (ArcFace/xCos §4.1 convention), so callers never have to.

`first_stride` is the stride of the first stage. arcface_torch uses 2
(112 px -> 7 x 7 after stage 4); RRFNet (Ozturk et al., §III-A) uses 1 so that a
56 px patch also ends at 7 x 7 and a 28 px patch at 4 x 4.

`width` is the channel count of the first stage (64 in the papers; later stages
double it). Smaller widths exist only to keep tests and CPU smoke runs fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

DEPTHS: dict[str, tuple[int, int, int, int]] = {
    "r18": (2, 2, 2, 2),
    "r34": (3, 4, 6, 3),
    "r50": (3, 4, 14, 3),
    "r100": (3, 13, 30, 3),
}

PIXEL_MEAN = 127.5
PIXEL_SCALE = 128.0


@dataclass(frozen=True)
class BackboneConfig:
    """Everything needed to rebuild an IResNet (stored in checkpoints)."""

    depth: str = "r18"
    input_size: int = 112
    first_stride: int = 2
    width: int = 64
    embedding_size: int = 512
    dropout: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def map_channels(self) -> int:
        return self.width * 8

    @property
    def map_size(self) -> int:
        """Side of the stage-4 map: one stride-2 3x3 conv (padding 1) is ceil(n / 2)."""
        size = self.input_size
        strides = (self.first_stride, 2, 2, 2)
        for stride in strides:
            size = (size + stride - 1) // stride
        return size


class IRBlock(nn.Module):
    """The improved residual block of ArcFace (BN-conv-BN-PReLU-conv-BN + shortcut)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(in_ch, eps=1e-5),
            nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_ch, eps=1e-5),
            nn.PReLU(out_ch),
            nn.Conv2d(out_ch, out_ch, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_ch, eps=1e-5),
        )
        self.shortcut = None
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch, eps=1e-5)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.body(x) + identity


class IResNet(nn.Module):
    """IResNet-18/34/50/100 with a configurable first-stage stride and width."""

    def __init__(self, config: BackboneConfig):
        super().__init__()
        if config.depth not in DEPTHS:
            raise ValueError(f"unknown backbone '{config.depth}'; choose from {', '.join(DEPTHS)}")
        self.config = config
        w = config.width
        self.stem = nn.Sequential(
            nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w, eps=1e-5), nn.PReLU(w)
        )
        stages = []
        in_ch = w
        for n, (blocks, mult) in enumerate(zip(DEPTHS[config.depth], (1, 2, 4, 8), strict=True)):
            out_ch = w * mult
            stride = config.first_stride if n == 0 else 2
            layers = [IRBlock(in_ch, out_ch, stride)]
            layers += [IRBlock(out_ch, out_ch, 1) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
            in_ch = out_ch
        self.stages = nn.Sequential(*stages)
        self.map_bn = nn.BatchNorm2d(in_ch, eps=1e-5)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(in_ch * config.map_size**2, config.embedding_size)
        self.features = nn.BatchNorm1d(config.embedding_size, eps=1e-5)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x S x S RGB 0..255 -> the BN'd stage-4 map B x 8w x m x m."""
        x = (x - PIXEL_MEAN) / PIXEL_SCALE
        return self.map_bn(self.stages(self.stem(x)))

    def head(self, feature_map: torch.Tensor) -> torch.Tensor:
        """BN'd map -> dropout -> flatten -> FC -> BN embedding (B x D)."""
        return self.features(self.fc(torch.flatten(self.dropout(feature_map), 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_map(x))
