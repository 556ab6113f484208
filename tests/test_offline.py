"""The network guard used by the comparison tests really catches connections."""

import socket

import pytest


def test_guard_refuses_connections(no_network):
    with pytest.raises(AssertionError, match="network connection attempted"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert no_network == [("127.0.0.1", 9)]
