"""The network guard used by the comparison tests really catches connections."""

import socket

import pytest


def test_guard_refuses_connections(no_network):
    with pytest.raises(AssertionError, match="network connection attempted"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert no_network == [("127.0.0.1", 9)]


def test_core_never_imports_qt():
    import subprocess
    import sys

    code = (
        "import sys, core.engine, core.cli, core.inventory; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
