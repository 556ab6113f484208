"""The explain-bench figure: accuracy vs share of pixels deleted / inserted, per explainer.

Drawn headless on matplotlib's Agg canvas (no GUI backend), as validation_plots.py does.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def accuracy_curves_png(results: dict[str, dict], title: str) -> bytes:
    """PNG bytes: two panels (deletion, insertion); a solid line per explainer and a dashed
    line for its random-map baseline, accuracy in % against the share of pixels."""
    figure = Figure(figsize=(10, 4.2), dpi=110, layout="constrained")
    figure.suptitle(title, fontsize=10)
    for column, name in enumerate(("deletion", "insertion")):
        ax = figure.add_subplot(1, 2, column + 1)
        for method, result in results.items():
            x = [100 * f for f in result["fractions"]]
            line = ax.plot(x, [100 * a for a in result["curves"][name]["accuracy"]], label=method)
            ax.plot(
                x,
                [100 * a for a in result["random_curves"][name]["accuracy"]],
                linestyle="--",
                color=line[0].get_color(),
                alpha=0.5,
            )
        ax.set_title(f"{name} (dashed: random maps)", fontsize=9)
        ax.set_xlabel(f"pixels {'deleted' if name == 'deletion' else 'inserted'} (%)")
        ax.set_ylabel("verification accuracy on matching pairs (%)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        if column == 1:
            ax.legend(fontsize=8, loc="lower right")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
