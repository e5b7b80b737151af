"""Helpers for tests that need a real server: free ports, waiting, failing in CI."""

from __future__ import annotations

import os
import socket
import time

import pytest


def in_ci() -> bool:
    """True on CI, where a missing server is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Fail in CI, skip elsewhere: a test that needs a server it cannot find."""
    if in_ci():
        pytest.fail(f"required server unavailable in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on loopback nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, host: str = "127.0.0.1") -> bool:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.05)
    return False
