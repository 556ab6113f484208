"""Help → About: the version, where each bundled model came from, and the third-party
licences (core/third_party_notices.py).

The manifest and the licence texts are read in a worker (JobRunner channel "about"),
so opening the dialog never blocks the GUI thread; the tabs fill in when they arrive.
"""

from __future__ import annotations

import html
import platform

import torch
from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
)

from core import __version__
from core.case.environment import bundled_git_commit
from core.models.weights import manifest
from core.resource_paths import RESOURCES_DIR, is_frozen
from core.third_party_notices import NO_TEXT, Notice, all_notices

LOADING = "Reading the model manifest and licence files…"
SHOWN_LICENCE_KEYS = ("spdx", "wheel_metadata", "file")  # in the "Licence" row, or a path


def summary_html() -> str:
    """Version, build and runtime facts for the first tab."""
    if is_frozen():
        build = f"desktop bundle built from commit {bundled_git_commit() or 'unknown'}"
    else:
        build = "run from source"
    rows = [
        ("Version", __version__),
        ("Build", f"{build}; resources in {RESOURCES_DIR}"),
        ("Python", platform.python_version()),
        ("torch", torch.__version__),
        ("Qt (PySide6)", pyside_version),
        ("Platform", platform.platform()),
    ]
    table = "".join(
        f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    return (
        "<h2>Patchwise</h2><p>Forensic face comparison with exactly decomposed similarity "
        "scores. Runs offline: nothing is downloaded, weights load only from the bundled "
        "safetensors files listed under Models.</p>"
        f"<table cellspacing='6'>{table}</table>"
    )


def models_html(entries: dict) -> str:
    """Each bundled weights file with its origin, source package, licence and SHA-256."""
    parts = [
        "<p>From resources/models/manifest.json; every file is checked against its SHA-256 "
        "when it is loaded.</p>"
    ]
    for model_id, entry in sorted(entries.items()):
        source = entry.get("source", {})
        source_text = " ".join(
            str(source[k]) for k in ("registry", "package", "version") if source.get(k)
        )
        licence = entry.get("license", {})
        rows = [
            ("File", entry.get("file", "")),
            ("SHA-256", entry.get("sha256", "")),
            ("Origin", entry.get("origin", "")),
            ("Source", source_text),
            ("Licence", licence.get("spdx") or licence.get("wheel_metadata", "")),
            *((key, value) for key, value in licence.items() if key not in SHOWN_LICENCE_KEYS),
            ("Notes", entry.get("notes", "")),
        ]
        table = "".join(
            f"<tr><td valign='top'><b>{html.escape(k)}</b></td><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows
            if v
        )
        parts.append(f"<h3>{html.escape(model_id)}</h3><table cellspacing='4'>{table}</table>")
    return "".join(parts)


class AboutDialog(QDialog):
    """Three tabs: Patchwise, Models, Third-party licences."""

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About Patchwise")
        self.notices: list[Notice] = []
        self.tabs = QTabWidget()
        summary = QTextBrowser()
        summary.setHtml(summary_html())
        self.models_view = QTextBrowser()
        self.models_view.setPlainText(LOADING)
        self.notice_list = QListWidget()
        self.notice_text = QPlainTextEdit(LOADING)
        self.notice_text.setReadOnly(True)
        self.notice_list.currentRowChanged.connect(self._show_notice)
        splitter = QSplitter()
        splitter.addWidget(self.notice_list)
        splitter.addWidget(self.notice_text)
        splitter.setSizes([260, 520])
        self.tabs.addTab(summary, "Patchwise")
        self.tabs.addTab(self.models_view, "Models")
        self.tabs.addTab(splitter, "Third-party licences")
        self.notice_count = QLabel("")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.notice_count)
        layout.addWidget(buttons)
        self.resize(820, 560)
        runner.start(
            "about",
            lambda report, cancelled: (manifest(), all_notices()),
            on_done=self._show_loaded,
            on_error=self._show_error,
        )

    def _show_loaded(self, loaded: tuple[dict, list[Notice]]) -> None:
        entries, self.notices = loaded
        self.models_view.setHtml(models_html(entries))
        self.notice_list.clear()
        for notice in self.notices:
            self.notice_list.addItem(f"{notice.name} {notice.version} — {notice.licence}")
        self.notice_count.setText(
            f"{len(self.notices)} components: bundled model weights, fonts and the Python "
            "distributions Patchwise runs on (also in THIRD_PARTY_NOTICES.txt in the bundle)."
        )
        self.notice_list.setCurrentRow(0)

    def _show_error(self, message: str, expected: bool) -> None:
        text = f"Could not read the manifest or the licence files: {message}"
        self.models_view.setPlainText(text)
        self.notice_text.setPlainText(text)

    def _show_notice(self, row: int) -> None:
        if not 0 <= row < len(self.notices):
            return
        notice = self.notices[row]
        texts = notice.texts or (("", NO_TEXT),)
        self.notice_text.setPlainText(
            f"{notice.name} {notice.version} ({notice.kind})\nLicence: {notice.licence}\n\n"
            + "\n\n".join(f"--- {name} ---\n{text}" if name else text for name, text in texts)
        )
