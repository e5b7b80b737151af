from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.utils.twilio_server import TwilioRecorder, twilio_api


@pytest.fixture
def api() -> Iterator[TwilioRecorder]:
    with twilio_api("AC" + "c" * 32, "notice-token") as recorder:
        yield recorder
