"""Resources and the build's commit from source and from the desktop bundle, where
PyInstaller sets sys.frozen and sys._MEIPASS (core/resource_paths.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.case.environment import git_commit
from core.resource_paths import RESOURCES_DIR, application_root, is_frozen

REPO = Path(__file__).resolve().parents[1]


def test_from_source_resources_are_in_the_repository():
    assert not is_frozen()
    assert application_root() == REPO
    assert RESOURCES_DIR == REPO / "resources"
    assert (RESOURCES_DIR / "models" / "manifest.json").is_file()


def test_in_the_bundle_resources_and_commit_come_from_its_data_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert is_frozen() and application_root() == tmp_path
    assert git_commit() is None  # nothing recorded: unknown, not the enclosing checkout's
    (tmp_path / "build_info.json").write_text(json.dumps({"git_commit": "abc123"}))
    assert git_commit() == "abc123"
