"""Fifteen emails a district's mailbox really gets, with what the district expects of each.

Written as a district trial of the inbox against the demo data (``assistant
seed --demo``) and the real Rasa model: the test in ``test_trial.py`` runs them
through the worker and checks each outcome. Every message is raw bytes the way
the sending client produces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from tests.inbox.corpus import DISTRICT, plain


@dataclass(frozen=True)
class TrialMail:
    """One email and the district's expectation."""

    name: str
    raw: bytes
    outcome: str  # answered | escalated | ignored
    ticket_reason: str | None = None  # for a ticket: why a person takes it
    reply: bool = True  # an auto-reply is queued
    reply_contains: tuple[str, ...] = ()
    reply_lacks: tuple[str, ...] = ()


def _html_outlook() -> bytes:
    message = EmailMessage()
    message["From"] = "Patricia Nguyen <pnguyen@outlook.example.com>"
    message["To"] = DISTRICT
    message["Subject"] = "RE: Water pressure"
    message["Message-ID"] = "<BY5PR11MB4.trial-outlook@outlook.example.com>"
    message["Date"] = "Tue, 24 Nov 2026 08:41:00 -0800"
    message["Thread-Topic"] = "Water pressure"
    message.set_content(
        "<html><head><style>p{margin:0}</style></head><body>"
        "<div>Hello,</div><div>Is the office open this Friday after Thanksgiving? "
        "I need to drop off a check in person.</div><div><br></div>"
        "<div>Patricia Nguyen</div><div>Nguyen Family Dental | 530-555-0177</div>"
        "<div>Sent from Outlook</div><hr>"
        '<div id="divRplyFwdMsg"><b>From:</b> Valley Springs Water District<br>'
        "<b>Sent:</b> Monday, November 23, 2026 4:12 PM<br><b>To:</b> Patricia Nguyen<br>"
        "<b>Subject:</b> Water pressure</div>"
        "<div>Thank you for contacting Valley Springs Water District about low pressure, "
        "there is an outage on Oak Street and your bill is due.</div></body></html>",
        subtype="html",
    )
    return message.as_bytes(policy=SMTP)


def _leak_with_pdf() -> bytes:
    message = EmailMessage()
    message["From"] = "Robert Hale <robert.hale@example.com>"
    message["To"] = DISTRICT
    message["Subject"] = "Leak adjustment request - account 1002001"
    message["Message-ID"] = "<leak-pdf-trial@mail.example.com>"
    message["Date"] = "Tue, 24 Nov 2026 07:55:00 -0800"
    message.set_content(
        "Hello,\n\nWe found a leak in the irrigation line behind the garage and had it "
        "repaired on November 18. The plumber's invoice is attached. Could you please "
        "apply a leak adjustment to my current bill?\n\nThank you,\nRobert Hale\n"
    )
    message.add_attachment(
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        maintype="application",
        subtype="pdf",
        filename="plumber-invoice-1118.pdf",
    )
    return message.as_bytes(policy=SMTP)


def _bounce() -> bytes:
    boundary = "trial-dsn"
    return (
        b"Return-Path: <>\r\n"
        b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.example.com>\r\n"
        b"To: " + DISTRICT.encode() + b"\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\n"
        b"Message-ID: <trial-dsn@googlemail.example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="'
        + boundary.encode()
        + b'"\r\n\r\n'
        b"--" + boundary.encode() + b"\r\n"
        b"Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        b"Address not found. Your message wasn't delivered to linh.tran@example.com "
        b"because the address couldn't be found.\r\n\r\n"
        b"--" + boundary.encode() + b"\r\n"
        b"Content-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; googlemail.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; linh.tran@example.com\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--" + boundary.encode() + b"--\r\n"
    )


REPLY_TO_US_ID = "<auto-reply-we-sent@valleysprings-water.example.com>"


