"""The real action server against the live gateway: one process per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tests.utils.action_server import ActionClient, ActionServer, load_domain, serve_actions
from tests.utils.live_server import LiveServer
from tests.utils.servers import free_port


@pytest.fixture(scope="session")
def action_server(shared_gateway: LiveServer,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    with serve_actions(shared_gateway.url, tmp_path_factory.mktemp("actions")) as server:
        yield server


@pytest.fixture(scope="session")
def broken_action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    """An action server whose gateway is down (nothing listens on its port)."""
    url = f"http://127.0.0.1:{free_port()}"
    with serve_actions(url, tmp_path_factory.mktemp("actions-broken")) as server:
        yield server


@pytest.fixture
def actions(action_server: ActionServer, seeded: Session, gateway: LiveServer) -> ActionClient:
    """Run actions against this test's seeded database (SQLite and PostgreSQL)."""
    return ActionClient(action_server, load_domain())
