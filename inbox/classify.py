"""Classify an email's text with the assistant's NLU (Rasa ``POST /model/parse``).

The classifier is passed in: production uses :class:`RasaClassifier` with an
injected ``httpx.Client``; tests use the real Rasa server fixture or any object
with the same ``classify`` method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from accounts.errors import SystemError_
from accounts.redact import redact_cards

# Rasa's own fallback names map to the contract's ``out_of_scope``.
_FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope", ""}
MAX_TEXT = 2000


class ClassifierUnavailable(SystemError_):
    """The NLU did not answer (down, slow, or nonsense); the email waits for the next pass."""


@dataclass(frozen=True)
class Classification:
    """The NLU's reading of one text."""

    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    entities: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def entity_values(self, name: str) -> list[str]:
        """Values of entities called ``name``."""
        return [str(e.get("value")) for e in self.entities if e.get("entity") == name]


class Classifier(Protocol):
    """Something that turns text into an intent from docs/contract/intents.yml."""

    def classify(self, text: str) -> Classification:
        """Classify ``text``; raise :class:`ClassifierUnavailable` when it cannot."""
        ...


class RasaClassifier:
    """Rasa's HTTP API (``--enable-api``), protected by its auth token.

    Args:
        http: A synchronous ``httpx.Client`` (injected; owned by the caller).
        base_url: e.g. ``http://127.0.0.1:5005``.
        token: Rasa's ``--auth-token``.
        timeout: Seconds per request.
    """

    def __init__(
        self, *, http: httpx.Client, base_url: str, token: str = "", timeout: float = 10.0
    ) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/model/parse"
        self._token = token
        self._timeout = timeout

    def classify(self, text: str) -> Classification:
        # Card numbers never leave the gateway (PCI DSS).
        payload = {"text": redact_cards(text)[:MAX_TEXT]}
        params = {"token": self._token} if self._token else None
        try:
            response = self._http.post(
                self._url, json=payload, params=params, timeout=self._timeout
            )
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ClassifierUnavailable(f"Rasa parse failed: {type(error).__name__}") from error
        return parse_rasa_response(data)


def parse_rasa_response(data: Any) -> Classification:
    """A :class:`Classification` from Rasa's ``/model/parse`` JSON."""
    if not isinstance(data, dict) or not isinstance(data.get("intent"), dict):
        raise ClassifierUnavailable("Rasa answered without an intent")
    intent = str(data["intent"].get("name") or "")
    confidence = float(data["intent"].get("confidence") or 0.0)
    ranking = tuple(
        (str(item.get("name")), float(item.get("confidence") or 0.0))
        for item in data.get("intent_ranking") or []
        if isinstance(item, dict)
    )
    entities = tuple(e for e in data.get("entities") or [] if isinstance(e, dict))
    if intent in _FALLBACK_INTENTS:
        intent = "out_of_scope"
    return Classification(intent=intent, confidence=confidence, ranking=ranking, entities=entities)
