"""Validation plots as PNG files, drawn headless with matplotlib's Agg canvas.

Figures are built with matplotlib.figure.Figure and FigureCanvasAgg directly, so
no GUI backend (and no Qt) is ever selected. Tippett, PAV, ECE and the LR
histogram are lir's own plotting functions drawn onto these axes; ROC and DET
are drawn here from scikit-learn's curves (DET axes on the normal-deviate scale).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from lir.data.models import LLRData
from lir.plotting import lr_histogram, pav, tippett
from lir.plotting.expected_calibration_error import plot_ece
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.stats import norm
from sklearn.metrics import det_curve, roc_curve

from core.atomic_write import write_bytes_atomically

DPI = 110
DET_TICKS = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95)
RATE_FLOOR = 1e-4


def _save(figure: Figure, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    write_bytes_atomically(path, buffer.getvalue())


def _axes(title: str):
    figure = Figure(figsize=(5.5, 4.2), dpi=DPI, layout="constrained")
    ax = figure.add_subplot()
    ax.set_title(title, fontsize=10)
    return figure, ax


def roc_plot(scores, same, path: Path, subtitle: str) -> None:
    fpr, tpr, _ = roc_curve(same, scores)
    figure, ax = _axes(f"ROC — {subtitle}")
    ax.plot(fpr, tpr, drawstyle="steps-post")
    ax.plot([0, 1], [0, 1], ":", color="gray")
    ax.set_xlabel("false accept rate (FAR)")
    ax.set_ylabel("true accept rate (TAR)")
    ax.grid(True, linestyle=":")
    _save(figure, path)


def det_plot(scores, same, path: Path, subtitle: str) -> None:
    fpr, fnr, _ = det_curve(same, scores)
    clip = 1 - RATE_FLOOR
    figure, ax = _axes(f"DET — {subtitle}")
    ax.plot(norm.ppf(np.clip(fpr, RATE_FLOOR, clip)), norm.ppf(np.clip(fnr, RATE_FLOOR, clip)))
    ticks = norm.ppf(DET_TICKS)
    labels = [f"{t:g}" for t in DET_TICKS]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set_xlim(ticks[0], ticks[-1])
    ax.set_ylim(ticks[0], ticks[-1])
    ax.set_xlabel("false accept rate (normal deviate scale)")
    ax.set_ylabel("false reject rate (normal deviate scale)")
    ax.grid(True, linestyle=":")
    _save(figure, path)


def lir_plot(draw, llrs, same, path: Path, title: str) -> None:
    """One of lir's plots (tippett, pav, plot_ece, lr_histogram) on its own figure."""
    figure, ax = _axes(title)
    draw(
        LLRData(features=np.asarray(llrs, dtype=np.float64), labels=np.asarray(same, dtype=int)),
        ax=ax,
    )
    _save(figure, path)


def write_plots(out_dir: Path, scores, same, llrs, subtitle: str) -> list[str]:
    """Write every validation PNG into out_dir; return their file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    roc_plot(scores, same, out_dir / "roc.png", subtitle)
    det_plot(scores, same, out_dir / "det.png", subtitle)
    lir_plot(tippett, llrs, same, out_dir / "tippett.png", f"Tippett — {subtitle}")
    lir_plot(pav, llrs, same, out_dir / "pav.png", f"PAV — {subtitle}")
    lir_plot(plot_ece, llrs, same, out_dir / "ece.png", f"ECE — {subtitle}")
    lir_plot(
        lr_histogram, llrs, same, out_dir / "lr_histogram.png", f"log10 LR histogram — {subtitle}"
    )
    return ["roc.png", "det.png", "tippett.png", "pav.png", "ece.png", "lr_histogram.png"]
