"""Unexpected exceptions: logged to a file in the user data folder, with a dialog pointing to it.

Expected problems (a bad image, no face, a missing model) are PatchwiseErrors
and are shown in the window; only bugs end up here.
"""

from __future__ import annotations

import datetime
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QMessageBox, QWidget

LOG_NAME = "patchwise-errors.log"


def log_path() -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder or Path.home() / ".patchwise") / LOG_NAME


def log_error(text: str) -> Path:
    """Append a timestamped entry (a traceback) to the log; return the log's path."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"--- {stamp}\n{text.rstrip()}\n")
    return path


def report_unexpected(parent: QWidget | None, text: str) -> QMessageBox:
    """Log `text` and open a non-blocking dialog that names the log file."""
    path = log_error(text)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Patchwise: unexpected error")
    box.setText(
        "Something went wrong inside Patchwise (a bug). The workbench is still usable.\n\n"
        f"The details were written to:\n{path}"
    )
    box.setDetailedText(text)
    box.open()
    return box


def install_excepthook(parent: QWidget) -> None:
    """Route uncaught exceptions on the GUI thread to the log and a dialog."""

    def hook(kind, value, tb) -> None:
        report_unexpected(parent, "".join(traceback.format_exception(kind, value, tb)))

    sys.excepthook = hook
