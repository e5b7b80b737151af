"""Whole phone calls over HTTP: the IVR's TwiML parsed, verbs and attributes checked."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from accounts.business_calendar import BusinessCalendar
from accounts.models import Account, ContactLog, Conversation, Payment, Ticket
from accounts.services.after_hours import after_hours_message
from tests.channels.conftest import DANA, MARIA, UNKNOWN, Call, Gateway, parse_twiml, said

THANKSGIVING_EVENING = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 19:30 PST, a holiday


def conversation_of(twilio_gateway: Gateway, call: Call) -> Conversation:
    with twilio_gateway.session() as session:
        return session.scalars(
            select(Conversation).where(Conversation.external_id == call.call_sid)
        ).one()


def english_menu(twilio_gateway: Gateway, caller: str = DANA, sid: str = "CA" + "1" * 32) -> Call:
    call = Call(twilio_gateway, caller=caller, call_sid=sid)
    call.start()
    call.silence()  # no language choice: English menu
    return call


def test_greeting_names_the_district_and_offers_spanish(twilio_gateway: Gateway) -> None:
    call = Call(twilio_gateway)
    root = call.start()
    gather = call.gather()
    assert gather.attrib["input"] == "speech dtmf"
    assert gather.attrib["numDigits"] == "1"
    assert "/twilio/voice/language?n=1" in gather.attrib["action"]
    assert gather.attrib["action"].startswith("https://water.example.org/")
    says = gather.findall("Say")
    assert says[0].text == "Thank you for calling Valley Springs Water District."
    assert says[1].text == "Para español, oprima 2."
    assert says[1].attrib["language"] == "es-MX" and says[1].attrib["voice"] == "Polly.Mia"
    assert root.find("Redirect") is not None
    conversation = conversation_of(twilio_gateway, call)
    with twilio_gateway.session() as session:
        dana = session.scalars(select(Account).where(Account.number == "1000417")).one()
    assert conversation.account_id == dana.id  # caller-ID lookup


def test_spanish_call_uses_spanish_recognizer_and_voice_throughout(twilio_gateway: Gateway) -> None:
    call = Call(twilio_gateway, caller=MARIA)
    call.start()
    root = call.press("2")
    gather = call.gather()
    assert gather.attrib["language"] == "es-MX"
    assert "saldo" in gather.attrib["hints"]
    assert {s.attrib["voice"] for s in root.iter("Say")} == {"Polly.Mia"}
    assert "oprima 1" in said(root)[0]
    root = call.say("cuál es mi saldo")
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"
    assert call.gather().attrib["language"] == "es-MX"
    assert {s.attrib["language"] for s in root.iter("Say")} == {"es-MX"}


def test_balance_then_pay_by_keypad_and_pay_callback(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.press("1")
    assert twilio_gateway.rasa.received[-1]["message"] == "/check_balance"
    assert twilio_gateway.rasa.received[-1]["metadata"]["channel"] == "voice"
    assert said(root)[:2] == ["Your balance is $84.20, due Dec 6.", "What would you like to do?"]
    assert said(root)[2] == "For Pay now, press 1."
    assert call.gather().attrib["numDigits"] == "1"

    root = call.press("1")  # the "Pay now" button
    assert twilio_gateway.rasa.received[-1]["message"] == "/make_payment"
    pay = root.find("Pay")
    assert pay is not None
    assert pay.attrib["paymentConnector"] == twilio_gateway.settings.twilio.pay_connector
    assert pay.attrib["chargeAmount"] == "84.20"

    root = call.post(
        pay.attrib["action"],
        Result="success",
        PaymentConfirmationCode="ZX9Q41",
        PaymentCardType="visa",
        PaymentCardNumber="xxxx-xxxx-xxxx-1111",
        ChargeAmount="84.20",
    )
    assert "Z, X, 9, Q, 4, 1" in said(root)[0]
    assert call.gather() is not None
    with twilio_gateway.session() as session:
        payment = session.scalars(select(Payment).where(Payment.confirmation == "ZX9Q41")).one()
        assert payment.amount == Decimal("84.20")
        assert payment.source_channel == "voice" and payment.method == "card"
        account = session.get(Account, payment.account_id)
        assert account is not None and account.number == "1000417"
        logged = session.scalars(select(ContactLog.body)).all()
        assert not any("1111" in body for body in logged)
    # Twilio redelivers the callback: still one payment.
    call.post(
        pay.attrib["action"],
        Result="success",
        PaymentConfirmationCode="ZX9Q41",
        ChargeAmount="84.20",
    )
    with twilio_gateway.session() as session:
        assert (
            len(session.scalars(select(Payment).where(Payment.confirmation == "ZX9Q41")).all()) == 1
        )


def test_failed_payment_is_recorded_not_posted(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.press("2")
    pay = root.find("Pay")
    assert pay is not None
    root = call.post(
        pay.attrib["action"], Result="payment-connector-error", PaymentError="card declined"
    )
    assert "did not go through" in said(root)[0]
    with twilio_gateway.session() as session:
        assert session.scalars(select(Payment).where(Payment.source_channel == "voice")).all() == []
        failed = session.scalars(
            select(ContactLog).where(ContactLog.kind == "payment_failed")
        ).one()
        assert "payment-connector-error" in failed.body


def test_low_confidence_reprompts_then_offers_keypad(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    calls = len(twilio_gateway.rasa.received)
    root = call.say("mumble mumble", confidence="0.12")
    assert "did not catch that" in said(root)[0]
    root = call.say("grumble", confidence="0.05")
    assert "use your keypad" in said(root)[0]
    assert "press 1" in said(root)[1]
    assert call.gather().attrib["numDigits"] == "1"
    assert len(twilio_gateway.rasa.received) == calls
    speech = [e for e in _log(twilio_gateway, call) if e.kind == "speech"]
    assert [e.body for e in speech] == ["mumble mumble", "grumble"]


def test_silence_reprompts_twice_then_transfers_in_office_hours(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    for _ in range(2):
        root = call.silence()
        assert said(root)[0] == "Sorry, I did not hear anything."
        assert "press 1" in said(root)[1]  # the menu again
    root = call.silence()
    dial = root.find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None and number.text == twilio_gateway.settings.twilio.csr_number
    # Nobody answered: voicemail.
    root = call.post(dial.attrib["action"], DialCallStatus="no-answer")
    assert root.find("Record") is not None


def test_after_hours_handoff_takes_voicemail_and_transcription_makes_a_ticket(
    twilio_gateway: Gateway,
) -> None:
    twilio_gateway.clock.set(THANKSGIVING_EVENING)
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "2" * 32)
    call.press("0")
    assert twilio_gateway.rasa.received[-1]["message"] == "/human_agent"
    for _ in range(3):
        root = call.silence()
    record = root.find("Record")
    assert record is not None and record.attrib["transcribe"] == "true"
    root = call.post(
        record.attrib["action"],
        RecordingUrl="https://api.twilio.com/rec/RE1",
        RecordingSid="RE" + "1" * 32,
        RecordingDuration="17",
    )
    assert [c.tag for c in root] == ["Say", "Hangup"]
    with twilio_gateway.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.callback_number == UNKNOWN
        assert ticket.attachments[0]["url"] == "https://api.twilio.com/rec/RE1"
        assert ticket.channel == "voice"
    response = twilio_gateway.twilio.post(
        record.attrib["transcribeCallback"],
        call.params(
            RecordingSid="RE" + "1" * 32,
            TranscriptionStatus="completed",
            TranscriptionText="Hi, my water is brown since this morning, call me back.",
        ),
    )
    assert response.status_code == 204
    with twilio_gateway.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert "water is brown" in ticket.summary
        assert (
            session.scalars(select(ContactLog).where(ContactLog.kind == "transcription"))
            .one()
            .ticket_id
            == ticket.id
        )


def test_handoff_payload_dials_with_whisper_of_the_summary(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    with twilio_gateway.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        from accounts.services.tickets import open_ticket

        ticket = open_ticket(
            session=session,
            calendar=gateway_calendar(twilio_gateway),
            intent="billing_dispute",
            channel="voice",
            summary="Customer disputes a $300 bill.",
            now=twilio_gateway.clock.now(),
            conversation=conversation,
            hand_off=False,
        )
        session.commit()
        ticket_id = ticket.id
    twilio_gateway.rasa.responder = lambda p: [
        {"text": "Let me get someone for you."},
        {"custom": {"type": "handoff", "ticket_id": ticket_id, "summary": "dispute"}},
    ]
    root = call.say("this bill is wrong")
    dial = root.find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None
    whisper = call.post(number.attrib["url"])
    assert f"Ticket {ticket_id}" in said(whisper)[0]
    assert "disputes a $300 bill" in said(whisper)[0]


def test_digits_when_a_number_is_asked_go_to_the_assistant(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    call.say("I have a question")  # a plain text reply: no buttons
    assert "numDigits" not in call.gather().attrib
    root = call.press("1000417")
    assert twilio_gateway.rasa.received[-1]["message"] == "1000417"
    assert said(root)[0] == "Thanks, I got 7 digits."
    dtmf = [e for e in _log(twilio_gateway, call) if e.kind == "dtmf"]
    assert dtmf[-1].body == "1000417"


def test_service_submenu_and_invalid_option(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.press("7")
    assert said(root)[0] == "Sorry, that is not one of the options."
    root = call.press("4")
    assert "To start new service, press 1" in said(root)[0]
    call.press("2")
    assert twilio_gateway.rasa.received[-1]["message"] == "/stop_service"


def test_goodbye_hangs_up_and_status_callback_closes_with_duration(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.say("ok bye")
    assert [c.tag for c in root] == ["Say", "Hangup"]
    response = twilio_gateway.twilio.post(
        "/twilio/voice/status", call.params(CallStatus="completed", CallDuration="93")
    )
    assert response.status_code == 204
    conversation = conversation_of(twilio_gateway, call)
    assert conversation.status == "closed"
    assert conversation.duration_seconds == 93
    assert conversation.outcome == "completed"


def test_rasa_down_on_a_call_apologises_and_transfers(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    twilio_gateway.rasa.status = 503
    root = call.say("what is my balance")
    assert said(root)[0] == "Sorry, our automated system is not available right now."
    dial = root.find("Dial")
    assert dial is not None
    with twilio_gateway.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert "what is my balance" in ticket.summary
    number = dial.find("Number")
    assert number is not None and f"ticket={ticket.id}" in number.attrib["url"]


def test_replayed_turn_gets_the_same_answer_once(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    action = call.gather().attrib["action"]
    first = twilio_gateway.twilio.post(action, call.params(Digits="3"))
    calls = len(twilio_gateway.rasa.received)
    second = twilio_gateway.twilio.post(action, call.params(Digits="3"))
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    assert len(twilio_gateway.rasa.received) == calls


def test_unsigned_voice_webhook_is_rejected(twilio_gateway: Gateway) -> None:
    call = Call(twilio_gateway)
    response = twilio_gateway.twilio.post("/twilio/voice", call.params(), signature="")
    assert response.status_code == 403
    response = twilio_gateway.twilio.post(
        "/twilio/voice", call.params(), sign_params=call.params(From=UNKNOWN)
    )
    assert response.status_code == 403


def _log(twilio_gateway: Gateway, call: Call) -> list[ContactLog]:
    conversation = conversation_of(twilio_gateway, call)
    with twilio_gateway.session() as session:
        return list(
            session.scalars(
                select(ContactLog)
                .where(ContactLog.conversation_id == conversation.id)
                .order_by(ContactLog.id)
            )
        )


def gateway_calendar(twilio_gateway: Gateway):  # type: ignore[no-untyped-def]
    from accounts.business_calendar import BusinessCalendar
    from accounts.district import load_district

    return BusinessCalendar(load_district(twilio_gateway.settings.district_file))


def test_missing_fields_and_garbage_input_get_defined_answers(
    twilio_gateway: Gateway,
) -> None:
    response = twilio_gateway.twilio.post("/twilio/voice", {"From": DANA})
    assert response.status_code == 200
    assert [c.tag for c in parse_twiml(response.text)] == ["Hangup"]
    call = english_menu(twilio_gateway)
    calls = len(twilio_gateway.rasa.received)
    root = call.post(call.gather().attrib["action"], Digits="abc", SpeechResult="")
    assert said(root)[0] == "Sorry, I did not hear anything."  # nothing usable: silence
    root = call.post(call.gather().attrib["action"], SpeechResult="x" * 5000, Confidence="high")
    assert root.find("Gather") is not None
    assert len(twilio_gateway.rasa.received[-1]["message"]) <= 500
    assert len(twilio_gateway.rasa.received) == calls + 1
    anonymous = Call(twilio_gateway, caller="anonymous", call_sid="CA" + "9" * 32)
    root = anonymous.start()
    assert root.find("Gather") is not None


def test_pressing_2_at_the_greeting_makes_the_call_spanish_for_rasa(
    twilio_gateway: Gateway,
) -> None:
    call = Call(twilio_gateway, caller=UNKNOWN, call_sid="CA" + "4" * 32)
    call.start()
    call.press("2")
    assert call.gather().attrib["language"] == "es-MX"
    # Rasa has no session yet: an event would start one without the call's
    # metadata; the first message carries the language instead.
    assert twilio_gateway.rasa.events == []
    call.say("cuál es mi saldo")
    metadata = twilio_gateway.rasa.received[-1]["metadata"]
    assert metadata["language"] == "es" and metadata["channel"] == "voice"


def test_asking_for_spanish_mid_call_sets_the_slot_in_rasa(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "5" * 32)
    call.say("what is my balance")
    calls = len(twilio_gateway.rasa.received)
    root = call.say("Español, por favor")
    assert len(twilio_gateway.rasa.received) == calls  # answered by the gateway
    assert call.gather().attrib["language"] == "es-MX"
    assert any("oprima" in line for line in said(root))
    key = conversation_of(twilio_gateway, call).key
    assert twilio_gateway.rasa.events == [
        (key, "token=t", {"event": "slot", "name": "language", "value": "es"})
    ]
    call.say("cuál es mi saldo")
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"
    call.say("English please")
    assert twilio_gateway.rasa.events[-1][2]["value"] == "en"
    assert call.gather().attrib["language"] == "en-US"


def test_language_switch_survives_rasa_refusing_the_event(twilio_gateway: Gateway) -> None:
    twilio_gateway.rasa.events_status = 500
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "6" * 32)
    call.say("what is my balance")
    call.say("español")
    assert len(twilio_gateway.rasa.events) == 1  # tried, refused, the call goes on
    assert call.gather().attrib["language"] == "es-MX"
    call.say("cuál es mi saldo")
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"


def test_after_hours_voicemail_prompt_says_when_someone_calls_back(
    twilio_gateway: Gateway, calendar: BusinessCalendar
) -> None:
    twilio_gateway.clock.set(THANKSGIVING_EVENING)
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "7" * 32)
    for _ in range(3):
        root = call.silence()
    assert root.find("Record") is not None
    promise = after_hours_message(calendar, THANKSGIVING_EVENING, "en", emergency=False)
    spoken = said(root)
    assert promise in spoken and "Thanksgiving" in promise
    assert spoken[spoken.index(promise) + 1].startswith("Please leave your name")
