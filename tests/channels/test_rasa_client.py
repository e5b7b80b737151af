"""The Rasa client's time bounds and failure handling against real sockets."""

from __future__ import annotations

import httpx
import pytest

from channels.rasa_client import RasaClient, RasaUnavailable
from tests.channels.conftest import ScriptedRasa
from tests.utils.servers import free_port


async def test_answers_are_returned(scripted_rasa: ScriptedRasa) -> None:
    async with httpx.AsyncClient() as http:
        client = RasaClient(http=http, base_url=scripted_rasa.url, token="tok")
        replies = await client.send(
            sender="k1", message="/help", metadata={"channel": "sms"}, timeout=2
        )
    assert replies == [{"recipient_id": "k1", "text": "I can help with bills and outages."}]
    assert scripted_rasa.received == [
        {"sender": "k1", "message": "/help", "metadata": {"channel": "sms"}}
    ]


async def test_unreachable_rasa_is_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        client = RasaClient(http=http, base_url=f"http://127.0.0.1:{free_port()}")
        with pytest.raises(RasaUnavailable, match="ConnectError"):
            await client.send(sender="k", message="hi", metadata={}, timeout=2)


async def test_slow_rasa_is_cut_off_at_the_bound(scripted_rasa: ScriptedRasa) -> None:
    scripted_rasa.delay = 3.0
    async with httpx.AsyncClient() as http:
        client = RasaClient(http=http, base_url=scripted_rasa.url)
        # Without the bound the slow answer would arrive after 3 s and nothing would raise.
        with pytest.raises(RasaUnavailable, match=r"no answer within 0\.5s"):
            await client.send(sender="k", message="hi", metadata={}, timeout=0.5)


@pytest.mark.parametrize("status", [500, 503, 401])
async def test_http_errors_are_unavailable(scripted_rasa: ScriptedRasa, status: int) -> None:
    scripted_rasa.status = status
    async with httpx.AsyncClient() as http:
        client = RasaClient(http=http, base_url=scripted_rasa.url)
        with pytest.raises(RasaUnavailable, match=f"HTTP {status}"):
            await client.send(sender="k", message="hi", metadata={}, timeout=2)


async def test_wrong_shapes_are_unavailable(scripted_rasa: ScriptedRasa) -> None:
    scripted_rasa.responder = lambda payload: {"not": "a list"}  # type: ignore[assignment,return-value]
    async with httpx.AsyncClient() as http:
        client = RasaClient(http=http, base_url=scripted_rasa.url)
        with pytest.raises(RasaUnavailable, match="not a list"):
            await client.send(sender="k", message="hi", metadata={}, timeout=2)