def trial_mail() -> list[TrialMail]:
    """The fifteen trial emails in delivery order."""
    return [
        TrialMail(
            "balance-on-file",
            plain(
                sender="dana.whitfield@example.com",
                subject="how much do I owe?",
                body="Hi there,\n\nCould you tell me my current balance and when it's due?\n\n"
                "Thanks,\nDana",
                message_id="<trial-balance-dana@mail.example.com>",
            ),
            "answered",
            reply_contains=("84.20",),
        ),
        TrialMail(
            "balance-stranger",
            plain(
                sender="someone.else@example.org",
                subject="Balance",
                body="What is the balance on account 1000417? I'm paying for my daughter.",
                message_id="<trial-balance-stranger@mail.example.org>",
            ),
            "answered",
            reply_contains=("address on file",),
            reply_lacks=("84.20", "Oak Street"),
        ),
        TrialMail(
            "spanish-outage",
            plain(
                sender="vecino.oak@example.com",
                subject="Sin agua en Oak Street",
                body="Buenos días, no tenemos agua en la casa desde esta mañana, vivimos en "
                "el 530 de Oak Street. ¿Hay un corte de agua? ¿Cuándo regresa el servicio?",
                message_id="<trial-es-outage@mail.example.com>",
            ),
            "answered",
            reply_contains=("400 a 700 de Oak Street",),
        ),
        TrialMail(
            "outlook-html",
            _html_outlook(),
            "answered",
            reply_contains=("Day after Thanksgiving",),
            reply_lacks=("Oak Street",),
        ),
        TrialMail(
            "reply-to-auto-reply",
            plain(
                sender="dana.whitfield@example.com",
                subject="Re: Your question about your balance",
                body="Thank you, that's all I needed!\n\nOn Tue, Nov 24, 2026 Valley Springs "
                "Water District wrote:\n> Your balance is $84.20.\n",
                message_id="<trial-thanks@mail.example.com>",
                extra_headers={"In-Reply-To": REPLY_TO_US_ID, "References": REPLY_TO_US_ID},
            ),
            "ignored",
            reply=False,
        ),
        TrialMail(
            "out-of-office",
            plain(
                sender="linh.tran@example.com",
                subject="Automatic reply: Boil water notice",
                body="I am out of the office until December 1 with limited access to email.",
                message_id="<trial-ooo@mail.example.com>",
                extra_headers={
                    "Auto-Submitted": "auto-replied",
                    "X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent",
                },
            ),
            "ignored",
            reply=False,
        ),
        TrialMail("bounce", _bounce(), "ignored", reply=False),
        TrialMail(
            "rude-meter-reader",
            plain(
                sender="robert.hale@example.com",
                subject="Complaint about your meter reader",
                body="Your meter reader came by this morning, was very rude to my wife, "
                "and left our side gate open so the dog got out. This is unacceptable.",
                message_id="<trial-complaint@mail.example.com>",
            ),
            "escalated",
            "complaint",
        ),
        TrialMail(
            "leak-pdf",
            _leak_with_pdf(),
            "escalated",
            "leak_adjustment",
            reply_lacks=("412.88",),
        ),
        TrialMail(
            "stop-emailing",
            plain(
                sender="maria.gonzalez@example.com",
                subject="Unsubscribe",
                body="Please stop emailing me. Take me off your email list.",
                message_id="<trial-stop-email@mail.example.com>",
            ),
            "ignored",
            reply=False,
        ),
        TrialMail(
            "multi-topic",
            plain(
                sender="linh.tran@example.com",
                subject="A few things",
                body="Hello,\n\nHow much is my current balance? Also, I'm moving out on "
                "December 15 and need to stop service at 88 Willow Way. And is the "
                "boil water notice still in effect?\n\nLinh",
                message_id="<trial-multi@mail.example.com>",
            ),
            "escalated",
            "multi-topic",
        ),
        TrialMail(
            "emergency",
            plain(
                sender="neighbor@example.net",
                subject="URGENT water everywhere",
                body="A pipe burst at the street in front of 1409 Birch Lane, water is "
                "gushing out and flooding the road.",
                message_id="<trial-emergency@mail.example.net>",
            ),
            "escalated",
            "emergency",
        ),
        TrialMail(
            "payment-plan-spanish",
            plain(
                sender="maria.gonzalez@example.com",
                subject="Plan de pagos",
                body="Hola, no puedo pagar todo el saldo este mes. ¿Puedo hacer un plan de "
                "pagos? Gracias, María",
                message_id="<trial-plan-es@mail.example.com>",
            ),
            "escalated",
            "payment_arrangement",
        ),
        TrialMail(
            "rebate",
            plain(
                sender="gardener@example.org",
                subject="Turf replacement",
                body="Do you offer any rebate for replacing my front lawn with drought "
                "tolerant plants?",
                message_id="<trial-rebate@mail.example.org>",
            ),
            "answered",
            reply_contains=("Turf replacement rebate",),
        ),
        TrialMail(
            "restore-locked-off",
            plain(
                sender="jokafor@example.net",
                subject="Water shut off - account 1001139",
                body="My water was shut off. What do I need to pay to get it turned back on?",
                message_id="<trial-restore@mail.example.net>",
            ),
            "answered",
            reply_contains=("address on file",),
            reply_lacks=("356.18", "311.18"),
        ),
    ]
