"""The gateway served by a real uvicorn server on a loopback port, in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from tests.utils.servers import free_port, wait_for_port


@dataclass
class LiveServer:
    """A running server and its base URL."""

    url: str
    port: int
    app: FastAPI


@contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[LiveServer]:
    """Serve ``app`` until the block ends."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not wait_for_port(port, timeout=15):
        server.should_exit = True
        raise RuntimeError("the gateway did not start")
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", port=port, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
