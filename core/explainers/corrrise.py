"""CorrRISE: correlation-based randomised input sampling (Lu et al., Sec. 3.2, Alg. 1).

N random masks M_k (default 500) multiply the face. Face A masked with M_k is
scored against the unmasked B (SC_A[k]) and face B masked with the same M_k
against the unmasked A (SC_B[k]), separately, as the paper does; the score is
the model's own (score_tensor). The map is the per-pixel Pearson correlation
between the scores and the mask values; S+ (>= 0) marks similar, S- (< 0)
dissimilar regions.

Two mask designs (`mask_design`):
- "squares" (default, the paper's text): a plain image of ones with 10 squares
  of 30 x 30 px (112-px units) at uniform positions fully inside, each one value
  drawn uniformly from [0, 1] (a later square overwrites an earlier one).
  Corner pixels are covered ~20x less often (mask variance 0.005 vs 0.11 in the
  centre) and the count is fixed, so a square on one region means one fewer
  elsewhere: pixels the model ignores keep a small |r|.
- "grid" (option): RISE-style (Petsiuk et al., which CorrRISE builds on): a
  coarse grid of `patch_size` px cells, each attenuated with probability 1/2 to
  one uniform [0, 1] value (else 1), upsampled bilinearly and shifted by a
  random offset of up to one cell, so every pixel has the same mask statistics.
  Measured (docs/explainers.md): more reproducible maps across mask seeds, but
  NOT a fix for the partial sanity-check failure, whose cause is not the mask
  design.

The correlation is accumulated batch by batch from running sums (sum m,
sum m^2, sum s m, ...) in float64, so no N x S x S mask stack is kept and no
per-pixel Python loop runs. A pixel with zero mask variance gets r = 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from core.errors import UsageError
from core.explainers.base import (
    BatchRunner,
    ExplainPair,
    Explanation,
    PartialReporter,
    Stopwatch,
    as_images,
    pair_scores,
    planar,
)

MASK_DESIGNS = ("grid", "squares")
GRID_CELL_PROBABILITY = 0.5  # RISE's p: the chance that a grid cell is attenuated


@dataclass(frozen=True)
class CorrRiseSettings:
    masks: int = 500
    patches: int = 10  # squares per mask ("squares" design only)
    patch_size: int = 30  # 112-px units: square side, or grid cell side
    mask_design: str = "squares"

    def validate(self) -> None:
        if self.masks < 3:
            raise UsageError("CorrRISE needs at least 3 masks")
        if self.patches < 1 or self.patch_size < 1:
            raise UsageError("CorrRISE patch count and size must be positive")
        if self.mask_design not in MASK_DESIGNS:
            raise UsageError(f"CorrRISE mask design must be one of {', '.join(MASK_DESIGNS)}")


def grid_masks(rng: np.random.Generator, count: int, size: int, cell: int) -> np.ndarray:
    """count x size x size float32 RISE-style masks: coarse cells attenuated with probability
    1/2 to a uniform [0, 1] value, bilinear upsampling, random shift of up to one cell."""
    cells = -(-size // cell) + 2  # room for a shift of up to one cell past the clamped border
    keep = rng.random((count, cells, cells)) >= GRID_CELL_PROBABILITY
    values = np.where(keep, 1.0, rng.uniform(0.0, 1.0, (count, cells, cells)))
    shifts = rng.integers(0, cell, size=(count, 2))
    masks = np.empty((count, size, size), dtype=np.float32)
    for k in range(count):
        side = cells * cell
        up = cv2.resize(values[k].astype(np.float32), (side, side), interpolation=cv2.INTER_LINEAR)
        # cv2 holds the outer half cell constant; start past it so every pixel sees
        # every position between grid points equally often.
        y0, x0 = cell // 2 + shifts[k]
        masks[k] = up[y0 : y0 + size, x0 : x0 + size]
    return masks


def square_masks(rng: np.random.Generator, count: int, size: int, patches: int, patch: int):
    """count x size x size float32 masks: ones with `patches` uniform-valued squares."""
    masks = np.ones((count, size, size), dtype=np.float32)
    xs = rng.integers(0, size - patch + 1, size=(count, patches))
    ys = rng.integers(0, size - patch + 1, size=(count, patches))
    values = rng.uniform(0.0, 1.0, size=(count, patches)).astype(np.float32)
    for k in range(count):
        for x, y, v in zip(xs[k], ys[k], values[k], strict=True):
            masks[k, y : y + patch, x : x + patch] = v
    return masks


class PixelCorrelation:
    """Pearson r between score series and every pixel of the masks, from running sums.

    Face A's and face B's scores share one mask stack, so the mask sums are kept once
    for all `series` (issue 12: half the per-batch bookkeeping of CorrRISE).
    """

    def __init__(self, size: int, series: int = 1):
        self.series = series
        self.n = 0
        self.m = np.zeros((size, size))
        self.mm = np.zeros((size, size))
        self.s = np.zeros(series)
        self.ss = np.zeros(series)
        self.sm = np.zeros((series, size, size))

    def add(self, scores: np.ndarray, masks: np.ndarray) -> None:
        """scores: k values (one series) or series x k; masks: k x S x S."""
        scores = np.asarray(scores, dtype=np.float64).reshape(self.series, -1)
        m = masks.astype(np.float64)
        self.n += scores.shape[1]
        self.m += m.sum(axis=0)
        self.mm += np.einsum("kij,kij->ij", m, m)
        for i, series in enumerate(scores):
            self.s[i] += float(series.sum())
            self.ss[i] += float(series @ series)
            self.sm[i] += np.einsum("k,kij->ij", series, m)

    def result(self) -> np.ndarray:
        """S x S correlations (series x S x S for more than one series)."""
        n = self.n
        var_m = np.maximum(self.mm - self.m**2 / n, 0.0)
        maps = []
        for i in range(self.series):
            cov = self.sm[i] - self.s[i] * self.m / n
            var_s = max(self.ss[i] - self.s[i] ** 2 / n, 0.0)
            denom = np.sqrt(var_m * var_s)
            maps.append(np.where(denom > 1e-12, cov / np.maximum(denom, 1e-300), 0.0))
        return maps[0] if self.series == 1 else np.stack(maps)


def explain_corrrise(
    pair: ExplainPair, settings: CorrRiseSettings, seed, progress=None, cancel=None, partial=None
) -> Explanation:
    """CorrRISE maps S_A, S_B (signed Pearson r) with S+ / S- as extras; see module docstring.

    `partial(map_a, map_b, done, total)` receives the correlation of the masks so far
    (from the running sums) about every second.
    """
    settings.validate()
    watch = Stopwatch()
    size = pair.size
    patch = min(size, max(1, round(settings.patch_size * pair.scale)))
    rng = np.random.default_rng(seed)
    runner = BatchRunner(pair.model, progress, cancel, 2 * settings.masks)
    corr = PixelCorrelation(size, series=2)  # face A's scores, face B's scores
    reporter = PartialReporter(partial)
    face_a, face_b = planar(pair.face_a), planar(pair.face_b)
    for start in range(0, settings.masks, runner.batch):
        count = min(runner.batch, settings.masks - start)
        if settings.mask_design == "grid":
            masks = grid_masks(rng, count, size, patch)
        else:
            masks = square_masks(rng, count, size, settings.patches, patch)
        f_a = runner.embed(as_images(face_a[None] * masks[:, None]))
        f_b = runner.embed(as_images(face_b[None] * masks[:, None]))
        scores = (
            pair_scores(pair.model, f_a, pair.emb_b),
            pair_scores(pair.model, pair.emb_a, f_b),
        )
        corr.add(np.stack(scores), masks)
        reporter.offer(runner.done, runner.total, lambda: tuple(corr.result()))
    s_a, s_b = corr.result()
    extras = {
        "a_s_plus": np.maximum(s_a, 0).astype(np.float32),
        "a_s_minus": np.minimum(s_a, 0).astype(np.float32),
        "b_s_plus": np.maximum(s_b, 0).astype(np.float32),
        "b_s_minus": np.minimum(s_b, 0).astype(np.float32),
    }
    return Explanation(
        method="corrrise",
        map_a=s_a.astype(np.float32),
        map_b=s_b.astype(np.float32),
        parameters=asdict(settings) | {"patch_size_px": patch},
        seed=seed,
        forward_passes=runner.passes,
        seconds=watch.seconds,
        model_id=pair.model.id,
        units="Pearson r between similarity and mask value; S+ >= 0 similar, S- < 0 dissimilar",
        extras=extras,
    )
