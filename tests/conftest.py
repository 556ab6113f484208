"""Shared pytest setup: headless Qt, the shared photo folder, and a network guard."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

import core  # noqa: F401  (sets OMP_WAIT_POLICY before any test imports torch)

# Must be set before any QApplication exists; without it Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
FACES = REPO.parent / "shared" / "data" / "faces"


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
