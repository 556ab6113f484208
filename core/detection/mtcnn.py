"""The bundled face detector: MTCNN (Zhang et al., 2016), written for Patchwise.

MTCNN is a cascade of three small CNNs:

1. P-Net scans an image pyramid (fully convolutional: a 12x12 window with a
   stride of 2 at every scale) and proposes candidate boxes;
2. R-Net re-scores 24x24 crops of the surviving candidates and refines them;
3. O-Net re-scores 48x48 crops, refines the boxes again and places five
   landmarks.

Between the stages, candidates are thresholded (0.6, 0.7, 0.7 by default),
merged by non-maximum suppression, moved by the predicted box regression and
made square.

The weights come from ``resources/models/mtcnn.safetensors`` only (made by
``tools/convert_mtcnn.py`` from the facenet-pytorch 2.6.0 wheel; they are the
original MTCNN Caffe models, converted). Facts about these weights, checked
on real photographs:

* input is RGB, NCHW, scaled as ``(x - 127.5) * 0.0078125``, and the image is
  fed in its natural orientation (not transposed, unlike the original MATLAB
  and TensorFlow ports);
* the dense layers of R-Net and O-Net expect the last feature map flattened
  in (W, H, C) order, a leftover of the transposed original;
* the box regression is (dx1, dy1, dx2, dy2) in units of the box size;
* O-Net's landmark output is x1..x5 followed by y1..y5, relative to the
  O-Net input box, in the order left eye, right eye, nose, left mouth
  corner, right mouth corner, where "left" is image-left (the subject's
  right). That is the order of insightface's ``arcface_dst`` template.

Large photos: when the longer side of the image exceeds ``max_side`` pixels
(1600 by default; ``None`` or 0 turns it off), detection runs on a copy
downscaled (area interpolation) so that its longer side is ``max_side``, and
boxes and landmarks are mapped back to the original pixel coordinates. The
results are then in original coordinates, but the smallest face found is
``min_face_size`` pixels in the *downscaled* copy, i.e. larger in the
original (e.g. 20 px becomes 48 px on a 3840 px wide photo). The pyramid's
cost grows with the pixel count, so this keeps a 24-megapixel photo from
taking many seconds on a CPU.

Speed (issue 12; docs/models.md, "How MTCNN runs"): the pyramid is built with
separable window sums (core/detection/area_pyramid.py), the networks run on
channels-last maps with exact strided max pools, and NMS reads overlaps computed
in blocks. With two torch threads or more, each stage's work is split over two
single-threaded lanes (core/torch_lanes.py): the pyramid's levels in stage 1
(`share_levels`), the candidates' crops and network passes in stages 2 and 3. The
results are the same as the plain per-level torch version's
(tests/test_mtcnn_reference.py, tests/test_mtcnn_fast_ops.py).

Misses: when the first pass finds no face, a second pass runs with thresholds relaxed to
0.5/0.6/0.6, on the photo upsampled 2x when its longer side is under 400 px. It never
runs on a photo where a face was found, so it cannot add boxes there; each face it finds
carries ``retry`` (shown in the JSON and reports). ``retry=False`` turns it off.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.detection.area_pyramid import area_shrink_edged, empty_level, shrink_rows, with_zero_edge
from core.detection.detected_face import DetectedFace, sort_by_size
from core.errors import DetectorUnavailableError, PatchwiseError
from core.file_hash import sha256_bytes
from core.resource_paths import RESOURCES_DIR
from core.torch_lanes import lanes_for

DEFAULT_WEIGHTS = RESOURCES_DIR / "models" / "mtcnn.safetensors"


# ---------------------------------------------------------------------------
# The three networks. Parameter names match the converted state dicts.
# ---------------------------------------------------------------------------


def _flatten_whc(x: torch.Tensor) -> torch.Tensor:
    """Flatten an NCHW map in (W, H, C) order, as the dense layers were trained."""
    return x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)


# Maps with fewer values than this are pooled by torch's kernel: the separable maxima
# cost ~50 us of calls whatever the size (torch's pool: 6-16 us on P-Net's small levels,
# 10 x 14 to 10 x 40 x 30), and win from ~100,000 values up (70 against 130 us at
# 10 x 120 x 96). Both are exact.
TORCH_POOL_BELOW = 50_000


class MaxPool2dCeil(nn.Module):
    """``nn.MaxPool2d(kernel, stride, ceil_mode=True)``, exactly, as separable strided maxima.

    A window's maximum is the maximum over its columns of the maxima over its rows,
    so the pool runs along the rows, then along the columns (max is exact in any
    order). Along each axis, an output is the maximum of the window's first item and
    every further item where the window has it (windows at the end may hold fewer:
    ceil mode). On the networks' channels-last maps the row step runs over long
    contiguous rows; on a CPU this is 2-3x faster than torch's pooling kernel, and
    for P-Net's 2x2 pool 2.5x faster again than a 2-D strided maximum per offset
    (0.74 against 1.86 ms on obama_1's largest level, one thread). Small maps go to
    torch's own pool (TORCH_POOL_BELOW).
    """

    def __init__(self, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def _out_size(self, n: int) -> int:
        out = -(-(n - self.kernel) // self.stride) + 1
        return out - 1 if (out - 1) * self.stride >= n else out  # last window starts inside

    def _window_max(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        """Maxima of x's windows along dim (a new contiguous tensor)."""
        size = self._out_size(x.shape[dim])

        def items(offset: int) -> torch.Tensor:  # item `offset` of each window that has it
            index = [slice(None)] * x.dim()
            index[dim] = slice(offset, None, self.stride)
            part = x[tuple(index)]
            return part.narrow(dim, 0, min(size, part.shape[dim]))

        shape = list(x.shape)
        shape[dim] = size
        out = x.new_empty(shape)
        first, second = items(0), items(1)
        both = second.shape[dim]
        torch.maximum(first.narrow(dim, 0, both), second, out=out.narrow(dim, 0, both))
        if both < size:  # the last window holds one item
            out.narrow(dim, both, size - both).copy_(first.narrow(dim, both, size - both))
        for offset in range(2, self.kernel):
            part = items(offset)
            target = out.narrow(dim, 0, part.shape[dim])
            torch.maximum(target, part, out=target)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() < TORCH_POOL_BELOW:
            return F.max_pool2d(x, self.kernel, self.stride, ceil_mode=True)
        nhwc = x.permute(0, 2, 3, 1)  # a contiguous view when x is channels-last
        return self._window_max(self._window_max(nhwc, 1), 2).permute(0, 3, 1, 2)


class RowsPReLU(nn.PReLU):
    """``nn.PReLU``, exactly, on a channels-last map seen as rows of W x C values.

    torch's PReLU kernel loops over the channels innermost on a channels-last map,
    which is slow with P-Net's 10 channels. Seen as N*H rows of W*C values, with
    the slopes repeated W times, the same products run in long vectorised rows:
    0.66 against 1.67 ms on obama_1's largest level (one thread), bitwise the same.
    Maps of 16 channels or more gained nothing (measured), so only P-Net's first
    PReLU uses this.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        rows = x.permute(0, 2, 3, 1).reshape(n * h, w * c)  # a view when x is channels-last
        out = torch.prelu(rows, self.weight.repeat(w))
        return out.view(n, h, w, c).permute(0, 3, 1, 2)


class PNet(nn.Module):
    """Proposal network: fully convolutional, 12x12 receptive field, stride 2."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 3)
        self.prelu1 = RowsPReLU(10)
        self.pool1 = MaxPool2dCeil(2, 2)
        self.conv2 = nn.Conv2d(10, 16, 3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, 3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)  # face / not-face logits
        self.conv4_2 = nn.Conv2d(32, 4, 1)  # box regression

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu2(self.conv2(x))
        x = self.prelu3(self.conv3(x))
        # Both 1x1 heads as one convolution. A dilation changes nothing for a 1x1 kernel,
        # but keeps torch from its slow path, which it takes for a 1x1 kernel on one
        # thread: 1.1-1.2 against 2.0-2.1 ms for both heads on obama_1's largest level,
        # equal within 4e-7.
        weight = torch.cat([self.conv4_1.weight, self.conv4_2.weight])
        bias = torch.cat([self.conv4_1.bias, self.conv4_2.bias])
        heads = F.conv2d(x, weight, bias, dilation=2)
        prob = torch.softmax(heads[:, :2], dim=1)[:, 1]  # N x H' x W', face probability
        return prob, heads[:, 2:]  # and N x 4 x H' x W', the box regression


class RNet(nn.Module):
    """Refinement network on 24x24 crops."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, 3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = MaxPool2dCeil(3, 2)
        self.conv2 = nn.Conv2d(28, 48, 3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = MaxPool2dCeil(3, 2)
        self.conv3 = nn.Conv2d(48, 64, 2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(3 * 3 * 64, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = self.prelu4(self.dense4(_flatten_whc(x)))
        prob = torch.softmax(self.dense5_1(x), dim=1)[:, 1]
        return prob, self.dense5_2(x)


class ONet(nn.Module):
    """Output network on 48x48 crops: score, box regression and 5 landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = MaxPool2dCeil(3, 2)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = MaxPool2dCeil(3, 2)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = MaxPool2dCeil(2, 2)
        self.conv4 = nn.Conv2d(64, 128, 2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(3 * 3 * 128, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = self.prelu5(self.dense5(_flatten_whc(x)))
        prob = torch.softmax(self.dense6_1(x), dim=1)[:, 1]
        return prob, self.dense6_2(x), self.dense6_3(x)


# ---------------------------------------------------------------------------
# Box helpers (numpy). Boxes are float arrays N x 4 of (x1, y1, x2, y2) in
# continuous pixel coordinates: pixel column i spans [i, i + 1).
# ---------------------------------------------------------------------------


NMS_BLOCK = 256  # candidates whose overlaps with all others are computed at once


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best score first.

    mode "union": overlap = intersection / union (IoU);
    mode "min": overlap = intersection / the smaller area (MTCNN's last stage).
    In score order, a box is kept unless a kept box overlaps it by more than
    `threshold`. The overlaps are computed a block of rows at a time (NumPy), so the
    Python loop only reads them.
    """
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = (boxes[order, k] for k in range(4))
    areas = np.maximum(x2 - x1, 0.0) * np.maximum(y2 - y1, 0.0)
    suppressed = np.zeros(len(order), dtype=bool)
    keep = []
    for start in range(0, len(order), NMS_BLOCK):
        rows, later = slice(start, start + NMS_BLOCK), slice(start, None)
        iw = np.minimum(x2[rows, None], x2[later]) - np.maximum(x1[rows, None], x1[later])
        ih = np.minimum(y2[rows, None], y2[later]) - np.maximum(y1[rows, None], y1[later])
        inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
        if mode == "min":
            denom = np.minimum(areas[rows, None], areas[later])
        else:
            denom = areas[rows, None] + areas[later] - inter
        overlapping = inter / np.maximum(denom, 1e-12) > threshold
        for i in range(start, min(start + NMS_BLOCK, len(order))):
            if not suppressed[i]:
                keep.append(order[i])
                suppressed[i + 1 :] |= overlapping[i - start, i + 1 - start :]
    return np.asarray(keep, dtype=np.int64)


def apply_regression(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Move box edges by reg (dx1, dy1, dx2, dy2), given in units of box width/height."""
    w = (boxes[:, 2] - boxes[:, 0])[:, None]
    h = (boxes[:, 3] - boxes[:, 1])[:, None]
    scale = np.concatenate([w, h, w, h], axis=1)
    return boxes + reg * scale


def square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (side = the longer side)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    cx = boxes[:, 0] + w / 2
    cy = boxes[:, 1] + h / 2
    out[:, 0] = cx - side / 2
    out[:, 1] = cy - side / 2
    out[:, 2] = cx + side / 2
    out[:, 3] = cy + side / 2
    return out


def crop_resized(img: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Crop each box (zero padding outside the image) and resize to size x size.

    Returns a float32 N x size x size x 3 array of the raw pixel values.
    """
    h, w = img.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), dtype=np.float32)
    rounded = np.round(boxes).astype(np.int64)
    for n, (x1, y1, x2, y2) in enumerate(rounded):
        x2 = max(x2, x1 + 1)
        y2 = max(y2, y1 + 1)
        if x1 >= 0 and y1 >= 0 and x2 <= w and y2 <= h:
            patch = img[y1:y2, x1:x2]  # inside the image: no copy
        else:
            patch = np.zeros((y2 - y1, x2 - x1, 3), dtype=img.dtype)
            sx1, sy1 = max(x1, 0), max(y1, 0)
            sx2, sy2 = min(x2, w), min(y2, h)
            if sx2 > sx1 and sy2 > sy1:
                patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = img[sy1:sy2, sx1:sx2]
        shrink = patch.shape[0] > size or patch.shape[1] > size
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out[n] = cv2.resize(patch, (size, size), interpolation=interp)
    return out


# Work of one crop and its network pass, in square pixels of crop source: on one
# thread, a 24 px crop and its R-Net pass cost about as much as resizing a 175 x 175
# box (74 us: 163 candidates on obama_1), and O-Net's pass about 4x that. Used only
# to cut the crops into two parts of even work.
CROP_COST = {24: 30_000, 48: 120_000}


# Making a level from the one before costs about 0.35 of P-Net's pass on it (one
# thread, obama_1's pyramid: 2.9 against 8.3 ms at 484 x 388 px).
LEVEL_MAKING_SHARE = 0.35


def share_levels(areas: list[int]) -> list[int]:
    """The lane (0 or 1) that runs P-Net on each pyramid level, largest level first.

    Lane 0 takes the largest level; lane 1 makes every smaller level (at
    LEVEL_MAKING_SHARE of a pass each). Each further level, in order, goes to the
    lane with less work so far, counting work as pixels.
    """
    work = [float(areas[0]), LEVEL_MAKING_SHARE * sum(areas[1:])]
    lanes = [0]
    for area in areas[1:]:
        lane = 0 if work[0] < work[1] else 1
        work[lane] += area
        lanes.append(lane)
    return lanes


def _network_input(pixels: torch.Tensor) -> torch.Tensor:
    """N x H x W x 3 raw pixel values as the networks' N x 3 x H x W input (channels last).

    (x - 127.5) * 0.0078125, the networks' input scaling, written as
    x * 0.0078125 - 0.99609375, which rounds identically (a power-of-two scale).
    """
    return pixels.mul(0.0078125).sub_(0.99609375).permute(0, 3, 1, 2)


def level_size(h: int, w: int, s: float) -> tuple[int, int]:
    """Height and width of the pyramid level at scale s of an h x w photo."""
    return int(math.ceil(h * s)), int(math.ceil(w * s))


def pyramid_scales(h: int, w: int, min_face_size: float, factor: float) -> list[float]:
    """Scales at which a min_face_size face maps onto P-Net's 12 px window."""
    scale = 12.0 / min_face_size
    shortest = min(h, w) * scale
    scales = []
    while shortest >= 12.0:
        scales.append(scale)
        scale *= factor
        shortest *= factor
    return scales


# ---------------------------------------------------------------------------
# The detector
# ---------------------------------------------------------------------------


# The second pass when the first finds no face (docs/models.md, "Detection misses").
RETRY_UPSAMPLE = 2.0
RETRY_UPSAMPLE_BELOW = 400  # px, longer side; upsampling a larger noisy photo found "faces"
RETRY_THRESHOLDS = (0.5, 0.6, 0.6)


class MTCNNDetector:
    """MTCNN face detector with the bundled weights (see the module docstring)."""

    id = "mtcnn"

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        device: str | torch.device | None = None,
        min_face_size: float = 20.0,
        factor: float = 0.709,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        max_side: int | None = 1600,
        retry: bool = True,
    ) -> None:
        self.weights_path = Path(weights) if weights is not None else DEFAULT_WEIGHTS
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        if min_face_size <= 0:
            raise PatchwiseError(f"min_face_size must be positive, got {min_face_size}")
        if not 0.0 < factor < 1.0:
            raise PatchwiseError(f"pyramid factor must be in (0, 1), got {factor}")
        self.min_face_size = float(min_face_size)
        self.factor = float(factor)
        self.thresholds = tuple(float(t) for t in thresholds)
        self.max_side = int(max_side) if max_side else None
        self.retry = retry
        self.pnet, self.rnet, self.onet = PNet(), RNet(), ONet()
        self.weights_sha256 = self._load_weights()
        for net in (self.pnet, self.rnet, self.onet):
            net.to(self.device).eval()

    def _load_weights(self) -> str:
        from safetensors import SafetensorError
        from safetensors.torch import load as load_safetensors

        path = self.weights_path
        if not path.is_file():
            raise DetectorUnavailableError(
                f"MTCNN weights not found: {path} (run tools/convert_mtcnn.py to create it)"
            )
        data = path.read_bytes()
        try:
            tensors = load_safetensors(data)
        except (SafetensorError, ValueError, OSError) as exc:
            raise DetectorUnavailableError(
                f"MTCNN weights file {path} is unreadable: {exc}"
            ) from exc
        for prefix, net in (("pnet.", self.pnet), ("rnet.", self.rnet), ("onet.", self.onet)):
            state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            try:
                net.load_state_dict(state, strict=True)
            except RuntimeError as exc:
                raise DetectorUnavailableError(
                    f"MTCNN weights file {path} does not fit the {prefix[:-1]} network: {exc}"
                ) from exc
        return sha256_bytes(data)

    def describe(self) -> dict:
        return {
            "id": self.id,
            "kind": "mtcnn",
            "weights": {"file": self.weights_path.name, "sha256": self.weights_sha256},
            "thresholds": list(self.thresholds),
            "min_face_size": self.min_face_size,
            "pyramid_factor": self.factor,
            "max_side": self.max_side,
            "retry_when_none_found": {
                "upsample": RETRY_UPSAMPLE,
                "upsample_when_longer_side_below": RETRY_UPSAMPLE_BELOW,
                "thresholds": list(RETRY_THRESHOLDS),
            }
            if self.retry
            else None,
            "device": str(self.device),
        }

    # -- public API ---------------------------------------------------------

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        """Find every face in an HxWx3 uint8 RGB image; largest first."""
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise PatchwiseError(
                f"MTCNN needs an HxWx3 uint8 RGB image, got shape {rgb.shape} dtype {rgb.dtype}"
            )
        faces = self._detect_scaled(rgb, self.thresholds, upsample=1.0)
        if faces or not self.retry:
            return faces
        # Second pass, only when the first found nothing (so it never adds a box to a
        # photo with a face found): small photos 2x upsampled, relaxed thresholds.
        # Every face it finds says so (DetectedFace.retry).
        upsample = RETRY_UPSAMPLE if max(rgb.shape[:2]) < RETRY_UPSAMPLE_BELOW else 1.0
        retried = self._detect_scaled(rgb, RETRY_THRESHOLDS, upsample)
        note = (
            f"second pass after no face was found: image x{upsample:g}, "
            f"thresholds {'/'.join(f'{t:g}' for t in RETRY_THRESHOLDS)}"
        )
        return [replace(f, retry=note) for f in retried]

    def _detect_scaled(self, rgb: np.ndarray, thresholds, upsample: float) -> list[DetectedFace]:
        """One cascade run on the photo resized by `upsample` (or down to max_side)."""
        h, w = rgb.shape[:2]
        scale = upsample
        if self.max_side and max(h, w) * upsample > self.max_side:
            scale = self.max_side / max(h, w)
        work, sx, sy = rgb, 1.0, 1.0
        if scale != 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
            work = cv2.resize(rgb, size, interpolation=interpolation)
            # exact per-axis factors after rounding the resized size
            sx, sy = w / size[0], h / size[1]
        work = np.ascontiguousarray(work)

        boxes, scores, landmarks = self._run(work, thresholds)
        if scale != 1.0 and len(boxes):
            boxes = boxes * np.array([sx, sy, sx, sy])
            landmarks = landmarks * np.array([sx, sy])

        faces = [
            DetectedFace(
                box=tuple(float(v) for v in box),
                score=float(score),
                landmarks=lmk.astype(np.float64),
            )
            for box, score, lmk in zip(boxes, scores, landmarks, strict=True)
        ]
        return sort_by_size(faces)

    # -- the cascade --------------------------------------------------------

    def _to_tensor(self, batch_hwc: np.ndarray) -> torch.Tensor:
        """N x H x W x 3 raw pixels (NumPy) -> the networks' normalised input tensor."""
        t = torch.from_numpy(np.ascontiguousarray(batch_hwc, dtype=np.float32))
        return _network_input(t.to(self.device))

    def _run(self, img: np.ndarray, thresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        empty = (np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))
        with torch.inference_mode():
            boxes = self._stage1(img, thresholds)
            if len(boxes) == 0:
                return empty
            boxes = self._stage2(img, boxes, thresholds)
            if len(boxes) == 0:
                return empty
            return self._stage3(img, boxes, thresholds)

    def _level(self, pixels: torch.Tensor, source: torch.Tensor, s: float):
        """The pyramid level at scale s: (the next level's source, the normalised level).

        `pixels` (the photo) and `source` are zero-edged (core/detection/area_pyramid.py).
        Levels below scale 1 are area-averaged from `source`, the previous, larger level
        (anti-aliased, and much cheaper than resampling the full image every time), with
        separable window sums in torch on the detector's device; keeping the resampling
        out of OpenCV keeps OpenCV's and torch's thread pools from competing for the same
        cores (a 20x slowdown seen on 2 cores). A level above scale 1 (min_face_size < 12)
        is enlarged from the photo, and the next level is again made from the photo.
        """
        size = level_size(pixels.shape[0] - 1, pixels.shape[1] - 1, s)
        if s < 1.0:
            source = area_shrink_edged(source, *size)
            return source, _network_input(source[None, :-1, :-1])
        chw = pixels[:-1, :-1].permute(2, 0, 1)[None].float()
        level = F.interpolate(chw, size=size, mode="bilinear", align_corners=False)
        return source, _network_input(level.permute(0, 2, 3, 1))

    def _levels(self, pixels, source, scales) -> Iterator[tuple[float, torch.Tensor]]:
        """(scale, normalised level) at each of `scales`, each made from the one before."""
        for s in scales:
            source, level = self._level(pixels, source, s)
            yield s, level

    def _candidates(self, s: float, level: torch.Tensor, threshold: float):
        """P-Net's candidates on one normalised level at scale s, or None if there are none.

        (boxes, scores, regressions) of the windows scoring >= threshold, after the
        level's own NMS (0.5).
        """
        prob, reg = self.pnet(level)
        prob = prob[0].cpu().numpy()
        reg = reg[0].cpu().numpy()
        ys, xs = np.nonzero(prob >= threshold)
        if len(ys) == 0:
            return None
        # each output cell sees a 12x12 window at stride 2 in the scaled image
        boxes = np.stack([2 * xs, 2 * ys, 2 * xs + 12, 2 * ys + 12], axis=1) / s
        keep = nms(boxes, prob[ys, xs], 0.5)
        return boxes[keep], prob[ys, xs][keep], reg[:, ys, xs].T[keep]

    def _stage1(self, img: np.ndarray, thresholds) -> np.ndarray:
        """P-Net over the pyramid (on two lanes when the caller has two threads or more)."""
        h, w = img.shape[:2]
        scales = pyramid_scales(h, w, self.min_face_size, self.factor)
        pixels = torch.from_numpy(np.require(img, requirements=["C", "W"])).to(self.device)
        pixels = with_zero_edge(pixels)
        threshold = thresholds[0]
        lanes = lanes_for(self.device) if len(scales) > 1 and scales[0] < 1.0 else None
        if lanes is None:
            levels = self._levels(pixels, pixels, scales)
            found = [self._candidates(s, level, threshold) for s, level in levels]
        else:
            found = self._candidates_on_lanes(lanes, pixels, scales, threshold)
        found = [f for f in found if f is not None]
        if not found:
            return np.zeros((0, 4))
        boxes, scores, regs = (np.concatenate(part) for part in zip(*found, strict=True))
        keep = nms(boxes, scores, 0.7)
        return square(apply_regression(boxes[keep], regs[keep]))

    def _candidates_on_lanes(self, lanes, pixels, scales, threshold) -> list:
        """Each level's candidates (as `_candidates`), computed on two lanes.

        1. Both lanes fill half of the largest level's rows each.
        2. Lane 1 makes every smaller level from the one before (a chain), then runs
           P-Net on its share of them; lane 0 runs P-Net on the largest level, then on
           its share, taking each level once lane 1 has made it. `share_levels`
           balances the two.
        Every level is computed as without lanes; the results are in level order.
        Lane 1 never waits for lane 0, so detections started from several threads
        at once cannot block each other for good.
        """
        sizes = [level_size(pixels.shape[0] - 1, pixels.shape[1] - 1, s) for s in scales]
        largest = empty_level(*sizes[0], pixels)
        middle = sizes[0][0] // 2
        lanes.run(
            lambda: shrink_rows(pixels, largest, 0, middle),
            lambda: shrink_rows(pixels, largest, middle, sizes[0][0]),
        )
        made = [Future() for _ in scales]
        lane_of = share_levels([height * width for height, width in sizes])

        def make_levels() -> None:
            try:
                source = largest
                for i, s in enumerate(scales[1:], start=1):
                    source, level = self._level(pixels, source, s)
                    made[i].set_result(level)
            except BaseException as exc:  # the other lane must not wait for levels forever
                for future in made[1:]:  # made[0] is lane 0's own
                    if not future.done():
                        future.set_exception(exc)
                raise

        def run_lane(lane: int) -> list[tuple]:
            if lane == 0:
                made[0].set_result(_network_input(largest[None, :-1, :-1]))
            else:
                make_levels()
            return [
                (i, self._candidates(s, made[i].result(), threshold))
                for i, s in enumerate(scales)
                if lane_of[i] == lane
            ]

        zero, one = lanes.run(lambda: run_lane(0), lambda: run_lane(1))
        return [candidates for _, candidates in sorted(zero + one, key=lambda pair: pair[0])]

    def _on_crops(self, net: nn.Module, img: np.ndarray, boxes: np.ndarray, size: int):
        """net's outputs, as arrays, on the size x size crops of `boxes`.

        On two lanes, each crops and scores one part of the boxes; the parts are cut
        where the estimated work (CROP_COST) is even, and the outputs are joined in
        box order.
        """

        def outputs(part: np.ndarray) -> list[np.ndarray]:
            crops = self._to_tensor(crop_resized(img, part, size))
            return [out.cpu().numpy() for out in net(crops)]

        lanes = lanes_for(self.device) if len(boxes) > 1 else None
        if lanes is None:
            return outputs(boxes)
        sides = np.round(boxes[:, 2]) - np.round(boxes[:, 0])
        work = np.cumsum(CROP_COST[size] + sides**2)
        cut = int(np.clip(np.searchsorted(work, work[-1] / 2), 1, len(boxes) - 1))
        first, second = lanes.run(lambda: outputs(boxes[:cut]), lambda: outputs(boxes[cut:]))
        return [np.concatenate(pair) for pair in zip(first, second, strict=True)]

    def _stage2(self, img: np.ndarray, boxes: np.ndarray, thresholds) -> np.ndarray:
        prob, reg = self._on_crops(self.rnet, img, boxes, 24)
        ok = prob >= thresholds[1]
        boxes, prob, reg = boxes[ok], prob[ok], reg[ok]
        keep = nms(boxes, prob, 0.7)
        return square(apply_regression(boxes[keep], reg[keep]))

    def _stage3(self, img: np.ndarray, boxes: np.ndarray, thresholds):
        prob, reg, pts = self._on_crops(self.onet, img, boxes, 48)
        ok = prob >= thresholds[2]
        boxes, prob, reg, pts = boxes[ok], prob[ok], reg[ok], pts[ok]
        if len(boxes) == 0:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        # landmarks are relative to the O-Net input box: x1..x5 then y1..y5
        bw = (boxes[:, 2] - boxes[:, 0])[:, None]
        bh = (boxes[:, 3] - boxes[:, 1])[:, None]
        lx = boxes[:, 0:1] + pts[:, 0:5] * bw
        ly = boxes[:, 1:2] + pts[:, 5:10] * bh
        landmarks = np.stack([lx, ly], axis=2)  # N x 5 x 2
        boxes = apply_regression(boxes, reg)
        keep = nms(boxes, prob, 0.7, mode="min")
        return boxes[keep], prob[keep], landmarks[keep]
