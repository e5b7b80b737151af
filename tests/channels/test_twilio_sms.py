"""Whole SMS conversations over HTTP: signed webhooks in, TwiML out, everything recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from accounts.business_calendar import BusinessCalendar
from accounts.district import load_district
from accounts.models import Account, ConsentEvent, ContactLog, Conversation, Ticket
from accounts.services.after_hours import after_hours_message
from accounts.services.consent import is_opted_out
from tests.channels.conftest import DANA, MARIA, UNKNOWN, Gateway, messages

THANKSGIVING_EVENING = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 19:30 PST, a holiday

_counter = iter(range(1, 1_000_000))


def sms(twilio_gateway: Gateway, body: str, sender: str = DANA, **extra: str) -> tuple[int, str]:
    params = {
        "MessageSid": extra.pop("MessageSid", f"SM{next(_counter):032d}"),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15305550100",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    response = twilio_gateway.twilio.post("/twilio/sms", params)
    return response.status_code, response.text


def log_entries(twilio_gateway: Gateway, **filters: object) -> list[ContactLog]:
    with twilio_gateway.session() as session:
        statement = select(ContactLog).order_by(ContactLog.id)
        for name, value in filters.items():
            statement = statement.where(getattr(ContactLog, name) == value)
        return list(session.scalars(statement))


def test_balance_question_with_buttons_and_digit_reply(twilio_gateway: Gateway) -> None:
    status, twiml = sms(twilio_gateway, "What is my balance?")
    assert status == 200
    bodies = messages(twiml)
    assert bodies[0] == "Your balance is $84.20, due Dec 6."
    assert bodies[1].splitlines()[1:] == ["1) Pay now", "2) Something else", "Reply with a number."]
    first = twilio_gateway.rasa.received[-1]
    assert first["message"] == "What is my balance?"
    meta = first["metadata"]
    assert meta["channel"] == "sms" and meta["caller"] == DANA
    assert meta["account_hint"] == "1000417" and meta["language"] == "en"
    assert first["sender"] == meta["conversation_id"]

    status, twiml = sms(twilio_gateway, "1")
    assert status == 200
    assert twilio_gateway.rasa.received[-1]["message"] == "/make_payment"
    assert twilio_gateway.rasa.received[-1]["sender"] == first["sender"]  # same conversation
    bodies = messages(twiml)
    assert bodies[0] == "You owe $84.20."
    assert bodies[1].startswith("You can pay securely online: https://pay.")
    assert "1000417" in bodies[1]

    with twilio_gateway.session() as session:
        dana = session.scalars(select(Account).where(Account.number == "1000417")).one()
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == DANA)
        ).one()
        assert conversation.account_id == dana.id
        assert first["sender"] == conversation.key  # never the guessable integer id
    entries = log_entries(twilio_gateway, conversation_id=conversation.id)
    directions = [(e.direction, e.body) for e in entries if e.kind == "message"]
    assert directions[0] == ("inbound", "What is my balance?")
    assert ("outbound", "You owe $84.20.") in directions
    assert all(e.account_id == dana.id for e in entries)


def test_duplicate_delivery_is_handled_once(twilio_gateway: Gateway) -> None:
    status, first = sms(twilio_gateway, "balance please", MessageSid="SM" + "d" * 32)
    assert status == 200
    calls = len(twilio_gateway.rasa.received)
    status, second = sms(twilio_gateway, "balance please", MessageSid="SM" + "d" * 32)
    assert status == 200
    assert second == first  # same answer for the redelivery
    assert len(twilio_gateway.rasa.received) == calls  # Rasa not asked again
    inbound = log_entries(twilio_gateway, external_id="SM" + "d" * 32)
    assert len(inbound) == 1


def test_unsigned_and_tampered_sms_are_rejected_and_not_recorded(twilio_gateway: Gateway) -> None:
    params = {"MessageSid": "SM" + "e" * 32, "From": DANA, "Body": "hi"}
    assert twilio_gateway.twilio.post("/twilio/sms", params, signature="").status_code == 403
    tampered = {**params, "From": UNKNOWN}
    assert (
        twilio_gateway.twilio.post("/twilio/sms", tampered, sign_params=params).status_code == 403
    )
    assert log_entries(twilio_gateway, external_id="SM" + "e" * 32) == []
    assert twilio_gateway.rasa.received == []


def test_stop_start_help(twilio_gateway: Gateway) -> None:
    status, twiml = sms(twilio_gateway, "STOP")
    assert status == 200
    assert messages(twiml) == [
        "Valley Springs Water Alerts: you are unsubscribed and will receive no more messages. "
        "Reply START to resubscribe."
    ]
    with twilio_gateway.session() as session:
        assert is_opted_out(session=session, address=DANA, channel="sms")
    # A second STOP: no second confirmation.
    assert messages(sms(twilio_gateway, "stop")[1]) == []
    # While opted out, nothing is sent back, even to a question.
    assert messages(sms(twilio_gateway, "what is my balance")[1]) == []
    # YES opts back in only when opted out.
    status, twiml = sms(twilio_gateway, "YES")
    assert "subscribed again" in messages(twiml)[0]
    with twilio_gateway.session() as session:
        assert not is_opted_out(session=session, address=DANA, channel="sms")
        events = session.scalars(
            select(ConsentEvent).where(ConsentEvent.address == DANA).order_by(ConsentEvent.id)
        ).all()
        assert [e.action for e in events] == ["opted_out", "opted_out", "opted_in"]
    help_text = messages(sms(twilio_gateway, "HELP")[1])[0]
    assert "Msg & data rates may apply" in help_text
    assert "(530) 555-0100" in help_text and "Valley Springs Water Alerts" in help_text
    assert twilio_gateway.rasa.received[-1]["message"] == "what is my balance"  # only the question
    assert all(p["message"] not in ("STOP", "YES", "HELP") for p in twilio_gateway.rasa.received)


def test_plain_language_opt_out_in_spanish_and_start(twilio_gateway: Gateway) -> None:
    twiml = sms(twilio_gateway, "No más mensajes por favor", sender=MARIA)[1]
    assert "se ha dado de baja" in messages(twiml)[0]
    twiml = sms(twilio_gateway, "START", sender=MARIA)[1]
    assert messages(twiml)  # confirmation sent
    with twilio_gateway.session() as session:
        assert not is_opted_out(session=session, address=MARIA, channel="sms")


def test_yes_is_an_answer_when_not_opted_out(twilio_gateway: Gateway) -> None:
    sms(twilio_gateway, "yes")
    assert twilio_gateway.rasa.received[-1]["message"] == "yes"


def test_outage_keyword_triggers_the_outage_intent(twilio_gateway: Gateway) -> None:
    twiml = sms(twilio_gateway, "OUT")[1]
    assert twilio_gateway.rasa.received[-1]["message"] == "/outage"
    assert messages(twiml) == ["There is an outage on Oak Street."]


def test_card_numbers_are_removed_and_the_customer_warned(twilio_gateway: Gateway) -> None:
    twiml = sms(twilio_gateway, "pay with 4111 1111 1111 1111 exp 12/28")[1]
    assert "4111" not in twilio_gateway.rasa.received[-1]["message"]
    assert "never send card numbers" in messages(twiml)[0]
    with twilio_gateway.session() as session:
        bodies = session.scalars(select(ContactLog.body)).all()
        assert not any("4111 1111" in b for b in bodies)


def test_mms_media_goes_on_the_log_and_the_open_ticket(twilio_gateway: Gateway) -> None:
    sms(twilio_gateway, "hello", sender=UNKNOWN)
    with twilio_gateway.session() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.external_id == UNKNOWN)
        ).one()
        from accounts.business_calendar import BusinessCalendar
        from accounts.district import load_district
        from accounts.services.tickets import open_ticket

        ticket = open_ticket(
            session=session,
            calendar=BusinessCalendar(load_district(twilio_gateway.settings.district_file)),
            intent="report_emergency",
            channel="sms",
            summary="Water in the street",
            now=twilio_gateway.clock.now(),
            conversation=conversation,
            hand_off=False,
        )
        session.commit()
        ticket_id = ticket.id
    media = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"
    twiml = sms(
        twilio_gateway,
        "here is a photo",
        sender=UNKNOWN,
        NumMedia="1",
        MediaUrl0=media,
        MediaContentType0="image/jpeg",
    )[1]
    assert "We got your photo" in messages(twiml)[-1]
    with twilio_gateway.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.attachments[0]["url"] == media
        assert ticket.attachments[0]["content_type"] == "image/jpeg"
        entry = session.scalars(
            select(ContactLog).where(ContactLog.body == "here is a photo")
        ).one()
        assert entry.meta["media_urls"] == [media]
        assert entry.ticket_id == ticket_id


def test_missing_fields_and_empty_bodies_get_defined_replies(twilio_gateway: Gateway) -> None:
    response = twilio_gateway.twilio.post("/twilio/sms", {"Body": "hi"})
    assert response.status_code == 200 and messages(response.text) == []
    status, twiml = sms(twilio_gateway, "   ")
    assert status == 200 and messages(twiml) == []
    assert twilio_gateway.rasa.received == []
    long_body = "leak " * 500
    status, twiml = sms(twilio_gateway, long_body)
    assert status == 200 and messages(twiml)
    assert len(twilio_gateway.rasa.received[-1]["message"]) <= 1600


def test_rasa_down_apologises_and_opens_a_ticket(twilio_gateway: Gateway) -> None:
    twilio_gateway.rasa.status = 500
    twiml = sms(twilio_gateway, "my meter is spinning and I need help")[1]
    assert "a person from customer service will follow up" in messages(twiml)[0]
    with twilio_gateway.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert "my meter is spinning" in ticket.summary
        assert ticket.channel == "sms" and ticket.callback_number == DANA
        conversation = session.get(Conversation, ticket.conversation_id)
        assert conversation is not None and conversation.status == "handed_off"
    # Handed off: the next message is recorded on the ticket, the bot stays quiet.
    twilio_gateway.rasa.status = 200
    calls = len(twilio_gateway.rasa.received)
    twiml = sms(twilio_gateway, "hello? anyone?")[1]
    assert messages(twiml) == []
    assert len(twilio_gateway.rasa.received) == calls
    entry = log_entries(twilio_gateway, body="hello? anyone?")[0]
    assert entry.ticket_id == ticket.id


def test_rasa_slow_is_bounded(twilio_gateway: Gateway) -> None:
    twilio_gateway.rasa.delay = 6.0
    status, twiml = sms(twilio_gateway, "is there an outage")
    assert status == 200
    assert "will follow up" in messages(twiml)[0]


def test_status_answers_from_the_current_notice_without_the_assistant(
    twilio_gateway: Gateway,
) -> None:
    calls = len(twilio_gateway.rasa.received)
    status, twiml = sms(twilio_gateway, "STATUS")  # Dana's street has the seeded outage
    assert status == 200
    bodies = messages(twiml)
    assert len(bodies) == 1 and "Oak Street" in bodies[0]
    assert len(twilio_gateway.rasa.received) == calls
    inbound = log_entries(twilio_gateway, body="STATUS")[0]
    assert inbound.meta["keyword"] == "status"
    assert log_entries(twilio_gateway, direction="outbound")[-1].body == bodies[0]


def test_status_without_a_current_notice_and_out_go_to_the_assistant(
    twilio_gateway: Gateway,
) -> None:
    status, _ = sms(twilio_gateway, "stat", sender=MARIA)  # no notice on her street
    assert status == 200 and twilio_gateway.rasa.received[-1]["message"] == "/outage"
    sms(twilio_gateway, "OUT")
    assert twilio_gateway.rasa.received[-1]["message"] == "/outage"


def test_a_spanish_first_text_from_an_unknown_number_goes_on_in_spanish(
    twilio_gateway: Gateway,
) -> None:
    sms(twilio_gateway, "Hola, no tengo agua en mi casa", sender=UNKNOWN)
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"
    sms(twilio_gateway, "ok", sender=UNKNOWN)  # the conversation keeps its language
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"
    sms(twilio_gateway, "what is my balance", sender="+15305550198")
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "en"
    # A known customer's preference on file wins over the words of one text.
    sms(twilio_gateway, "hola, mi saldo por favor", sender=DANA)
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "en"


def _after_hours(twilio_gateway: Gateway, emergency: bool) -> str:
    calendar = BusinessCalendar(load_district(twilio_gateway.settings.district_file))
    now = twilio_gateway.clock.now()
    assert not calendar.is_open(now)
    return after_hours_message(calendar, now, "en", emergency=emergency)


def test_after_hours_handoff_says_when_a_person_will_follow_up(twilio_gateway: Gateway) -> None:
    twilio_gateway.clock.set(THANKSGIVING_EVENING)
    twilio_gateway.rasa.responder = lambda payload: [
        {"recipient_id": payload["sender"], "text": "I passed this to our team."},
        {"recipient_id": payload["sender"], "custom": {"type": "handoff", "ticket_id": 1}},
    ]
    bodies = messages(sms(twilio_gateway, "I want to talk to a person")[1])
    assert bodies[0] == "I passed this to our team."
    assert " ".join(bodies[1:]) == _after_hours(twilio_gateway, emergency=True)
    assert "Thanksgiving" in bodies[1]


def test_rasa_down_after_hours_apologises_and_says_when(twilio_gateway: Gateway) -> None:
    twilio_gateway.clock.set(THANKSGIVING_EVENING)
    twilio_gateway.rasa.status = 500
    bodies = messages(sms(twilio_gateway, "my meter is spinning")[1])
    assert "will follow up" in bodies[0]
    # The apology names the emergency line already; the promise does not repeat it.
    assert " ".join(bodies[1:]) == _after_hours(twilio_gateway, emergency=False)


def test_in_office_hours_a_handoff_adds_nothing(twilio_gateway: Gateway) -> None:
    twilio_gateway.rasa.responder = lambda payload: [
        {"recipient_id": payload["sender"], "text": "I passed this to our team."},
        {"recipient_id": payload["sender"], "custom": {"type": "handoff", "ticket_id": 1}},
    ]
    assert messages(sms(twilio_gateway, "a person please")[1]) == ["I passed this to our team."]
