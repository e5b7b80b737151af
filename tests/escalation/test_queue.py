"""The CSR queue on both databases: visibility, claims under concurrency, every transition."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_sessionmaker, writer_engine
from accounts.models import ContactLog, Conversation, CsrUser, Ticket
from accounts.services.tickets import reopen_on_customer_reply
from escalation import queue
from tests.escalation.conftest import new_ticket


def csr(session: Session, username: str) -> CsrUser:
    user = session.scalar(select(CsrUser).where(CsrUser.username == username))
    assert user is not None
    return user


def actions(session: Session, ticket_id: int) -> list[str]:
    rows = session.scalars(
        select(ContactLog).where(ContactLog.ticket_id == ticket_id).order_by(ContactLog.id)
    )
    return [str(row.meta.get("action", row.kind)) for row in rows]


@pytest.fixture
def tickets(seeded: Session, calendar: BusinessCalendar, clock: FixedClock) -> dict[str, Ticket]:
    now = clock.now()
    return {
        "general": new_ticket(seeded, calendar, now, intent="human_agent"),
        "dispute": new_ticket(
            seeded,
            calendar,
            now,
            intent="billing_dispute",
            address="+15305550105",
            account_number="1002001",
            summary="Bill is four times the usual.",
        ),
        "bankruptcy": new_ticket(
            seeded,
            calendar,
            now,
            intent="payment_arrangement",
            address="+15305550103",
            account_number="1001139",
            customer_text="I filed for bankruptcy last month",
        ),
        "staff": new_ticket(
            seeded,
            calendar,
            now,
            intent="complaint",
            address="+15305550104",
            account_number="1001560",
            customer_text="Your employee was rude to me",
        ),
        "emergency": new_ticket(
            seeded,
            calendar,
            now,
            intent="report_emergency",
            address="+15305550199",
            account_number=None,
            summary="Water gushing from the street at Oak and 5th",
        ),
    }


def test_routing_levels_on_opened_tickets(tickets: dict[str, Ticket]) -> None:
    assert tickets["general"].level == "I"
    assert tickets["dispute"].level == "II"
    assert tickets["bankruptcy"].level == "III"
    assert tickets["staff"].level == "Senior"
    assert tickets["emergency"].priority == 0


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("csr1", {"general", "emergency"}),
        ("csr2", {"general", "emergency", "dispute"}),
        ("csr3", {"general", "emergency", "dispute", "bankruptcy"}),
        ("senior", {"general", "emergency", "dispute", "bankruptcy", "staff"}),
        ("manager", {"general", "emergency", "dispute", "bankruptcy", "staff"}),
    ],
)
def test_queue_shows_only_what_the_level_may_take(
    seeded: Session, tickets: dict[str, Ticket], username: str, visible: set[str]
) -> None:
    rows, total = queue.list_tickets(session=seeded, user=csr(seeded, username))
    ids = {t.id for t in rows}
    assert ids == {tickets[name].id for name in visible}
    assert total == len(visible)
    # Emergencies first, then by due time.
    assert rows[0].id == tickets["emergency"].id
    keys = [(t.priority, t.due_at, t.id) for t in rows]
    assert keys == sorted(keys)


def test_get_ticket_above_level_is_forbidden(seeded: Session, tickets: dict[str, Ticket]) -> None:
    with pytest.raises(queue.Forbidden):
        queue.get_ticket(session=seeded, user=csr(seeded, "csr1"), ticket_id=tickets["dispute"].id)
    with pytest.raises(queue.TicketNotFound):
        queue.get_ticket(session=seeded, user=csr(seeded, "csr1"), ticket_id=999_999)


def test_claim_conflict_and_idempotence(
    seeded: Session, tickets: dict[str, Ticket], clock: FixedClock
) -> None:
    ticket_id = tickets["general"].id
    one, two = csr(seeded, "csr1"), csr(seeded, "csr2")
    claimed = queue.claim(session=seeded, user=one, ticket_id=ticket_id, now=clock.now())
    seeded.commit()
    assert (claimed.status, claimed.claimed_by_id) == ("claimed", one.id)
    again = queue.claim(session=seeded, user=one, ticket_id=ticket_id, now=clock.now())
    assert again.claimed_by_id == one.id
    with pytest.raises(queue.Conflict, match="held by csr1"):
        queue.claim(session=seeded, user=two, ticket_id=ticket_id, now=clock.now())
    with pytest.raises(queue.Forbidden):
        queue.claim(session=seeded, user=one, ticket_id=tickets["dispute"].id, now=clock.now())
    assert actions(seeded, ticket_id).count("claim") == 1


def test_concurrent_claims_of_one_ticket_have_one_winner(
    engine: Engine, tickets: dict[str, Ticket], clock: FixedClock
) -> None:
    # Like the gateway: on SQLite each transaction takes the write lock at BEGIN.
    factory = make_sessionmaker(writer_engine(engine))
    with factory() as session:
        users = [csr(session, name) for name in ("csr1", "csr2", "csr3", "senior", "manager")]
    # 10 attempts from 5 CSRs (within the engine's pool of 5 + 10 overflow connections).
    user_ids = [u.id for u in users] * 2
    barrier = threading.Barrier(len(user_ids), timeout=30)
    winners: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(user_id: int) -> None:
        with factory() as session:
            user = session.get(CsrUser, user_id)
            assert user is not None
            session.commit()  # hold no transaction (no SQLite write lock) while waiting
            barrier.wait()
            try:
                queue.claim(
                    session=session, user=user, ticket_id=tickets["general"].id, now=clock.now()
                )
                session.commit()
                with lock:
                    winners.append(user_id)
            except queue.Conflict:
                session.rollback()
            except BaseException as error:
                with lock:
                    errors.append(error)

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    # The same CSR may "win" several of its own idempotent attempts, but only one CSR wins.
    assert len(set(winners)) == 1
    with factory() as session:
        ticket = session.get(Ticket, tickets["general"].id)
        assert ticket is not None and ticket.claimed_by_id == winners[0]
        assert actions(session, ticket.id).count("claim") == 1


def unknown_callers(
    session: Session,
    calendar: BusinessCalendar,
    clock: FixedClock,
    *,
    count: int,
    first: int,
    step: timedelta,
) -> None:
    """``count`` tickets from different numbers on no account, ``step`` apart."""
    for n in range(count):
        new_ticket(
            session,
            calendar,
            clock.now() + step * n,
            address=f"+1530555{first + n:04d}",
            account_number=None,
            external_id=f"{first + n}",
        )


def test_claim_next_under_concurrency_never_doubles(
    engine: Engine, seeded: Session, calendar: BusinessCalendar, clock: FixedClock
) -> None:
    unknown_callers(seeded, calendar, clock, count=24, first=1000, step=timedelta(seconds=1))
    # Like the gateway: on SQLite each transaction takes the write lock at BEGIN.
    factory = make_sessionmaker(writer_engine(engine))
    with factory() as session:
        user_ids = [csr(session, name).id for name in ("csr1", "csr2", "csr3", "senior")]
    taken: list[tuple[int, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(user_id: int) -> None:
        try:
            with factory() as session:
                user = session.get(CsrUser, user_id)
                assert user is not None
                while True:
                    ticket = queue.claim_next(session=session, user=user, now=clock.now())
                    session.commit()
                    if ticket is None:
                        return
                    with lock:
                        taken.append((ticket.id, user_id))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    ids = [ticket_id for ticket_id, _ in taken]
    assert len(ids) == len(set(ids)) == 24
    with factory() as session:
        left = session.scalars(select(Ticket).where(Ticket.status == "new")).all()
        assert left == []


def test_release_and_reassign_rules(
    seeded: Session, tickets: dict[str, Ticket], clock: FixedClock
) -> None:
    ticket_id = tickets["general"].id
    one, two, senior = csr(seeded, "csr1"), csr(seeded, "csr2"), csr(seeded, "senior")
    queue.claim(session=seeded, user=one, ticket_id=ticket_id, now=clock.now())
    with pytest.raises(queue.Forbidden):
        queue.release(session=seeded, user=two, ticket_id=ticket_id, now=clock.now())
    for name in ("csr1", "csr2", "csr3"):
        with pytest.raises(queue.Forbidden, match="Senior"):
            queue.reassign(
                session=seeded,
                user=csr(seeded, name),
                ticket_id=ticket_id,
                to_username="csr2",
                now=clock.now(),
            )
    moved = queue.reassign(
        session=seeded, user=senior, ticket_id=ticket_id, to_username="csr2", now=clock.now()
    )
    assert moved.claimed_by_id == two.id
    # A CSR I cannot be given a CSR II ticket.
    with pytest.raises(queue.InvalidRequest, match="needs CSR II"):
        queue.reassign(
            session=seeded,
            user=senior,
            ticket_id=tickets["dispute"].id,
            to_username="csr1",
            now=clock.now(),
        )
    released = queue.release(session=seeded, user=two, ticket_id=ticket_id, now=clock.now())
    assert (released.status, released.claimed_by_id) == ("new", None)
    assert actions(seeded, ticket_id)[-3:] == ["claim", "reassign", "release"]


def test_escalate_moves_the_ticket_up_and_out_of_sight(
    seeded: Session, tickets: dict[str, Ticket], clock: FixedClock, calendar: BusinessCalendar
) -> None:
    one = csr(seeded, "csr1")
    ticket_id = tickets["general"].id
    queue.claim(session=seeded, user=one, ticket_id=ticket_id, now=clock.now())
    with pytest.raises(queue.InvalidRequest):
        queue.escalate(
            session=seeded,
            user=one,
            ticket_id=ticket_id,
            to_level="I",
            reason="x",
            now=clock.now(),
            calendar=calendar,
        )
    with pytest.raises(queue.InvalidRequest):
        queue.escalate(
            session=seeded,
            user=one,
            ticket_id=ticket_id,
            to_level="II",
            reason="  ",
            now=clock.now(),
            calendar=calendar,
        )
    ticket = queue.escalate(
        session=seeded,
        user=one,
        ticket_id=ticket_id,
        to_level="II",
        reason="Needs a leak adjustment",
        now=clock.now(),
        calendar=calendar,
    )
    assert (ticket.level, ticket.status, ticket.claimed_by_id) == ("II", "new", None)
    assert ticket.due_at == calendar.ticket_due_at(
        clock.now(), level="II", priority=ticket.priority
    )
    rows, _ = queue.list_tickets(session=seeded, user=one)
    assert ticket_id not in {t.id for t in rows}
    rows, _ = queue.list_tickets(session=seeded, user=csr(seeded, "csr2"))
    assert ticket_id in {t.id for t in rows}


def test_waiting_then_customer_reply_reopens(
    seeded: Session, tickets: dict[str, Ticket], clock: FixedClock, calendar: BusinessCalendar
) -> None:
    one = csr(seeded, "csr1")
    ticket = tickets["general"]
    queue.claim(session=seeded, user=one, ticket_id=ticket.id, now=clock.now())
    queue.set_waiting(session=seeded, user=one, ticket_id=ticket.id, now=clock.now())
    seeded.commit()
    assert seeded.get(Ticket, ticket.id).status == "waiting"  # type: ignore[union-attr]
    conversation = seeded.get(Conversation, ticket.conversation_id)
    assert conversation is not None
    clock.advance(timedelta(hours=2))
    reopened = reopen_on_customer_reply(
        session=seeded, conversation=conversation, now=clock.now(), calendar=calendar
    )
    assert [t.id for t in reopened] == [ticket.id]
    assert reopened[0].status == "claimed" and reopened[0].claimed_by_id == one.id
    assert "reopen" in actions(seeded, ticket.id)


def test_resolve_resumes_the_bot(
    seeded: Session, tickets: dict[str, Ticket], clock: FixedClock
) -> None:
    one, two = csr(seeded, "csr1"), csr(seeded, "csr2")
    ticket = tickets["general"]
    conversation = seeded.get(Conversation, ticket.conversation_id)
    assert conversation is not None and conversation.status == "handed_off"
    with pytest.raises(queue.Conflict, match="claim"):
        queue.resolve(
            session=seeded,
            user=one,
            ticket_id=ticket.id,
            disposition="answered",
            note="",
            now=clock.now(),
        )
    queue.claim(session=seeded, user=one, ticket_id=ticket.id, now=clock.now())
    with pytest.raises(queue.Forbidden):
        queue.resolve(
            session=seeded,
            user=two,
            ticket_id=ticket.id,
            disposition="answered",
            note="",
            now=clock.now(),
        )
    with pytest.raises(queue.InvalidRequest):
        queue.resolve(
            session=seeded,
            user=one,
            ticket_id=ticket.id,
            disposition="made-up",
            note="",
            now=clock.now(),
        )
    done = queue.resolve(
        session=seeded,
        user=one,
        ticket_id=ticket.id,
        disposition="answered",
        note="Explained the bill",
        now=clock.now(),
    )
    seeded.commit()
    assert (done.status, done.disposition, done.resolution_note) == (
        "resolved",
        "answered",
        "Explained the bill",
    )
    seeded.refresh(conversation)
    assert conversation.status == "open"
    with pytest.raises(queue.Conflict):
        queue.claim(session=seeded, user=one, ticket_id=ticket.id, now=clock.now())


def test_notes_are_internal_and_logged(
    seeded: Session, tickets: dict[str, Ticket], clock: FixedClock
) -> None:
    one = csr(seeded, "csr1")
    ticket_id = tickets["general"].id
    queue.add_note(
        session=seeded, user=one, ticket_id=ticket_id, text="Called twice", now=clock.now()
    )
    notes = queue.notes_for(session=seeded, ticket_id=ticket_id)
    assert [(n.body, n.actor, n.direction) for n in notes] == [
        ("Called twice", "csr:csr1", "internal")
    ]
    with pytest.raises(queue.InvalidRequest):
        queue.add_note(session=seeded, user=one, ticket_id=ticket_id, text=" ", now=clock.now())
    with pytest.raises(queue.Forbidden):
        queue.add_note(
            session=seeded, user=one, ticket_id=tickets["staff"].id, text="x", now=clock.now()
        )


def test_pagination_and_status_filter(
    seeded: Session, calendar: BusinessCalendar, clock: FixedClock
) -> None:
    unknown_callers(seeded, calendar, clock, count=7, first=2000, step=timedelta(minutes=1))
    user = csr(seeded, "csr1")
    first, total = queue.list_tickets(session=seeded, user=user, limit=3, offset=0)
    second, _ = queue.list_tickets(session=seeded, user=user, limit=3, offset=3)
    third, _ = queue.list_tickets(session=seeded, user=user, limit=3, offset=6)
    assert total == 7
    assert [len(first), len(second), len(third)] == [3, 3, 1]
    assert len({t.id for t in first + second + third}) == 7
    resolved, count = queue.list_tickets(session=seeded, user=user, status="resolved")
    assert (resolved, count) == ([], 0)
    with pytest.raises(queue.InvalidRequest):
        queue.list_tickets(session=seeded, user=user, status="bogus")
