"""The CSR queue: listing, claiming (safe under concurrency), and every ticket transition.

Status flow: ``new`` -> ``claimed`` -> ``waiting`` (on the customer) -> ``resolved``
(``closed`` is archival). A customer reply puts a waiting ticket back in front of
its CSR; escalating or releasing puts it back in the queue; resolving hands the
conversation back to the bot.

Claims never double up: a claim is one conditional ``UPDATE ... WHERE status IN
('new', 'waiting') AND claimed_by_id IS NULL`` (atomic on SQLite, whose writers are
serialized, and on PostgreSQL, which re-checks the condition after a row lock), and
"take the next ticket" uses ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL so
fifty CSRs do not queue up behind the same row.

Every function here records what the CSR did in the contact log; callers commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from accounts.business_calendar import BusinessCalendar
from accounts.models import TICKET_STATUSES, Account, ContactLog, Conversation, CsrUser, Ticket
from accounts.services.contacts import record_contact
from accounts.services.tickets import OPEN_STATUSES, open_ticket_of
from escalation.routing import (
    DISPOSITIONS,
    LEVELS,
    can_reassign,
    can_see,
    higher_levels,
    is_supervisor,
    visible_levels,
)

__all__ = [
    "Conflict",
    "Forbidden",
    "InvalidRequest",
    "QueueError",
    "TicketNotFound",
    "add_note",
    "claim",
    "claim_next",
    "escalate",
    "get_ticket",
    "held_ticket",
    "list_tickets",
    "notes_for",
    "reassign",
    "release",
    "resolve",
    "set_waiting",
]

CLAIMABLE_STATUSES = ("new", "waiting")
MAX_PAGE = 200


class QueueError(Exception):
    """A CSR action that cannot be done (a staff-side error, not a customer's)."""


class TicketNotFound(QueueError):
    """No such ticket."""


class Forbidden(QueueError):
    """The CSR's level or role does not allow this action."""


class Conflict(QueueError):
    """The ticket is held by someone else or is in a state that forbids the action."""


class InvalidRequest(QueueError):
    """The request itself is wrong (unknown disposition, empty text, bad level)."""


def _actor(user: CsrUser) -> str:
    return f"csr:{user.username}"


def _log(
    *,
    session: Session,
    ticket: Ticket,
    user: CsrUser | None,
    action: str,
    body: str,
    now: datetime,
    kind: str = "csr_action",
    meta: dict[str, Any] | None = None,
) -> ContactLog:
    details = {"action": action, **(meta or {})}
    return record_contact(
        session=session,
        channel=ticket.channel,
        direction="internal",
        kind=kind,
        body=body,
        at=now,
        conversation=ticket.conversation,
        account=ticket.account,
        ticket_id=ticket.id,
        actor=_actor(user) if user else "customer",
        meta=details,
    )


def _reload(session: Session, ticket_id: int) -> Ticket:
    ticket = session.execute(
        select(Ticket).where(Ticket.id == ticket_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound(f"ticket {ticket_id} does not exist")
    return ticket


def get_ticket(*, session: Session, user: CsrUser, ticket_id: int) -> Ticket:
    """A ticket the CSR may see.

    Raises:
        TicketNotFound: No such ticket.
        Forbidden: The ticket is routed above the CSR's level.
    """
    ticket = _reload(session, ticket_id)
    if not can_see(user.level, ticket.level):
        raise Forbidden(f"CSR {user.level} may not open a CSR {ticket.level} ticket")
    return ticket


def _visible(user: CsrUser) -> ColumnElement[bool]:
    return Ticket.level.in_(visible_levels(user.level))


def list_tickets(
    *,
    session: Session,
    user: CsrUser,
    status: str | Sequence[str] | None = None,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Ticket], int]:
    """Tickets the CSR's level may see, by priority, then due time, then age.

    Args:
        session: Database session.
        user: The CSR asking.
        status: One status, several, or None for every open one.
        mine: Only tickets the CSR holds.
        limit: Page size (at most 200).
        offset: Rows to skip.

    Returns:
        The page and the total number of matching tickets.

    Raises:
        InvalidRequest: An unknown status.
    """
    statuses = (status,) if isinstance(status, str) else tuple(status or OPEN_STATUSES)
    unknown = [s for s in statuses if s not in TICKET_STATUSES]
    if unknown:
        raise InvalidRequest(f"unknown status {unknown[0]!r}")
    conditions = [_visible(user), Ticket.status.in_(statuses)]
    if mine:
        conditions.append(Ticket.claimed_by_id == user.id)
    where = and_(*conditions)
    total = session.scalar(select(func.count(Ticket.id)).where(where)) or 0
    rows = session.scalars(
        select(Ticket)
        # The queue shows each row's account, customer and holder: load them with the
        # page instead of three lazy queries per row.
        .options(
            joinedload(Ticket.account).joinedload(Account.customer),
            joinedload(Ticket.claimed_by),
        )
        .where(where)
        .order_by(Ticket.priority, Ticket.due_at, Ticket.id)
        .limit(max(1, min(limit, MAX_PAGE)))
        .offset(max(0, offset))
    )
    return list(rows), int(total)


def claim(*, session: Session, user: CsrUser, ticket_id: int, now: datetime) -> Ticket:
    """Take a ticket; idempotent for its holder.

    Raises:
        TicketNotFound: No such ticket.
        Forbidden: The ticket is above the CSR's level.
        Conflict: Someone else holds it, or it is resolved/closed.
    """
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket_id,
            _visible(user),
            Ticket.status.in_(CLAIMABLE_STATUSES),
            or_(Ticket.claimed_by_id.is_(None), Ticket.claimed_by_id == user.id),
        )
        .values(status="claimed", claimed_by_id=user.id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    ticket = _reload(session, ticket_id)
    if getattr(result, "rowcount", 0) != 1:
        if not can_see(user.level, ticket.level):
            raise Forbidden(f"CSR {user.level} may not take a CSR {ticket.level} ticket")
        if ticket.status == "claimed" and ticket.claimed_by_id == user.id:
            return ticket
        if ticket.claimed_by_id is not None and ticket.claimed_by_id != user.id:
            holder = ticket.claimed_by.username if ticket.claimed_by else "another CSR"
            raise Conflict(f"ticket {ticket_id} is held by {holder}")
        raise Conflict(f"ticket {ticket_id} is {ticket.status}")
    _log(
        session=session,
        ticket=ticket,
        user=user,
        action="claim",
        body=f"Ticket #{ticket.id} claimed by {user.username}",
        now=now,
    )
    return ticket


def claim_next(*, session: Session, user: CsrUser, now: datetime) -> Ticket | None:
    """Take the most urgent unclaimed ticket the CSR may handle, or None when none is left."""
    base = (
        select(Ticket.id)
        .where(_visible(user), Ticket.status == "new", Ticket.claimed_by_id.is_(None))
        .order_by(Ticket.priority, Ticket.due_at, Ticket.id)
        .limit(1)
    )
    take = (
        update(Ticket)
        .values(status="claimed", claimed_by_id=user.id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if session.get_bind().dialect.name == "postgresql":
        # One statement: lock the first candidate nobody else has locked (SKIP LOCKED,
        # so fifty CSRs each get a different row at once) and take it.
        candidate = base.with_for_update(skip_locked=True).scalar_subquery()
        taken = session.scalar(
            take.where(Ticket.id == candidate, Ticket.status == "new").returning(Ticket.id)
        )
        return None if taken is None else _took_next(session, user, taken, now)
    # SQLite serializes writers: a lost race (rowcount 0) moves on to the next candidate.
    for _ in range(100):
        ticket_id = session.scalar(base)
        if ticket_id is None:
            return None
        result = session.execute(
            take.where(
                Ticket.id == ticket_id, Ticket.status == "new", Ticket.claimed_by_id.is_(None)
            )
        )
        if getattr(result, "rowcount", 0) == 1:
            return _took_next(session, user, ticket_id, now)
    raise Conflict("the queue is too contended; try again")


def _took_next(session: Session, user: CsrUser, ticket_id: int, now: datetime) -> Ticket:
    ticket = _reload(session, ticket_id)
    _log(
        session=session,
        ticket=ticket,
        user=user,
        action="claim",
        body=f"Ticket #{ticket.id} claimed by {user.username} (next in queue)",
        now=now,
    )
    return ticket


def _require_holder_or_supervisor(user: CsrUser, ticket: Ticket, action: str) -> None:
    if not can_see(user.level, ticket.level):
        raise Forbidden(f"CSR {user.level} may not {action} a CSR {ticket.level} ticket")
    if ticket.claimed_by_id == user.id or is_supervisor(user.level):
        return
    if ticket.claimed_by_id is None:
        raise Conflict(f"claim ticket {ticket.id} before you {action} it")
    raise Forbidden(f"ticket {ticket.id} is held by another CSR")


def _require_open(ticket: Ticket) -> None:
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(f"ticket {ticket.id} is {ticket.status}")


def _update_open(session: Session, ticket_id: int, **values: Any) -> Ticket:
    """A guarded update, so the change cannot interleave with a claim or a resolve."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status.in_(OPEN_STATUSES))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict(f"ticket {ticket_id} changed; reload and try again")
    return _reload(session, ticket_id)


def held_ticket(*, session: Session, user: CsrUser, ticket_id: int) -> Ticket:
    """An open ticket the CSR holds: only its holder answers the customer.

    Raises:
        TicketNotFound: No such ticket.
        Forbidden: The ticket is above the CSR's level.
        Conflict: The ticket is closed, unclaimed, or held by someone else.
    """
    ticket = get_ticket(session=session, user=user, ticket_id=ticket_id)
    _require_open(ticket)
    if ticket.claimed_by_id is None:
        raise Conflict(f"claim ticket {ticket_id} before replying")
    if ticket.claimed_by_id != user.id:
        raise Conflict(f"ticket {ticket_id} is held by another CSR")
    return ticket


def release(*, session: Session, user: CsrUser, ticket_id: int, now: datetime) -> Ticket:
    """Put a claimed ticket back in the queue (its holder, or a Senior CSR/manager)."""
    ticket = _reload(session, ticket_id)
    _require_open(ticket)
    _require_holder_or_supervisor(user, ticket, "release")
    ticket.status, ticket.claimed_by_id, ticket.claimed_at = "new", None, None
    ticket.updated_at = now
    _log(
        session=session,
        ticket=ticket,
        user=user,
        action="release",
        body=f"Ticket #{ticket.id} released to the queue by {user.username}",
        now=now,
    )
    session.flush()
    return ticket


def reassign(
    *, session: Session, user: CsrUser, ticket_id: int, to_username: str, now: datetime
) -> Ticket:
    """Give a ticket to another CSR (Senior CSRs and managers only).

    Raises:
        Forbidden: The CSR may not reassign.
        InvalidRequest: The target is unknown, inactive or below the ticket's level.
    """
    if not can_reassign(user.level):
        raise Forbidden("only a Senior CSR or a manager may reassign tickets")
    ticket = _reload(session, ticket_id)
    _require_open(ticket)
    if not can_see(user.level, ticket.level):
        raise Forbidden(f"CSR {user.level} may not reassign a CSR {ticket.level} ticket")
    target = session.scalar(select(CsrUser).where(CsrUser.username == to_username))
    if target is None or not target.active:
        raise InvalidRequest(f"no active CSR {to_username!r}")
    if not can_see(target.level, ticket.level):
        raise InvalidRequest(
            f"{target.username} is CSR {target.level}; the ticket needs CSR {ticket.level}"
        )
    previous = ticket.claimed_by.username if ticket.claimed_by else "nobody"
    ticket = _update_open(
        session,
        ticket.id,
        claimed_by_id=target.id,
        claimed_at=now,
        updated_at=now,
        status="waiting" if ticket.status == "waiting" else "claimed",
    )
    _log(
        session=session,
        ticket=ticket,
        user=user,
        action="reassign",
        body=f"Ticket #{ticket.id} reassigned from {previous} to {target.username}",
        now=now,
        meta={"from": previous, "to": target.username},
    )
    return ticket


def escalate(
    *,
    session: Session,
    user: CsrUser,
    ticket_id: int,
    to_level: str,
    reason: str,
    now: datetime,
    calendar: BusinessCalendar,
) -> Ticket:
    """Send a ticket up to a higher level; it goes back to the queue with a new due time."""
    ticket = _reload(session, ticket_id)
    _require_open(ticket)
    if not can_see(user.level, ticket.level):
        raise Forbidden(f"CSR {user.level} may not escalate a CSR {ticket.level} ticket")
    if ticket.claimed_by_id not in (None, user.id) and not is_supervisor(user.level):
        raise Forbidden(f"ticket {ticket.id} is held by another CSR")
    if to_level not in LEVELS or to_level not in higher_levels(ticket.level):
        raise InvalidRequest(f"a CSR {ticket.level} ticket can only go up, not to {to_level!r}")
    if not reason.strip():
        raise InvalidRequest("say why the ticket is escalated")
    previous = ticket.level
    ticket.level = to_level
    ticket.status, ticket.claimed_by_id, ticket.claimed_at = "new", None, None
    ticket.reason = f"escalated: {reason.strip()}"[:200]
    ticket.due_at = calendar.ticket_due_at(now, level=to_level, priority=ticket.priority)
    ticket.updated_at = now
    _log(
        session=session,
        ticket=ticket,
        user=user,
        action="escalate",
        body=f"Ticket #{ticket.id} escalated from CSR {previous} to CSR {to_level}: {reason}",
        now=now,
        meta={"from_level": previous, "to_level": to_level},
    )
    session.flush()
    return ticket


def set_waiting(*, session: Session, user: CsrUser, ticket_id: int, now: datetime) -> Ticket:
    """Mark a claimed ticket as waiting on the customer."""
    ticket = _reload(session, ticket_id)
    _require_open(ticket)
    _require_holder_or_supervisor(user, ticket, "park")
    if ticket.claimed_by_id is None:
        ticket.claimed_by_id, ticket.claimed_at = user.id, now
    ticket.status, ticket.updated_at = "waiting", now
    _log(
        session=session,
        ticket=ticket,
        user=user,
        action="waiting",
        body=f"Ticket #{ticket.id} waiting on the customer",
        now=now,
    )
    session.flush()
    return ticket


def resolve(
    *,
    session: Session,
    user: CsrUser,
    ticket_id: int,
    disposition: str,
    note: str,
    now: datetime,
) -> Ticket:
    """Resolve a ticket with a disposition code; the bot resumes the conversation.

    Raises:
        InvalidRequest: Unknown disposition.
        Conflict: Not claimed by anyone, or already resolved.
        Forbidden: Held by another CSR (and the caller is not a supervisor).
    """
    if disposition not in DISPOSITIONS:
        raise InvalidRequest(f"unknown disposition {disposition!r}")
    ticket = _reload(session, ticket_id)
    _require_open(ticket)
    _require_holder_or_supervisor(user, ticket, "resolve")
    ticket = _update_open(
        session,
        ticket.id,
        status="resolved",
        resolved_at=now,
        updated_at=now,
        disposition=disposition,
        resolution_note=note.strip(),
    )
    _log(
        session=session,
        ticket=ticket,
        user=user,
        action="resolve",
        body=f"Ticket #{ticket.id} resolved ({DISPOSITIONS[disposition]})"
        + (f": {note.strip()}" if note.strip() else ""),
        now=now,
        meta={"disposition": disposition},
    )
    _resume_bot(session=session, ticket=ticket, now=now)
    session.flush()
    return ticket


def _resume_bot(*, session: Session, ticket: Ticket, now: datetime) -> None:
    """Hand the conversation back to the bot once no ticket on it is open."""
    if ticket.conversation_id is None:
        return
    conversation = session.get(Conversation, ticket.conversation_id)
    if conversation is None or conversation.status != "handed_off":
        return
    if open_ticket_of(session=session, conversation_id=conversation.id) is not None:
        return
    conversation.status = "open"
    conversation.outcome = "resolved_by_csr"
    conversation.last_activity_at = now


def add_note(
    *, session: Session, user: CsrUser, ticket_id: int, text: str, now: datetime
) -> ContactLog:
    """An internal note on a ticket (never sent to the customer)."""
    ticket = get_ticket(session=session, user=user, ticket_id=ticket_id)
    if not text.strip():
        raise InvalidRequest("the note is empty")
    entry = _log(
        session=session,
        ticket=ticket,
        user=user,
        action="note",
        body=text.strip(),
        now=now,
        kind="note",
    )
    ticket.updated_at = now
    return entry


def notes_for(*, session: Session, ticket_id: int) -> list[ContactLog]:
    """A ticket's internal notes, oldest first."""
    return list(
        session.scalars(
            select(ContactLog)
            .where(ContactLog.ticket_id == ticket_id, ContactLog.kind == "note")
            .order_by(ContactLog.at, ContactLog.id)
        )
    )
