"""Shared pytest setup: headless Qt, the shared photo folder, a network guard, the GUI fixtures.

Under CI (the `CI` environment variable set, as .ci/run does) a test that
would be skipped -- shared photos missing, a tool not installed -- fails
instead, so CI cannot pass green without running everything.
"""

from __future__ import annotations

import gc
import os
import socket
import tempfile
from pathlib import Path

import pytest

import core  # noqa: F401  (sets OMP_WAIT_POLICY before any test imports torch)

# Must be set before any QApplication exists; without it Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Signing keys (core/signing/keys.py) go to a throw-away folder, never the user's.
os.environ["PATCHWISE_KEY_DIR"] = tempfile.mkdtemp(prefix="patchwise-test-keys-")

REPO = Path(__file__).resolve().parents[1]
FACES = REPO.parent / "shared" / "data" / "faces"
GUI_MODEL = "mobileface"  # 112 px, 4x4 grid: keeps the GUI tests fast
GUI_WAIT_MS = 120_000
CACHE_VARIABLES = ("PATCHWISE_CACHE_DIR", "PATCHWISE_STORE_DIR")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skip is a failure (the reason is kept)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run every test: {reason}"


@pytest.fixture(scope="session", autouse=True)
def user_cache_for_tests(tmp_path_factory):
    """The user cache (and the embedding store in it) for this session, not the user's."""
    folder = tmp_path_factory.mktemp("user-cache")
    saved = {name: os.environ.pop(name, None) for name in CACHE_VARIABLES}
    os.environ["PATCHWISE_CACHE_DIR"] = str(folder)
    yield folder
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def collection_on_the_gui_thread(request):
    """GUI tests run with Python's cycle collector off and collect on this (the GUI)
    thread when they end, as the application does (gui/app.py): a collection started by
    a worker thread once destroyed an earlier test's Qt objects there and deadlocked
    with the GUI thread."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    gc.disable()
    yield
    gc.enable()
    gc.collect()


@pytest.fixture(autouse=True)
def empty_occlusion_cache():
    """Every test starts without other tests' X-Map occlusions: a cached run would make an
    X-Map finish at once and the result depend on the order the tests ran in."""
    from core.explainers.xmaps import clear_occlusion_cache

    clear_occlusion_cache()


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The shared real photos (never copied into the repository)."""
    if not FACES.is_dir():
        pytest.skip(f"shared photos not found at {FACES}")
    return FACES


@pytest.fixture
def genuine_small(faces_dir) -> tuple[str, str]:
    """Two small photos of one person (fast to detect and compare)."""
    folder = faces_dir / "identities" / "obama"
    return str(folder / "obama_6_small.jpg"), str(folder / "obama_5_240p.jpg")


@pytest.fixture
def make_window(qtbot, engine, tmp_path, monkeypatch):
    """Workbench windows on the module's engine: offscreen, settings and caches in tmp_path,
    and dialogs recorded in `window.dialogs` instead of shown (Discard when asked)."""
    from PySide6.QtCore import QSettings, QStandardPaths

    from gui.main_window import DISCARD, MainWindow

    monkeypatch.setenv("PATCHWISE_CACHE_DIR", str(tmp_path / "cache"))
    QStandardPaths.setTestModeEnabled(True)
    windows = []

    def make(ask_before_discard: bool = True, model_id: str = GUI_MODEL):
        ini = str(tmp_path / f"settings{len(windows)}.ini")
        settings = QSettings(ini, QSettings.Format.IniFormat)
        win = MainWindow(engine, settings, model_id=model_id, ask_before_discard=ask_before_discard)
        win.dialogs = []
        win.show_error = lambda title, text: win.dialogs.append(("error", title, text))
        win.show_warning = lambda title, text: win.dialogs.append(("warning", title, text))
        win.ask_discard = lambda: win.dialogs.append(("ask", "", "")) or DISCARD
        qtbot.addWidget(win)
        win.resize(1400, 880)
        win.show()
        qtbot.waitExposed(win)
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.runner.shutdown()


def load_pair(qtbot, win, q: str, k: str) -> None:
    """Load Q and K in a workbench window and wait until the pair is shown (or failed)."""
    with qtbot.waitSignal(win.ready, timeout=GUI_WAIT_MS):
        win.load_photo("q", q)
        win.load_photo("k", k)


@pytest.fixture(scope="module")
def engine():
    """A CPU engine with the bundled MTCNN; one per test module, so caches start empty."""
    import torch

    from core.detection.select import make_detector
    from core.engine import Engine

    cpu = torch.device("cpu")
    return Engine(make_detector("mtcnn", device=cpu), cpu)


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to open a network connection."""
    attempts: list[tuple] = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"network connection attempted to {address!r}")

    # socket.create_connection and every HTTP client end up in one of these.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts
