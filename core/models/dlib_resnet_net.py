"""dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`), in PyTorch.

A hand-written version of the network that dlib's `dnn_face_recognition_ex.cpp` declares as
`anet_type`, filled with the weights `tools/convert_dlib_resnet.py` reads from the CC0 model
file in `face_recognition_models==0.3.0`. What dlib computes, and this module reproduces:

* input 150x150 RGB 0..255, normalised as (x - channel mean) / 256
  (`input_rgb_image_sized<150>`; means 122.782, 117.001, 104.298 are read from the file);
* every convolution has a bias and is followed by a per-channel affine (dlib's `affine_`,
  a frozen batch norm); dlib pads stride-1 convolutions by 1 and stride-2 ones by 0;
* stem: 7x7/2 conv (32) + affine + ReLU, 3x3/2 max pool -> 35x35;
* 14 residual blocks (3x32, 4x64, 3x128, 3x256, 1x256), each
  relu(skip + affine(conv3x3(relu(affine(conv3x3(x)))))), where a down-sampling block
  (the first of each width after the first) uses a 3x3/2 conv and a 2x2/2 average pool on
  the skip path. dlib's `add_prev` adds tensors of different shapes by treating what one
  lacks as zero (channels and, at 8->3 vs 4 and 4->1 vs 2, rows and columns at the end);
* the last map is 256x2x2; embedding = fc_no_bias(mean over the 4 cells): 128-d,
  not L2-normalised.

So the embedding is a bias-free linear map of the mean of the last map: cell c's share is
W m_c / 4 and the cosine splits exactly into 4x4 cell-pair terms
(core/models/dlib_resnet.py).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.models.safetensors_loading import load_module_weights

INPUT_SIZE = 150
EMBEDDING_DIM = 128
MAP_SIZE = 2
MAP_CHANNELS = 256
INPUT_DIVISOR = 256.0  # dlib's input_rgb_image: (pixel - mean) / 256

# (width, down-sampling) of the residual blocks, input side first.
BLOCKS = (
    ((32, False),) * 3
    + ((64, True),)
    + ((64, False),) * 3
    + ((128, True),)
    + ((128, False),) * 2
    + ((256, True),)
    + ((256, False),) * 2
    + ((256, True),)
)


class Affine(nn.Module):
    """dlib's `affine_` layer: y = gamma_c * x + beta_c per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight[:, None, None] + self.bias[:, None, None]


def add_zero_extended(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's `add_prev`: the sum sized to the larger of each dimension, missing values 0.

    Sizes are read as plain ints and a tensor already of the full size is not padded, so
    an ONNX export holds only the few constant Pads that extend something (issue 12: the
    traced shape arithmetic and 28 mostly empty Pads had made ONNX Runtime no faster
    than torch on this model).
    """
    c, h, w = (max(int(a.shape[i]), int(b.shape[i])) for i in (1, 2, 3))

    def extend(t: torch.Tensor) -> torch.Tensor:
        missing = (0, w - int(t.shape[3]), 0, h - int(t.shape[2]), 0, c - int(t.shape[1]))
        return F.pad(t, missing) if any(missing) else t

    return extend(a) + extend(b)


class ResidualBlock(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool) -> None:
        super().__init__()
        self.down = down
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2 if down else 1, padding=0 if down else 1)
        self.affine1 = Affine(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.affine2 = Affine(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.affine2(self.conv2(F.relu(self.affine1(self.conv1(x)))))
        skip = F.avg_pool2d(x, 2, 2) if self.down else x
        return F.relu(add_zero_extended(skip, y))


class DlibResNet(nn.Module):
    """`forward` gives the last map (B x 256 x 2 x 2); `embed` the 128-d descriptor."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(3))
        self.stem = nn.Conv2d(3, 32, 7, stride=2)
        self.stem_affine = Affine(32)
        blocks, cin = [], 32
        for cout, down in BLOCKS:
            blocks.append(ResidualBlock(cin, cout, down))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(MAP_CHANNELS, EMBEDDING_DIM, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B x 3 x 150 x 150 RGB 0..255 -> the last map B x 256 x 2 x 2."""
        x = (x - self.input_mean[:, None, None]) / INPUT_DIVISOR
        x = F.relu(self.stem_affine(self.stem(x)))
        return self.blocks(F.max_pool2d(x, 3, 2))

    def head(self, spatial: torch.Tensor) -> torch.Tensor:
        return self.fc(spatial.mean(dim=(2, 3)))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self(x))


def load_dlib_resnet(path: str | Path) -> DlibResNet:
    """The network with weights from a safetensors file written by convert_dlib_resnet.py."""
    return load_module_weights(DlibResNet(), path, "dlib ResNet")
