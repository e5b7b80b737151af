"""The one container of a running product: settings, database, clock, district, every client.

:func:`build_services` is the only place that builds a provider client (Rasa
over HTTP, the twilio REST client, SMTP, IMAP); every package below the
gateway receives what it needs from here and describes it as a Protocol of its
own (``accounts.deps.CoreServices``, ``channels.deps.ChannelServices``,
``escalation.deps.CsrServices``, ``notices.cli.NoticeServices``). Tests hand in
a recording transport, a local server or a fixed clock as keyword overrides;
whatever is not handed in is built from settings, from the parts that were.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.business_calendar import BusinessCalendar
from accounts.clock import Clock, clock_from
from accounts.db import make_engine, make_sessionmaker, writer_engine
from accounts.district import District, load_district
from accounts.email_message import EmailSender
from accounts.settings import Settings
from channels.outbound_sms import SmsSender
from channels.page_calls import ACK_PATH
from channels.rasa_client import RasaClient
from channels.relay import Relay
from channels.twilio_rest import make_twilio_client
from escalation.page_transport import TwilioPageTransport
from escalation.pager import Pager
from inbox.classify import Classifier, RasaClassifier
from inbox.outbox import MaildirSender
from inbox.reply import SmtpSender
from inbox.sources import ImapSource, MaildirSource, MailSource, imap_client_factory

#: Rasa's HTTP client: a short connect timeout, each call sets its own total.
HTTP_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@dataclass
class Services:
    """Everything request handlers, workers and commands use, built once.

    Attributes:
        settings: The product's settings.
        engine: The account store's engine.
        session_factory: Sessions for writers (on SQLite they take the write lock at BEGIN).
        clock: The one source of "now".
        district: The district facts file.
        calendar: Office hours and holidays.
        http: The async HTTP client (Rasa, health probes).
        http_sync: The synchronous HTTP client (the inbox's NLU calls from worker threads).
        rasa: Rasa's REST channel.
        nlu: Rasa's parse endpoint, for the inbox.
        twilio: The twilio REST client, or ``None`` without credentials (the demo console).
        sms_sender: Outbound SMS (opt-outs, pacing, retries).
        pager: Emergency paging and its acknowledgments.
        email_sender: Outbound mail: SMTP, or the demo Maildir's ``Sent`` folder.
        mail_source: The customer-service mailbox: IMAP, or the demo Maildir.
        relay: The turn every channel shares.
    """

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    district: District
    calendar: BusinessCalendar
    http: httpx.AsyncClient
    http_sync: httpx.Client
    rasa: RasaClient
    nlu: Classifier
    twilio: Any
    sms_sender: SmsSender
    pager: Pager
    email_sender: EmailSender
    mail_source: MailSource
    relay: Relay

    async def aclose(self) -> None:
        """Close the HTTP clients and the database pool."""
        await self.http.aclose()
        self.http_sync.close()
        self.engine.dispose()

    def close(self) -> None:
        """:meth:`aclose` for synchronous callers (commands), outside any event loop."""
        asyncio.run(self.aclose())


def build_email_sender(settings: Settings) -> EmailSender:
    """SMTP when ``SMTP_HOST`` is set, else the demo Maildir's ``Sent`` folder."""
    smtp = settings.smtp
    if smtp.host:
        return SmtpSender(
            host=smtp.host,
            port=smtp.port,
            username=smtp.user,
            password=smtp.password.get_secret_value(),
            start_tls=smtp.starttls,
        )
    return MaildirSender(settings.inbox_maildir)


def build_mail_source(settings: Settings) -> MailSource:
    """IMAP when ``IMAP_HOST`` is set, else the demo Maildir."""
    imap = settings.imap
    if imap.host:
        factory = imap_client_factory(
            host=imap.host,
            port=imap.port,
            user=imap.user,
            password=imap.password.get_secret_value(),
            ssl=imap.ssl,
        )
        name = f"imap://{imap.user}@{imap.host}:{imap.port}/{imap.folder}"
        return ImapSource(factory, name=name, folder=imap.folder)
    return MaildirSource(settings.inbox_maildir)


def build_services(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    district: District | None = None,
    http: httpx.AsyncClient | None = None,
    http_sync: httpx.Client | None = None,
    rasa: RasaClient | None = None,
    nlu: Classifier | None = None,
    twilio: Any = None,
    sms_sender: SmsSender | None = None,
    pager: Pager | None = None,
    email_sender: EmailSender | None = None,
    mail_source: MailSource | None = None,
) -> Services:
    """The production wiring from ``settings``; any part may be handed in instead.

    Args:
        settings: The product's settings.
        engine: The account store (default from ``DATABASE_URL``).
        clock: Default: the system clock, pinned by ``ASSISTANT_NOW``.
        district: Default: ``DISTRICT_FILE``.
        http: Default: a new async client.
        http_sync: Default: a new synchronous client.
        rasa: Default: Rasa at ``RASA_URL`` on ``http``.
        nlu: Default: Rasa's parse endpoint on ``http_sync``.
        twilio: Default: the REST client for ``TWILIO_*`` (``None`` without an account SID).
        sms_sender: Default: on ``twilio``.
        pager: Default: pages through ``sms_sender`` and ``twilio``.
        email_sender: Default: :func:`build_email_sender`.
        mail_source: Default: :func:`build_mail_source`.
    """
    engine = engine or make_engine(settings.effective_database_url)
    clock = clock or clock_from(settings.assistant_now)
    district = district or load_district(settings.district_file)
    calendar = BusinessCalendar(district)
    http = http or httpx.AsyncClient(timeout=HTTP_TIMEOUT)
    http_sync = http_sync or httpx.Client(timeout=HTTP_TIMEOUT)
    token = settings.rasa_token.get_secret_value()
    rasa = rasa or RasaClient(http=http, base_url=settings.rasa_url, token=token)
    nlu = nlu or RasaClassifier(http=http_sync, base_url=settings.rasa_url, token=token)
    if twilio is None and sms_sender is None:
        twilio = make_twilio_client(settings)
    elif twilio is None and sms_sender is not None:
        twilio = sms_sender.client
    sms_sender = sms_sender or SmsSender(client=twilio, settings=settings, clock=clock)
    pager = pager or Pager(
        TwilioPageTransport(
            sms_sender=sms_sender,
            client=twilio,
            settings=settings,
            clock=clock,
            ack_path=ACK_PATH,
            district_name=district.name,
        )
    )
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_sessionmaker(writer_engine(engine)),
        clock=clock,
        district=district,
        calendar=calendar,
        http=http,
        http_sync=http_sync,
        rasa=rasa,
        nlu=nlu,
        twilio=twilio,
        sms_sender=sms_sender,
        pager=pager,
        email_sender=email_sender or build_email_sender(settings),
        mail_source=mail_source or build_mail_source(settings),
        relay=Relay(
            rasa=rasa, settings=settings, clock=clock, district=district, calendar=calendar
        ),
    )


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
