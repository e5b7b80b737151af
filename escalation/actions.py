"""What a CSR can do to a ticket: one table, served as form posts and as JSON endpoints.

Each :class:`Action` names the action (its URL segment under ``/csr/tickets/{id}/``
and ``/api/tickets/{id}/``), who may take it, the request fields (form fields on the
CSR pages, a JSON body on the API: the same names and limits) and the call into
:mod:`escalation.queue` / :mod:`escalation.replies`. The CSR pages
(:mod:`escalation.ticket_pages`) and the API (:mod:`escalation.api`) each make one
route per entry, so adding an action is one entry here.

The queue checks the CSR's level and hold on the ticket; :func:`perform` adds the
role check of the entry, maps queue errors to HTTP status codes and commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Form
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from accounts.models import CsrUser, Ticket
from escalation import queue
from escalation.auth import require_supervisor
from escalation.deps import CsrServices
from escalation.http_errors import http_errors
from escalation.presenters import entry_json, ticket_json
from escalation.replies import ReplyResult, deliver_reply

#: The page's flash message after an action, by key (only keys travel in URLs:
#: nothing the client sends is shown back).
MESSAGES = {
    "claimed": "You have the ticket.",
    "released": "The ticket is back in the queue.",
    "replied": "Reply sent.",
    "reply_queued": "Email reply queued in the outbox.",
    "reply_blocked": "Not sent: the customer opted out of text messages.",
    "callback": "Callback task recorded: call the customer.",
    "noted": "Note added.",
    "waiting": "Waiting on the customer.",
    "resolved": "Resolved. The assistant resumes the conversation.",
    "escalated": "Escalated.",
    "reassigned": "Reassigned.",
}


# -- request fields -----------------------------------------------------------------------


class EmptyRequest(BaseModel):
    """An action that takes nothing but the ticket."""


class TextRequest(BaseModel):
    """A reply to the customer, or an internal note."""

    text: Annotated[str, Field(min_length=1, max_length=5000)]


class ResolveRequest(BaseModel):
    disposition: Annotated[str, Field(min_length=1, max_length=40)]
    note: Annotated[str, Field(max_length=5000)] = ""


class EscalateRequest(BaseModel):
    level: Annotated[str, Field(min_length=1, max_length=10)]
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class ReassignRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]


# -- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionCall:
    """One CSR taking an action on one ticket, now."""

    session: Session
    services: CsrServices
    user: CsrUser
    ticket_id: int
    now: datetime


@dataclass(frozen=True)
class Outcome:
    """What an action did, for each side to show.

    Attributes:
        ticket: The ticket after the action.
        message: The key of the CSR page's flash message (:data:`MESSAGES`).
        answer: The JSON API's response body (built after the commit, and only by the API).
    """

    ticket: Ticket
    message: str
    answer: Callable[[], dict[str, Any]]


F = TypeVar("F", bound=BaseModel)


@dataclass(frozen=True)
class Action(Generic[F]):
    """One thing a CSR can do to a ticket.

    Attributes:
        name: The URL segment on the CSR pages (and on the API unless ``api_name``).
        fields: The request fields: form fields on the pages, the JSON body on the API.
        run: The call into the queue or the reply sender.
        help: What it does (the API documentation).
        supervisors_only: Who may take it: only Senior CSRs and managers, or every
            CSR (whose level and hold on the ticket the queue checks).
        api_name: The API's URL segment where it differs from the page's.
    """

    name: str
    fields: type[F]
    run: Callable[[ActionCall, F], Outcome]
    help: str
    supervisors_only: bool = False
    api_name: str = ""

    @property
    def api_path(self) -> str:
        """The URL segment under ``/api/tickets/{id}/``."""
        return self.api_name or self.name

    def fields_param(self, *, form: bool) -> Any:
        """The annotation of a route's ``fields`` parameter: form fields, a JSON body or nothing.

        FastAPI reads what to parse from the route's signature, and each action brings
        its own model; an action without fields reads nothing from the request (an
        empty model is built as a dependency without parameters), so its JSON
        endpoint takes no body, as before the table.
        """
        if not self.fields.model_fields:
            return Annotated[self.fields, Depends(self.fields)]
        return Annotated[self.fields, Form()] if form else self.fields


def _moved(ticket: Ticket, message: str) -> Outcome:
    return Outcome(ticket=ticket, message=message, answer=partial(ticket_json, ticket))


def _claim(call: ActionCall, fields: EmptyRequest) -> Outcome:
    ticket = queue.claim(
        session=call.session, user=call.user, ticket_id=call.ticket_id, now=call.now
    )
    return _moved(ticket, "claimed")


def _release(call: ActionCall, fields: EmptyRequest) -> Outcome:
    ticket = queue.release(
        session=call.session, user=call.user, ticket_id=call.ticket_id, now=call.now
    )
    return _moved(ticket, "released")


def _set_waiting(call: ActionCall, fields: EmptyRequest) -> Outcome:
    ticket = queue.set_waiting(
        session=call.session, user=call.user, ticket_id=call.ticket_id, now=call.now
    )
    return _moved(ticket, "waiting")


def _reply_json(ticket_id: int, result: ReplyResult) -> dict[str, Any]:
    return {
        "ticket": ticket_id,
        "channel": result.channel,
        "status": result.status,
        "outbound_ids": result.outbound_ids,
        "callback_number": result.callback_number or None,
    }


def _reply_message(result: ReplyResult) -> str:
    if result.status == "callback_task":
        return "callback"
    if result.status == "blocked":
        return "reply_blocked"
    return "reply_queued" if result.channel == "email" else "replied"


def _reply(call: ActionCall, fields: TextRequest) -> Outcome:
    ticket = queue.held_ticket(session=call.session, user=call.user, ticket_id=call.ticket_id)
    result = deliver_reply(
        session=call.session,
        ticket=ticket,
        user=call.user,
        text=fields.text,
        now=call.now,
        district=call.services.district,
        sms=call.services.sms_sender,
    )
    return Outcome(
        ticket=ticket,
        message=_reply_message(result),
        answer=partial(_reply_json, ticket.id, result),
    )


def _note(call: ActionCall, fields: TextRequest) -> Outcome:
    entry = queue.add_note(
        session=call.session,
        user=call.user,
        ticket_id=call.ticket_id,
        text=fields.text,
        now=call.now,
    )
    # add_note loaded the ticket: this comes from the session, without a query.
    ticket = call.session.get_one(Ticket, call.ticket_id)
    return Outcome(ticket=ticket, message="noted", answer=partial(entry_json, entry))


def _resolve(call: ActionCall, fields: ResolveRequest) -> Outcome:
    ticket = queue.resolve(
        session=call.session,
        user=call.user,
        ticket_id=call.ticket_id,
        disposition=fields.disposition,
        note=fields.note,
        now=call.now,
    )
    return _moved(ticket, "resolved")


def _escalate(call: ActionCall, fields: EscalateRequest) -> Outcome:
    ticket = queue.escalate(
        session=call.session,
        user=call.user,
        ticket_id=call.ticket_id,
        to_level=fields.level,
        reason=fields.reason,
        now=call.now,
        calendar=call.services.calendar,
    )
    return _moved(ticket, "escalated")


def _reassign(call: ActionCall, fields: ReassignRequest) -> Outcome:
    ticket = queue.reassign(
        session=call.session,
        user=call.user,
        ticket_id=call.ticket_id,
        to_username=fields.username,
        now=call.now,
    )
    return _moved(ticket, "reassigned")


#: Every action on a ticket, in the order the ticket page offers them.
ACTIONS: tuple[Action[Any], ...] = (
    Action("claim", EmptyRequest, _claim, "Take the ticket; 409 when another CSR holds it."),
    Action("release", EmptyRequest, _release, "Put the ticket back in the queue."),
    Action("waiting", EmptyRequest, _set_waiting, "Mark the ticket as waiting on the customer."),
    Action(
        "reply",
        TextRequest,
        _reply,
        "Answer the customer on the ticket's channel (the caller must hold the ticket).",
    ),
    Action("note", TextRequest, _note, "An internal note.", api_name="notes"),
    Action(
        "resolve",
        ResolveRequest,
        _resolve,
        "Resolve with a disposition code; the bot resumes the conversation.",
    ),
    Action("escalate", EscalateRequest, _escalate, "Send the ticket to a higher level."),
    Action(
        "reassign",
        ReassignRequest,
        _reassign,
        "Give the ticket to another CSR (Senior CSR or manager only).",
        supervisors_only=True,
    ),
)


def perform(
    action: Action[F],
    *,
    session: Session,
    services: CsrServices,
    user: CsrUser,
    ticket_id: int,
    fields: F,
) -> Outcome:
    """Take ``action`` on a ticket and commit.

    Raises:
        HTTPException: 403 when the action is not the CSR's to take, or the queue's
            error as its status code (:func:`escalation.http_errors.http_errors`).
    """
    if action.supervisors_only:
        require_supervisor(user)
    call = ActionCall(
        session=session, services=services, user=user, ticket_id=ticket_id, now=services.clock.now()
    )
    with http_errors():
        outcome = action.run(call, fields)
    session.commit()
    return outcome
