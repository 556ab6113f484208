"""The window's menus: File (cases, photos, Quit), Edit (undo, details, galleries, explainer
runtime), Maps (sanity check of the map on show), Tools (batch evaluation), Help."""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from core.workbench.explainer_catalogue import RUNTIME_LABELS
from gui import window_chrome as chrome
from gui.recent_files import fill_menu


def _add(window, menu, entries, named: dict) -> None:
    for name, title, keys, slot in entries:
        action = QAction(title, window)
        if keys is not None:
            action.setShortcut(keys)
        action.triggered.connect(lambda _=False, f=slot: f())
        menu.addAction(action)
        if name:
            named[name] = action


def _add_runtime_menu(window, menu, named: dict) -> None:
    """One checkable action per runtime of the explainers' black-box passes (persisted)."""
    group = QActionGroup(window)
    group.setExclusive(True)
    for runtime, title in RUNTIME_LABELS.items():
        action = QAction(title, window, checkable=True)
        action.setChecked(runtime == window.session.runtime)
        action.setToolTip("the score and its decomposition always come from torch")
        action.triggered.connect(lambda _=False, r=runtime: window._choose_runtime(r))
        group.addAction(action)
        menu.addAction(action)
        named[f"runtime_{runtime}"] = action


def build_menus(window) -> dict[str, QAction]:
    """Fill the window's menu bar; returns the actions tests and views refer to, by name."""
    named: dict[str, QAction] = {}
    keys = QKeySequence.StandardKey
    file_menu = window.menuBar().addMenu("&File")
    case_entries = (
        ("new", "&New case", keys.New, window.new_case),
        ("open", "Open &case…", QKeySequence("Ctrl+Alt+O"), window.open_case_dialog),
        ("save", "&Save case", keys.Save, window.save_case),
        ("save_as", "Save case &as…", keys.SaveAs, window.save_case_as),
        ("export", "&Export report…", QKeySequence("Ctrl+E"), window.export_report_dialog),
    )
    photo_entries = (
        (None, "Open &Questioned (Q)…", keys.Open, lambda: window.open_dialog("q")),
        (
            None,
            "Open &Reference (K)…",
            QKeySequence("Ctrl+Shift+O"),
            lambda: window.open_dialog("k"),
        ),
    )
    _add(window, file_menu, case_entries, named)
    recent_menu = file_menu.addMenu("Open &recent")
    recent_menu.aboutToShow.connect(lambda: fill_menu(recent_menu, window))
    fill_menu(recent_menu, window)
    file_menu.addSeparator()
    _add(window, file_menu, photo_entries, named)
    file_menu.addSeparator()
    _add(window, file_menu, ((None, "&Quit", keys.Quit, window.close),), named)
    edit_menu = window.menuBar().addMenu("&Edit")
    undo_entries = (
        ("undo", "&Undo", keys.Undo, window.undo),
        ("redo", "&Redo", keys.Redo, window.redo),
    )
    _add(window, edit_menu, undo_entries, named)
    edit_menu.addSeparator()
    edit_entries = (
        ("details", "Case &details…", None, window.edit_case_details),
        ("gallery", "Choose background &gallery…", None, window.choose_gallery),
        ("search", "&Search gallery…", QKeySequence("Ctrl+F"), window.search_gallery),
    )
    _add(window, edit_menu, edit_entries, named)
    _add_runtime_menu(window, edit_menu.addMenu("Explainer &runtime"), named)
    maps = (("sanity", "Sanity check the current &map…", None, window.sanity_check_current_map),)
    _add(window, window.menuBar().addMenu("&Maps"), maps, named)
    tools = ((None, "&Batch evaluation…", QKeySequence("Ctrl+B"), window.open_batch_page),)
    _add(window, window.menuBar().addMenu("&Tools"), tools, named)
    about = ((None, "About Patchwise", None, lambda: chrome.show_about(window)),)
    _add(window, window.menuBar().addMenu("&Help"), about, named)
    return named
