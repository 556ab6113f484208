"""File → Open recent: the last photos and cases, kept in the settings (newest first)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from core.case.case_file import CASE_SUFFIX

MAX_RECENT = 8
KEY = "recent_files"


def recent(settings) -> list[str]:
    value = settings.value(KEY, [])
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def remember(settings, path: str) -> None:
    """Put `path` first in the list (once), keeping MAX_RECENT entries."""
    path = str(Path(path).resolve())
    settings.setValue(KEY, [path, *[p for p in recent(settings) if p != path]][:MAX_RECENT])


def fill_menu(menu: QMenu, window) -> None:
    """The menu's entries: a case opens as a case, a photo goes to Q (Shift: to K)."""
    menu.clear()
    for path in recent(window.settings):
        action = QAction(Path(path).name, menu)
        action.setToolTip(path)
        if path.lower().endswith(CASE_SUFFIX):
            action.triggered.connect(lambda _=False, p=path: window.open_recent_case(p))
        else:
            action.triggered.connect(lambda _=False, p=path: window.load_photo("q", p))
        menu.addAction(action)
    menu.setEnabled(bool(menu.actions()))
