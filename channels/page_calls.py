"""``POST /twilio/page/ack``: the on-call person pressed a key on an emergency page call.

The page call's ``<Gather>`` posts here with ``?page=<Page id>``; the request is
signature-checked like every Twilio webhook. What the key means (1
acknowledges, anything else repeats the page) is the pager's rule.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from accounts.db import SessionDep
from accounts.phone import normalize_phone
from channels.deps import ChannelServicesDep
from channels.signature import TwilioRequestDep
from channels.twiml import xml_response

#: Where page calls post their keys (the pager builds URLs to it).
ACK_PATH = "/twilio/page/ack"

router = APIRouter(tags=["paging"])


@router.post(ACK_PATH, response_class=Response)
def page_ack(
    tw: TwilioRequestDep,
    session: SessionDep,
    services: ChannelServicesDep,
    page_id: Annotated[int, Query(alias="page")] = 0,
) -> Response:
    """Digit 1 acknowledges the page; other input hears the page again."""
    twiml = services.pager.answer_call(
        session=session,
        page_id=page_id,
        callee=normalize_phone(tw.get("To")),
        digits=tw.get("Digits"),
        now=services.clock.now(),
    )
    session.commit()
    return xml_response(twiml)
