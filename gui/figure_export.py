"""Export any figure of the workbench (a photo with its overlay, the pair grid, a batch
plot) as PNG or SVG, written atomically (core/atomic_write.py).

PNG is the widget as drawn on screen; SVG is the same drawing rendered through
QtSvg (lines, text and shapes as vectors, images embedded as pixels).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QAction, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QWidget

from core.atomic_write import write_bytes_atomically
from core.errors import UsageError

FILTER = "PNG image (*.png);;SVG drawing (*.svg)"


def png_bytes(widget: QWidget) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def svg_bytes(widget: QWidget, title: str) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(widget.size())
    generator.setViewBox(widget.rect())
    generator.setTitle(title)
    generator.setDescription("Exported from the Patchwise workbench")
    painter = QPainter(generator)
    widget.render(painter)
    painter.end()
    buffer.close()
    return bytes(data)


def export_figure(widget: QWidget, path: str) -> str:
    """Write `widget` to `path` (.png or .svg); returns the path written."""
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        data = png_bytes(widget)
    elif suffix == ".svg":
        data = svg_bytes(widget, Path(path).stem)
    else:
        raise UsageError(f"{path}: export as .png or .svg")
    write_bytes_atomically(path, data)
    return path


def add_export_action(widget: QWidget, name: str, window) -> QAction:
    """A right-click "Export as PNG or SVG…" on `widget`; errors go to window.show_error."""
    action = QAction("Export as PNG or SVG…", widget)

    def export() -> None:
        path, _ = QFileDialog.getSaveFileName(widget, f"Export {name}", f"{name}.png", FILTER)
        if not path:
            return
        try:
            export_figure(widget, path)
        except (UsageError, OSError) as exc:
            window.show_error("Cannot export the figure", str(exc))

    action.triggered.connect(export)
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    widget.addAction(action)
    return action


def add_window_export_actions(window) -> None:
    """Export on the workbench's photos, aligned faces and pair grid."""
    for side, pane in window.panes.items():
        add_export_action(pane.photo_widget, f"photo-{side}", window)
        add_export_action(pane.aligned_widget, f"aligned-face-{side}", window)
    add_export_action(window.grid.graphics, "pair-grid", window)
