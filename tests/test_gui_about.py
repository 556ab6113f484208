"""Help → About (pytest-qt, offscreen): version, model provenance and licences."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from core import __version__  # noqa: E402
from core.models.weights import manifest  # noqa: E402
from gui.about_dialog import LOADING, AboutDialog  # noqa: E402
from gui.workers import JobRunner  # noqa: E402


@pytest.fixture
def about(qtbot):
    runner = JobRunner()
    dialog = AboutDialog(runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.notice_list.count() > 0, timeout=30_000)
    yield dialog
    runner.shutdown()


def test_about_shows_version_models_and_licences(about):
    tabs = [about.tabs.tabText(i) for i in range(about.tabs.count())]
    assert tabs == ["Patchwise", "Models", "Third-party licences"]
    assert __version__ in about.tabs.widget(0).toPlainText()
    models = about.models_view.toPlainText()
    assert LOADING not in models
    for model_id, entry in manifest().items():
        assert model_id in models and entry["sha256"] in models
    items = [about.notice_list.item(i).text() for i in range(about.notice_list.count())]
    assert any(item.startswith("torch 2.13.0") for item in items)
    assert any(item.startswith("DejaVu fonts") for item in items)


def test_selecting_a_component_shows_its_licence_text(about):
    items = [about.notice_list.item(i).text() for i in range(about.notice_list.count())]
    row = next(i for i, item in enumerate(items) if item.startswith("reportlab "))
    about.notice_list.setCurrentRow(row)
    text = about.notice_text.toPlainText()
    assert text.startswith("reportlab 5.1.0 (python distribution)")
    assert "ReportLab" in text and "Redistribution" in text


def test_help_about_opens_the_dialog_from_the_window(qtbot, make_window):
    window = make_window()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    about = next(a for a in help_menu.actions() if a.text() == "About Patchwise")
    about.trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.notice_list.count() > 0, timeout=30_000)


def test_the_bundle_names_the_commit_it_was_built_from(tmp_path, monkeypatch):
    import json
    import sys

    from gui.about_dialog import summary_html

    assert "run from source" in summary_html()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    (tmp_path / "build_info.json").write_text(json.dumps({"git_commit": "c4eb02f7fc2f"}))
    assert "desktop bundle built from commit c4eb02f7fc2f" in summary_html()
