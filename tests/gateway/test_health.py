from __future__ import annotations

from pathlib import Path

import httpx

from accounts.clock import FixedClock
from accounts.settings import Settings
from gateway.app import create_app
from gateway.services import build_services
from tests.utils.live_server import serve

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_each_component(settings: Settings, clock: FixedClock) -> None:
    # Rasa and actions point at closed ports: the gateway still answers, degraded.
    settings.rasa_url = "http://127.0.0.1:9"
    settings.actions_url = "http://127.0.0.1:9"
    app = create_app(build_services(settings, clock=clock))
    with serve(app) as server:
        response = httpx.get(f"{server.url}/healthz", timeout=10)
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["components"]["db"]["status"] == "ok"
    assert set(body["components"]) == {"db", "rasa", "actions", "inbox"}
    assert body["components"]["rasa"]["status"] == "down"


def test_healthz_database_down(tmp_path: Path, clock: FixedClock) -> None:
    settings = Settings(_env_file=None, database_url="postgresql+psycopg://nobody@127.0.0.1:9/x",
                        district_file=ROOT / "bot" / "district.yml")
    app = create_app(build_services(settings, clock=clock))
    with serve(app) as server:
        body = httpx.get(f"{server.url}/healthz", timeout=10).json()
    assert body["status"] == "degraded"
    assert body["components"]["db"]["status"] == "down"
