"""Shared pytest setup: headless Qt, the shared photo folder, and a network guard."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

# Must be set before any QApplication exists; without it Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
FACES = REPO.parent / "shared" / "data" / "faces"
CACHE_VARIABLES = ("PATCHWISE_CACHE_DIR", "PATCHWISE_STORE_DIR")


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


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The shared real photos (never copied into the repository)."""
    if not FACES.is_dir():
        pytest.skip(f"shared photos not found at {FACES}")
    return FACES


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
