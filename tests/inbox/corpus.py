"""A corpus of awkward customer mail, built as raw bytes the way real clients send it.

Each builder returns the bytes a mail server would hand us. ``CORPUS`` maps a
name to a builder; ``build_corpus()`` returns them all. The big attachment is
built lazily (20 MB) so tests that do not need it stay fast.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP

DISTRICT = "customerservice@valleysprings-water.example.com"


def _bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP)


def plain(
    *,
    sender: str = "dana.whitfield@example.com",
    subject: str = "Question about my water",
    body: str = "Is there an outage on Oak Street? We have no water since this morning.",
    message_id: str | None = "<plain-1@mail.example.com>",
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """An ordinary plain-text message."""
    message = EmailMessage()
    message["From"] = f"Customer <{sender}>"
    message["To"] = DISTRICT
    message["Subject"] = subject
    message["Date"] = "Thu, 26 Nov 2026 09:15:00 -0800"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message.set_content(body)
    return _bytes(message)


def no_message_id() -> bytes:
    """A message without a Message-ID header (some scripts and old clients)."""
    return (
        b"From: dana.whitfield@example.com\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: no id here\r\n"
        b"Date: Thu, 26 Nov 2026 09:15:00 -0800\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"When is the office open on Friday?\r\n"
    )


def wrong_charset() -> bytes:
    """Declares UTF-8 but the body is Windows-1252 (smart quotes, accents)."""
    body = "I can\u2019t pay the full amount \u2014 can I get a payment plan? Caf\u00e9 owner.\r\n"
    return (
        b"From: Robert Hale <robert.hale@example.com>\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: payment plan\r\n"
        b"Message-ID: <wrong-charset@mail.example.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n" + body.encode("cp1252")
    )


def unknown_charset() -> bytes:
    """Declares a charset Python does not know."""
    return (
        b"From: someone@example.com\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: =?x-unknown-8?Q?odd_subject?=\r\n"
        b"Message-ID: <unknown-charset@mail.example.com>\r\n"
        b"Content-Type: text/plain; charset=x-unknown-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n" + "Se\u00f1or, no water at 37 Cedar Court".encode("latin-1") + b"\r\n"
    )


def nested_multipart() -> bytes:
    """mixed( related( alternative(plain, html), image ), pdf ) - three levels deep."""
    message = EmailMessage()
    message["From"] = "Linh Tran <linh.tran@example.com>"
    message["To"] = DISTRICT
    message["Subject"] = "Photo of my meter"
    message["Message-ID"] = "<nested@mail.example.com>"
    message.set_content("My meter reading looks wrong, photo attached. Account 1001560.")
    message.add_alternative(
        "<html><body><p>My meter reading looks wrong, photo attached. "
        '<img src="cid:meter"> Account 1001560.</p></body></html>',
        subtype="html",
    )
    parts = message.get_payload()
    assert isinstance(parts, list)
    html_part = parts[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(b"\x89PNG\r\n\x1a\nfakeimage", "image", "png", cid="<meter>")
    message.add_attachment(
        b"%PDF-1.4 fake bill", maintype="application", subtype="pdf", filename="bill.pdf"
    )
    return _bytes(message)


def html_only_with_script() -> bytes:
    """HTML-only body with script, style and a link."""
    message = EmailMessage()
    message["From"] = "dana.whitfield@example.com"
    message["To"] = DISTRICT
    message["Subject"] = "rebates"
    message["Message-ID"] = "<html-only@mail.example.com>"
    message.set_content(
        "<html><head><style>p{color:red}</style><title>T</title>"
        "<script>alert('x'); document.write('EVIL')</script></head>"
        "<body><p>Do you have rebates for a <b>low-flow toilet</b>?</p>"
        '<p>I saw <a href="https://valleysprings-water.example.com/rebates">this page</a>'
        " &amp; want to apply.</p><script>steal()</script></body></html>",
        subtype="html",
    )
    return _bytes(message)


def big_attachment(size: int = 20 * 1024 * 1024) -> bytes:
    """A message with a 20 MB attachment."""
    message = EmailMessage()
    message["From"] = "robert.hale@example.com"
    message["To"] = DISTRICT
    message["Subject"] = "Video of the leak"
    message["Message-ID"] = "<big-attachment@mail.example.com>"
    message.set_content("Here is a video of the leak under my house. My bill is way too high.")
    message.add_attachment(
        os.urandom(size), maintype="video", subtype="mp4", filename="leak video.mp4"
    )
    return _bytes(message)


def forwarded_chain() -> bytes:
    """A forward of a forward: inline Gmail markers, with a message/rfc822 attached too."""
    inner = EmailMessage()
    inner["From"] = "Neighbor <neighbor@example.org>"
    inner["To"] = "robert.hale@example.com"
    inner["Subject"] = "water in the street"
    inner["Message-ID"] = "<inner@mail.example.org>"
    inner.set_content("There is water gushing out of the street near the hydrant on Sycamore.")

    message = EmailMessage()
    message["From"] = "robert.hale@example.com"
    message["To"] = DISTRICT
    message["Subject"] = "Fwd: Fw: water in the street"
    message["Message-ID"] = "<forward@mail.example.com>"
    message.set_content(
        "FYI see below\n\n"
        "---------- Forwarded message ---------\n"
        "From: Neighbor <neighbor@example.org>\n"
        "Date: Wed, 25 Nov 2026 at 18:00\n"
        "Subject: Fw: water in the street\n"
        "To: robert.hale@example.com\n\n"
        "There is water gushing out of the street near the hydrant on Sycamore.\n"
    )
    message.add_attachment(inner)
    return _bytes(message)


def auto_reply() -> bytes:
    """An out-of-office auto-reply (RFC 3834 Auto-Submitted)."""
    return plain(
        sender="linh.tran@example.com",
        subject="Out of office: Re: your bill",
        body="I am out of the office until Monday.",
        message_id="<ooo@mail.example.com>",
        extra_headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )


def bounce_dsn(failed: str = "gone.customer@example.net") -> bytes:
    """A delivery status notification (multipart/report) for a reply we sent."""
    boundary = "dsn-boundary-1"
    return (
        b"Return-Path: <>\r\n"
        b"From: Mail Delivery System <MAILER-DAEMON@mx.valleysprings-water.example.com>\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-1@mx.valleysprings-water.example.com>\r\n"
        b"Auto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status;\r\n"
        b' boundary="' + boundary.encode() + b'"\r\n'
        b"\r\n"
        b"--" + boundary.encode() + b"\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        b"--" + boundary.encode() + b"\r\n"
        b"Content-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.valleysprings-water.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; " + failed.encode() + b"\r\n"
        b"Original-Recipient: rfc822;" + failed.encode() + b"\r\n"
        b"Action: failed\r\n"
        b"Status: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        b"--" + boundary.encode() + b"\r\n"
        b"Content-Type: text/rfc822-headers\r\n\r\n"
        b"From: " + DISTRICT.encode() + b"\r\n"
        b"To: " + failed.encode() + b"\r\n"
        b"Subject: Re: my bill\r\n\r\n"
        b"--" + boundary.encode() + b"--\r\n"
    )


def bounce_plain(failed: str = "old.address@example.net") -> bytes:
    """A plain-text bounce from mailer-daemon (qmail / Exim style)."""
    return (
        b"From: MAILER-DAEMON@mail.example.net\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: failure notice\r\n"
        b"Message-ID: <qmail-bounce@mail.example.net>\r\n"
        b"\r\n"
        b"Hi. This is the qmail-send program at mail.example.net.\r\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        b"<" + failed.encode() + b">:\r\n"
        b"Sorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
        b"--- Below this line is a copy of the message.\r\n\r\n"
        b"From: " + DISTRICT.encode() + b"\r\n"
        b"To: " + failed.encode() + b"\r\n"
        b"Subject: Re: water\r\n"
    )


def empty_body() -> bytes:
    """Subject only, no body at all."""
    return (
        b"From: dana.whitfield@example.com\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: \r\n"
        b"Message-ID: <empty@mail.example.com>\r\n"
        b"\r\n"
    )


def account_in_subject() -> bytes:
    """The account number is in the subject only; the sender is unknown."""
    return plain(
        sender="tenant@example.org",
        subject="Account 1001139 - water shut off",
        body="Please turn it back on, what do I owe?",
        message_id="<acct-subject@mail.example.org>",
    )


def spanish_latin1() -> bytes:
    """Spanish with accents, ISO-8859-1 quoted-printable body and encoded subject."""
    body = "Hola, ¿cuánto debo en mi cuenta? Gracias.\n\nEnviado desde mi iPhone\n"
    return (
        b"From: =?iso-8859-1?Q?Mar=EDa_Gonz=E1lez?= <maria.gonzalez@example.com>\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: =?iso-8859-1?Q?=BFCu=E1nto_debo=3F?=\r\n"
        b"Message-ID: <spanish@mail.example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n" + body.replace("\n", "\r\n").encode("latin-1")
    )


def raw_8bit_header() -> bytes:
    """UTF-8 bytes straight in the From and Subject headers (no RFC 2047)."""
    return (
        "From: José Núñez <jose.nunez@example.com>\r\n"
        f"To: {DISTRICT}\r\n"
        "Subject: Facturación — ¿por qué tan alta?\r\n"
        "Message-ID: <raw8bit@mail.example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Mi factura es muy alta este mes.\r\n"
    ).encode()


def reply_with_quote(in_reply_to: str = "<reply-1@valleysprings-water.example.com>") -> bytes:
    """A customer reply quoting our previous answer, with a signature."""
    return plain(
        sender="robert.hale@example.com",
        subject="Re: Re: Your bill",
        body=(
            "The leak was fixed on November 20th, receipt attached.\n\n"
            "-- \nRobert Hale\n\n"
            "On Thu, Nov 26, 2026 at 9:00 AM Valley Springs Water District <"
            + DISTRICT
            + ">\nwrote:\n> We opened a ticket for your bill.\n> Thanks\n"
        ),
        message_id="<reply-quote@mail.example.com>",
        extra_headers={"In-Reply-To": in_reply_to, "References": in_reply_to},
    )


def outlook_spanish_reply() -> bytes:
    """Outlook-style Spanish reply header block (De:/Enviado:/Para:/Asunto:)."""
    return plain(
        sender="maria.gonzalez@example.com",
        subject="RE: Su cuenta",
        body=(
            "Necesito un plan de pagos por favor.\n\n"
            "De: Valley Springs Water District <" + DISTRICT + ">\n"
            "Enviado: jueves, 26 de noviembre de 2026 9:00\n"
            "Para: maria.gonzalez@example.com\n"
            "Asunto: Su cuenta\n\n"
            "Texto anterior con el saldo.\n"
        ),
        message_id="<outlook-es@mail.example.com>",
    )


def _base64_lines(data: bytes) -> bytes:
    encoded = base64.encodebytes(data)
    return encoded.replace(b"\n", b"\r\n")


CORPUS: dict[str, Callable[[], bytes]] = {
    "plain": plain,
    "no_message_id": no_message_id,
    "wrong_charset": wrong_charset,
    "unknown_charset": unknown_charset,
    "nested_multipart": nested_multipart,
    "html_only_with_script": html_only_with_script,
    "big_attachment": big_attachment,
    "forwarded_chain": forwarded_chain,
    "auto_reply": auto_reply,
    "bounce_dsn": bounce_dsn,
    "bounce_plain": bounce_plain,
    "empty_body": empty_body,
    "account_in_subject": account_in_subject,
    "spanish_latin1": spanish_latin1,
    "raw_8bit_header": raw_8bit_header,
    "reply_with_quote": reply_with_quote,
    "outlook_spanish_reply": outlook_spanish_reply,
}


def build_corpus(*, include_big: bool = True) -> dict[str, bytes]:
    """Every corpus message by name."""
    return {
        name: builder()
        for name, builder in CORPUS.items()
        if include_big or name != "big_attachment"
    }
