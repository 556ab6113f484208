"""MTCNN's image pyramid: area averaging with adaptive-pooling windows, as separable sums.

A level of h x w pixels made from a source of H x W pixels averages, for output
row i, the source rows floor(i H / h) .. ceil((i + 1) H / h) - 1, and likewise
for columns: the windows of torch's adaptive average pooling
(``F.interpolate(mode="area")``), which the detector used until issue 12. Such a
box average is separable, so each level is built as a sum of whole source rows
(one gather per position in the window, at most three here), then of columns, then
one multiplication by 1 / (rows x columns). That is the same average up to float32
rounding (measured on obama_1's pyramid: at most 3.0e-7 on values in [-1, 1]), and
several times faster on a CPU than torch's pooling kernel, which walks every window
pixel by pixel.

Windows differ in length (two or three pixels at the pyramid's ratios). So that every
gather covers every window, images carry a zero edge: one extra row at the bottom
and one extra column at the right, all zeros, and a window shorter than the longest
gathers that zero where it has no pixel. Adding an exact zero changes no sum, so the
sums are the ones a window-by-window loop gives, in the same order.

Levels are H x W x 3 float32 tensors (channels last); ``level[None].permute(0, 3,
1, 2)`` is the N x C x H x W view that P-Net takes, in channels-last memory order.
"""

from __future__ import annotations

import numpy as np
import torch


def area_windows(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """First index and length of each of n_out adaptive-pooling windows over n_in items."""
    i = np.arange(n_out, dtype=np.int64)
    first = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)  # ceil((i + 1) n_in / n_out)
    return first, end - first


def with_zero_edge(x: torch.Tensor) -> torch.Tensor:
    """An H x W x C image as (H + 1) x (W + 1) x C, with a zero last row and column."""
    edged = x.new_zeros((x.shape[0] + 1, x.shape[1] + 1, x.shape[2]))
    edged[:-1, :-1] = x
    return edged


def _window_sums(x: torch.Tensor, axis: int, first: np.ndarray, length: np.ndarray) -> torch.Tensor:
    """Sums of x (zero-edged along `axis`) over the windows (first, length) along it.

    Columns are gathered from each row seen as one run of W x C values, by value
    index (column x C + channel): torch copies a gathered slice at a time, and a
    pixel is only C values long (0.36 against 0.98 ms for obama_1's largest level).
    """
    n_in = x.shape[axis] - 1  # the last entry is the zero edge
    channels = x.shape[2]
    total = None
    for offset in range(int(length.max())):
        index = np.where(length > offset, first + offset, n_in)
        if axis == 0:
            part = x.index_select(0, torch.from_numpy(index).to(x.device))
        else:
            values = (index[:, None] * channels + np.arange(channels)).reshape(-1)
            flat = x.reshape(x.shape[0], -1).index_select(1, torch.from_numpy(values).to(x.device))
            part = flat.view(x.shape[0], len(index), channels)
        total = part.float() if total is None else total.add_(part)
    return total


def empty_level(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """A zero-edged float32 height x width x C level, all zeros, to fill with `shrink_rows`."""
    return torch.zeros((height + 1, width + 1, like.shape[2]), device=like.device)


def shrink_rows(x: torch.Tensor, level: torch.Tensor, start: int, stop: int) -> None:
    """Fill rows start..stop-1 of `level` (from empty_level) with the area averages of x.

    x is zero-edged (uint8 or float32). Rows depend only on their own windows, so
    parts of a level can be filled by different threads.
    """
    height, width = level.shape[0] - 1, level.shape[1] - 1
    first, row_length = area_windows(x.shape[0] - 1, height)
    rows = slice(start, stop)
    row_sums = _window_sums(x, 0, first[rows], row_length[rows])  # its edge column stays 0
    first, col_length = area_windows(x.shape[1] - 1, width)
    sums = _window_sums(row_sums, 1, first, col_length)
    inverse_area = 1.0 / np.outer(row_length[rows], col_length).astype(np.float32)
    inverse_area = torch.from_numpy(inverse_area).to(x.device)[:, :, None]
    torch.mul(sums, inverse_area, out=level[start:stop, :-1])


def area_shrink_edged(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Average a zero-edged image (uint8 or float32) onto a zero-edged height x width one.

    The result is float32, (height + 1) x (width + 1) x C; ``[:-1, :-1]`` is the level.
    """
    level = empty_level(height, width, x)
    shrink_rows(x, level, 0, height)
    return level
