"""Building a real inbox (worker + outbox) for tests from local servers.

``RuleClassifier`` stands in for the Rasa NLU where a test is about triage
rules rather than language understanding (the real Rasa server reads mail in
test_classify.py and in the district trial, test_trial.py). It reads keywords,
like a customer service clerk skimming subject lines, and is as sure of itself
as the trained model: one intent near 1.0 even when a text asks two things
(triage finds the second request sentence by sentence).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from accounts.clock import FixedClock
from accounts.email_message import EmailSender
from accounts.settings import Settings
from gateway.services import Services, build_services
from inbox.classify import Classification
from inbox.service import Inbox, build_inbox
from inbox.sources import ImapSource, MailSource, imap_client_factory
from tests.utils.dovecot import DovecotUser

RULES: list[tuple[str, str]] = [
    (r"gushing|main break|sewer|hydrant", "report_emergency"),
    (r"safe to drink|boil|cloudy|discolou?red|brown water", "water_quality"),
    (r"no water|outage|water back|sin agua", "outage"),
    (r"payment plan|plan de pagos|can.t pay", "payment_arrangement"),
    (r"too high|wrong|four times|overcharg|muy alta|dispute|is way too", "billing_dispute"),
    (r"leak|fuga", "leak_adjustment"),
    (r"shut off|turn(ed)? (it )?back on|restore|cortaron", "service_restoration"),
    (r"how much|balance|\bowe\b|cu[aá]nto debo|saldo", "check_balance"),
    (r"\bpay\b|pagar", "make_payment"),
    (r"start service|moving in|new service", "start_service"),
    (r"stop service|moving out|final bill", "stop_service"),
    (r"rude|complain|queja", "complaint"),
    (r"office|hours|open on", "office_info"),
    (r"rebate|reembolso", "rebate"),
    (r"^(re: )?.*\n?(thanks|thank you|gracias)[.!]*$", "thank_you"),
]


@dataclass
class RuleClassifier:
    """Keyword intents with Rasa-shaped output; counts its calls."""

    calls: int = 0

    def classify(self, text: str) -> Classification:
        self.calls += 1
        lowered = text.lower()
        found = [intent for pattern, intent in RULES if re.search(pattern, lowered)]
        if not found:
            return Classification(
                intent="out_of_scope", confidence=0.3, ranking=(("out_of_scope", 0.3),)
            )
        ranking = ((found[0], 0.92), *((i, 0.02) for i in found[1:]))
        return Classification(intent=found[0], confidence=ranking[0][1], ranking=ranking)


def imap_source(user: DovecotUser, *, use_move: bool | None = None) -> ImapSource:
    """An IMAP source on a Dovecot test mailbox."""
    factory = imap_client_factory(
        host=user.host, port=user.port, user=user.name, password=user.password, ssl=False
    )
    return ImapSource(
        factory,
        name=f"imap://{user.name}@{user.host}:{user.port}/INBOX",
        use_move=use_move,
        sleep=lambda _s: None,
    )


def services_for(
    settings: Settings, engine: Engine, clock: FixedClock
) -> Generator[Services, None, None]:
    """The service container on the test database (its HTTP clients closed afterwards)."""
    services = build_services(settings, engine=engine, clock=clock)
    try:
        yield services
    finally:
        asyncio.run(services.http.aclose())
        services.http_sync.close()


def make_inbox(
    services: Services,
    *,
    source: MailSource,
    sender: EmailSender,
    classifier: object | None = None,
    holder: str = "worker-1",
    lease_ttl: timedelta = timedelta(seconds=90),
) -> Inbox:
    """The production wiring with test parts."""
    inbox = build_inbox(
        services,
        source=source,
        sender=sender,
        classifier=classifier if classifier is not None else RuleClassifier(),  # type: ignore[arg-type]
        holder=holder,
        lease_ttl=lease_ttl,
    )
    source.open()
    return inbox


def attachments_root(settings: Settings) -> Path:
    """Where the worker stores attachments for ``settings``."""
    return settings.var_dir / "attachments"
