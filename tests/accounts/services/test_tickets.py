from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import ContactLog, Conversation
from accounts.services.contacts import link_conversation_to_account, record_contact
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_account_by_number
from accounts.services.tickets import add_voicemail_transcription, open_ticket, take_voicemail


def test_ticket_hands_off_and_is_logged(seeded: Session, clock: FixedClock,
                                        calendar: BusinessCalendar) -> None:
    conversation, _ = get_or_open_conversation(session=seeded, channel="sms",
                                               external_id="+15305550105", now=clock.now())
    account = find_account_by_number(session=seeded, number="1002001")
    link_conversation_to_account(session=seeded, conversation=conversation, account=account)
    ticket = open_ticket(session=seeded, calendar=calendar, intent="billing_dispute",
                         channel="sms", summary="Bill is four times usual", now=clock.now(),
                         conversation=conversation)
    assert ticket.level == "II" and ticket.account_id == account.id
    assert conversation.status == "handed_off"
    assert ticket.due_at > clock.now()
    entries = seeded.scalars(select(ContactLog).where(ContactLog.ticket_id == ticket.id)).all()
    assert [e.kind for e in entries] == ["escalation"]


def test_after_hours_ticket_is_due_in_business_hours(seeded: Session,
                                                     calendar: BusinessCalendar) -> None:
    friday_night = datetime(2026, 12, 5, 5, 0, tzinfo=UTC)  # Fri 21:00 in California
    ticket = open_ticket(session=seeded, calendar=calendar, intent="human_agent",
                         channel="sms", summary="call me back", now=friday_night)
    local_due = ticket.due_at.astimezone(calendar.tz)
    assert local_due.weekday() == 0  # Monday
    emergency = open_ticket(session=seeded, calendar=calendar, intent="report_emergency",
                            channel="voice", summary="main break", now=friday_night)
    assert emergency.priority == 0
    assert emergency.due_at - friday_night <= timedelta(hours=1)


def _call(session: Session, clock: FixedClock) -> Conversation:
    conversation, _ = get_or_open_conversation(
        session=session, channel="voice", external_id="CA" + "8" * 32, now=clock.now()
    )
    return conversation


def test_voicemail_opens_a_callback_ticket(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    ticket = take_voicemail(
        session=seeded,
        calendar=calendar,
        conversation=conversation,
        ticket=None,
        callback_number="+15305550199",
        recording_url="https://api.twilio.com/rec/RE1",
        recording_sid="RE1",
        duration=17,
        now=clock.now(),
    )
    assert ticket.intent == "callback" and ticket.channel == "voice"
    assert ticket.callback_number == "+15305550199"
    assert ticket.attachments == [
        {
            "kind": "voicemail",
            "url": "https://api.twilio.com/rec/RE1",
            "recording_sid": "RE1",
            "duration": 17,
        }
    ]
    assert "Voicemail (17 s)" in ticket.summary and "at +15305550199" in ticket.summary
    assert conversation.status == "handed_off" and conversation.outcome == "handed_off"
    anonymous = take_voicemail(
        session=seeded,
        calendar=calendar,
        conversation=conversation,
        ticket=None,
        callback_number="",
        recording_url="https://api.twilio.com/rec/RE2",
        recording_sid="RE2",
        duration=5,
        now=clock.now(),
    )
    assert anonymous.callback_number == "" and "at anonymous" in anonymous.summary


def test_voicemail_joins_the_ticket_of_the_hand_off(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    handed = open_ticket(
        session=seeded,
        calendar=calendar,
        intent="billing_dispute",
        channel="voice",
        summary="Customer disputes a bill.",
        now=clock.now(),
        conversation=conversation,
        hand_off=False,
    )
    for number, sid in (("+15305550199", "RE1"), ("+15305550198", "RE2")):
        ticket = take_voicemail(
            session=seeded,
            calendar=calendar,
            conversation=conversation,
            ticket=handed,
            callback_number=number,
            recording_url=f"https://api.twilio.com/rec/{sid}",
            recording_sid=sid,
            duration=9,
            now=clock.now(),
        )
        assert ticket is handed
    assert [a["recording_sid"] for a in handed.attachments] == ["RE1", "RE2"]
    assert handed.callback_number == "+15305550199"  # the first number given is kept
    assert handed.summary == "Customer disputes a bill."
    assert conversation.outcome == "voicemail"


def test_voicemail_transcription_goes_on_its_ticket_once(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    ticket = take_voicemail(
        session=seeded,
        calendar=calendar,
        conversation=conversation,
        ticket=None,
        callback_number="+15305550199",
        recording_url="https://api.twilio.com/rec/RE1",
        recording_sid="RE1",
        duration=17,
        now=clock.now(),
    )
    record_contact(
        session=seeded,
        channel="voice",
        direction="inbound",
        kind="voicemail",
        body="(voicemail)",
        at=clock.now(),
        conversation=conversation,
        ticket_id=ticket.id,
        external_id="voice:RE1:recording",
    )
    summary = ticket.summary
    for _ in range(2):  # Twilio may redeliver the callback
        add_voicemail_transcription(
            session=seeded,
            ticket=None,
            recording_key="voice:RE1:recording",
            transcription_key="voice:RE1:transcription",
            recording_sid="RE1",
            status="completed",
            transcript="My water is brown, call me back.",
            now=clock.now(),
        )
    assert ticket.summary == f"{summary}\nVoicemail transcription: My water is brown, call me back."
    entry = seeded.scalars(select(ContactLog).where(ContactLog.kind == "transcription")).one()
    assert entry.ticket_id == ticket.id and entry.conversation_id == conversation.id
    assert entry.body == "My water is brown, call me back."
    assert entry.meta == {"recording_sid": "RE1", "status": "completed"}


def test_failed_transcription_is_logged_and_leaves_the_summary(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    ticket = open_ticket(
        session=seeded,
        calendar=calendar,
        intent="callback",
        channel="voice",
        summary="Voicemail left.",
        now=clock.now(),
        conversation=conversation,
    )
    add_voicemail_transcription(
        session=seeded,
        ticket=ticket,
        recording_key="voice:RE9:recording",
        transcription_key="voice:RE9:transcription",
        recording_sid="RE9",
        status="failed",
        transcript="",
        now=clock.now(),
    )
    assert ticket.summary == "Voicemail left."
    entry = seeded.scalars(select(ContactLog).where(ContactLog.kind == "transcription")).one()
    assert entry.body == "(transcription failed)" and entry.ticket_id == ticket.id
    assert entry.conversation_id is None  # no voicemail on record to take it from
