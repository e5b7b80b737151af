"""Replies are threaded, marked automatic, escaped, and really delivered over SMTP."""

from __future__ import annotations

import pytest

from accounts.email_message import SendError, render_email
from inbox.parse import parse_email
from inbox.reply import SmtpSender, compose_reply, reply_message_id
from tests.inbox import corpus
from tests.utils.servers import free_port
from tests.utils.smtp_server import SmtpTestServer

FROM = "customerservice@valleysprings-water.example.com"


def test_compose_threads_and_marks_auto_replied() -> None:
    parsed = parse_email(corpus.reply_with_quote("<first@valleysprings-water.example.com>"))
    draft = compose_reply(
        parsed,
        to_address=parsed.from_address,
        body="Thanks.",
        from_address=FROM,
        signature="Valley Springs Water District",
    )
    assert draft.subject == "Re: Your bill"
    assert draft.headers["In-Reply-To"] == "<reply-quote@mail.example.com>"
    assert draft.headers["References"] == (
        "<first@valleysprings-water.example.com> <reply-quote@mail.example.com>"
    )
    assert draft.headers["Auto-Submitted"] == "auto-replied"
    assert draft.headers["X-Auto-Response-Suppress"] == "All"
    assert draft.headers["Message-ID"] == reply_message_id(
        inbound_message_id=parsed.message_id, domain="valleysprings-water.example.com"
    )
    assert draft.body_text == "Thanks.\n\n-- \nValley Springs Water District\n"


def test_render_has_plain_and_html_alternatives() -> None:
    parsed = parse_email(corpus.plain())
    draft = compose_reply(
        parsed,
        to_address="dana.whitfield@example.com",
        body="Línea 1\n\nLine <2>",
        from_address=FROM,
        signature="Firma",
    )
    message = render_email(draft)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None and "Línea 1" in plain.get_content()
    assert rich is not None and "Line &lt;2&gt;" in rich.get_content()
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<plain-1@mail.example.com>"


async def test_smtp_sender_delivers(smtp_server: SmtpTestServer) -> None:
    parsed = parse_email(corpus.spanish_latin1())
    draft = compose_reply(
        parsed,
        to_address=parsed.from_address,
        body="Su saldo está disponible.",
        from_address=FROM,
        signature="Servicio al Cliente",
    )
    sender = SmtpSender(host=smtp_server.host, port=smtp_server.port)
    await sender.send(render_email(draft))
    (received,) = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["maria.gonzalez@example.com"]
    assert received.message["Subject"] == "Re: ¿Cuánto debo?"
    assert received.message["In-Reply-To"] == "<spanish@mail.example.com>"
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None and "Su saldo está disponible." in body.get_content()


async def test_smtp_temporary_failure_is_retryable(smtp_server: SmtpTestServer) -> None:
    smtp_server.refuse = True
    parsed = parse_email(corpus.plain())
    draft = compose_reply(
        parsed, to_address="a@example.com", body="x", from_address=FROM, signature=""
    )
    with pytest.raises(SendError) as info:
        await SmtpSender(host=smtp_server.host, port=smtp_server.port).send(render_email(draft))
    assert not info.value.permanent


async def test_smtp_down_is_retryable() -> None:
    parsed = parse_email(corpus.plain())
    draft = compose_reply(
        parsed, to_address="a@example.com", body="x", from_address=FROM, signature=""
    )
    sender = SmtpSender(host="127.0.0.1", port=free_port(), timeout=5)
    with pytest.raises(SendError) as info:
        await sender.send(render_email(draft))
    assert not info.value.permanent
