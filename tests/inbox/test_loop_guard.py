"""Every RFC 3834 loop-prevention rule, and bounce recognition."""

from __future__ import annotations

import pytest

from inbox.loop_guard import detect_bounce, reply_address, should_auto_reply
from inbox.parse import parse_email
from tests.inbox import corpus

OWN = ["customerservice@valleysprings-water.example.com", "noreply@valleysprings-water.example.com"]


def _decide(raw: bytes) -> tuple[bool, str]:
    return should_auto_reply(parse_email(raw), own_addresses=OWN)


def test_ordinary_customer_mail_may_be_answered() -> None:
    assert _decide(corpus.plain()) == (True, "ok")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-submitted"),
        ({"Auto-Submitted": "auto-generated"}, "auto-submitted"),
        ({"Auto-Submitted": "auto-notified; owner-email=x@y.example"}, "auto-submitted"),
        ({"Precedence": "bulk"}, "precedence"),
        ({"Precedence": "junk"}, "precedence"),
        ({"Precedence": "list"}, "precedence"),
        ({"List-Id": "<news.example.com>"}, "list"),
        ({"List-Unsubscribe": "<mailto:u@example.com>"}, "list"),
        ({"Return-Path": "<>"}, "empty-return-path"),
        ({"X-Autoreply": "yes"}, "x-autoreply"),
        ({"X-Auto-Response-Suppress": "All"}, "auto-response-suppressed"),
        ({"X-Auto-Response-Suppress": "DR, OOF"}, "auto-response-suppressed"),
        ({"X-Loop": "customerservice@valleysprings-water.example.com"}, "x-loop"),
        ({"Reply-To": "noreply@valleysprings-water.example.com"}, "own-address"),
    ],
)
def test_header_rules_block_auto_reply(headers: dict[str, str], reason: str) -> None:
    assert _decide(corpus.plain(extra_headers=headers)) == (False, reason)


def test_auto_submitted_no_is_allowed() -> None:
    assert _decide(corpus.plain(extra_headers={"Auto-Submitted": "no"})) == (True, "ok")


def test_non_empty_return_path_is_allowed() -> None:
    raw = corpus.plain(extra_headers={"Return-Path": "<dana.whitfield@example.com>"})
    assert _decide(raw) == (True, "ok")


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@example.net",
        "postmaster@example.net",
        "no-reply@shop.example.com",
        "noreply@shop.example.com",
        "donotreply@bank.example.com",
    ],
)
def test_machine_senders_are_not_answered(sender: str) -> None:
    assert _decide(corpus.plain(sender=sender)) == (False, "system-sender")


def test_own_address_is_not_answered() -> None:
    raw = corpus.plain(sender="customerservice@valleysprings-water.example.com")
    assert _decide(raw) == (False, "own-address")


def test_no_sender_is_not_answered() -> None:
    assert _decide(
        corpus.no_message_id().replace(b"From: dana.whitfield@example.com\r\n", b"")
    ) == (
        False,
        "no-sender",
    )


def test_corpus_auto_reply_is_not_answered() -> None:
    assert _decide(corpus.auto_reply()) == (False, "auto-submitted")


def test_dsn_bounce() -> None:
    parsed = parse_email(corpus.bounce_dsn("gone.customer@example.net"))
    bounce = detect_bounce(parsed, own_addresses=OWN)
    assert bounce is not None
    assert bounce.kind == "dsn"
    assert bounce.failed_recipients == ("gone.customer@example.net",)
    assert bounce.permanent
    assert should_auto_reply(parsed, own_addresses=OWN) == (False, "bounce")


def test_dsn_delayed_is_a_bounce_without_failed_recipients() -> None:
    raw = (
        corpus.bounce_dsn()
        .replace(b"Action: failed", b"Action: delayed")
        .replace(b"Status: 5.1.1", b"Status: 4.4.1")
    )
    bounce = detect_bounce(parse_email(raw), own_addresses=OWN)
    assert bounce is not None
    assert bounce.failed_recipients == ()
    assert not bounce.permanent


def test_plain_text_bounce_from_mailer_daemon() -> None:
    parsed = parse_email(corpus.bounce_plain("old.address@example.net"))
    bounce = detect_bounce(parsed, own_addresses=OWN)
    assert bounce is not None
    assert bounce.kind == "plain"
    # Only the failed address: not ours (in the copied message) nor the daemon's.
    assert bounce.failed_recipients == ("old.address@example.net",)
    assert should_auto_reply(parsed, own_addresses=OWN) == (False, "bounce")


def test_customer_complaining_about_undelivered_mail_is_not_a_bounce() -> None:
    raw = corpus.plain(subject="Undelivered mail from you?", body="I never got my bill email.")
    assert detect_bounce(parse_email(raw), own_addresses=OWN) is None


def test_reply_address_prefers_reply_to() -> None:
    raw = corpus.plain(extra_headers={"Reply-To": "Dana <Dana.Home@Example.com>"})
    assert reply_address(parse_email(raw)) == "dana.home@example.com"
    assert reply_address(parse_email(corpus.plain())) == "dana.whitfield@example.com"
