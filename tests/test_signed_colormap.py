"""One colour language: a known signed map drawn by the GUI, the CLI and the PDF paths."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from core.signed_colormap import DEFAULT_TABLE, MEANING, signed_rgb, table


def known_map() -> np.ndarray:
    """+1 in the top-left quarter, -1 in the bottom-right quarter, 0 elsewhere."""
    values = np.zeros((8, 8))
    values[:4, :4], values[4:, 4:] = 1.0, -1.0
    return values


def test_the_scale_is_centred_on_white_and_red_raises_the_score():
    colours = table(DEFAULT_TABLE)
    assert colours.shape == (256, 3) and not colours.flags.writeable
    white = signed_rgb(0.0, 1.0)
    assert white.min() > 225  # CET-D1's middle is (near) white
    red, blue = signed_rgb(1.0, 1.0), signed_rgb(-1.0, 1.0)
    assert red[0] > red[2] and blue[2] > blue[0]
    assert MEANING.startswith("red raises the score")


def test_gui_cli_and_pdf_paths_give_each_sign_the_same_colour():
    from core.explainers.overlay import render_overlay
    from core.report import figures
    from gui.colormaps import DEFAULT_DIVERGING, colormap, overlay_rgba

    values = known_map()
    face = np.full((8, 8, 3), 128, np.uint8)
    raises, lowers = tuple(table()[-1]), tuple(table()[0])
    gui = overlay_rgba(values, DEFAULT_DIVERGING, opacity=1.0)
    cli = render_overlay(face, values, "diverging", opacity=1.0)
    pdf = figures._blend(face, values, limit=1.0, opacity=1.0)
    for drawn in (gui[..., :3], cli, pdf):
        assert tuple(drawn[0, 0]) == raises and tuple(drawn[7, 7]) == lowers
    assert gui[0, 0, 3] == 255 and gui[0, 7, 3] == 0  # 0 is transparent over the face
    # The GUI's pair grid and colour bar use this table too (pyqtgraph's lookup).
    lookup = colormap(DEFAULT_DIVERGING).getLookupTable(nPts=256, mode="byte")[:, :3]
    np.testing.assert_array_equal(lookup, table())
    # The PDF's colour bar: blue at its left end, red at its right end.
    bar = np.asarray(Image.open(io.BytesIO(figures.colour_bar(1.0, width=300))).convert("RGB"))
    row = bar[10]
    inside = np.flatnonzero(np.abs(row.astype(int) - 255).sum(axis=1) > 0)
    left, right = row[inside[1]].astype(int), row[inside[-2]].astype(int)  # inside the outline
    assert np.abs(left - lowers).max() <= 8 and np.abs(right - raises).max() <= 8
