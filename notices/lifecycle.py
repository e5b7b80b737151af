"""A notice's own life: created, changed, closed (staff input checked here).

Telling customers about each step is :func:`notices.announce.announce_notice`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from accounts.clock import as_utc
from accounts.models import NOTICE_KINDS, Notice


class NoticeError(ValueError):
    """A notice request is invalid (staff input), e.g. an unknown kind or a bad street block."""


_STREET = re.compile(r"^\s*(?P<name>[^:]+?)\s*(?::\s*(?P<low>\d+)\s*-\s*(?P<high>\d+))?\s*$")

#: What :func:`update_notice` may change.
_CHANGEABLE = frozenset(
    {
        "title",
        "text_en",
        "text_es",
        "zones",
        "streets",
        "estimated_restoration_at",
        "safety",
        "cause",
        "starts_at",
    }
)


def parse_street(text: str) -> dict[str, Any]:
    """``"Oak Street:400-700"`` → ``{"street": "Oak Street", "from": 400, "to": 700}``.

    Raises:
        NoticeError: Not a street name with an optional block range.
    """
    match = _STREET.match(text)
    if match is None or not match.group("name").strip():
        raise NoticeError(f"street {text!r}: expected NAME or NAME:FROM-TO")
    low, high = match.group("low"), match.group("high")
    if low is not None and high is not None and int(low) > int(high):
        raise NoticeError(f"street {text!r}: block range runs backwards")
    return {
        "street": match.group("name").strip(),
        "from": int(low) if low is not None else None,
        "to": int(high) if high is not None else None,
    }


def create_notice(
    *,
    session: Session,
    now: datetime,
    kind: str,
    title: str,
    zones: Sequence[str],
    text_en: str,
    text_es: str,
    streets: Sequence[dict[str, Any]] = (),
    cause: str = "",
    starts_at: datetime | None = None,
    estimated_restoration_at: datetime | None = None,
    safety: bool = False,
) -> Notice:
    """Save a new notice (announce it with ``announce_notice``, event ``created``).

    Raises:
        NoticeError: Unknown kind, no zone, or missing text.
    """
    if kind not in NOTICE_KINDS:
        raise NoticeError(f"kind must be one of {', '.join(NOTICE_KINDS)}")
    if not zones:
        raise NoticeError("a notice needs at least one zone")
    if not title.strip() or not text_en.strip() or not text_es.strip():
        raise NoticeError("a notice needs a title and texts in English and Spanish")
    starts = starts_at or now
    notice = Notice(
        kind=kind,
        status="scheduled" if starts > now else "active",
        title=title.strip(),
        cause=cause,
        zones=list(zones),
        streets=[dict(s) for s in streets],
        starts_at=starts,
        estimated_restoration_at=estimated_restoration_at,
        ended_at=None,
        text_en=text_en.strip(),
        text_es=text_es.strip(),
        safety=safety,
        created_at=now,
        updated_at=now,
    )
    session.add(notice)
    session.flush()
    return notice


def update_notice(*, session: Session, notice: Notice, now: datetime, **changes: Any) -> Notice:
    """Change a notice's fields (``title``, ``text_en``, ``text_es``, ``zones``,
    ``streets``, ``estimated_restoration_at``, ``safety``, ``cause``, ``starts_at``).

    Raises:
        NoticeError: The notice is closed, or a field is unknown.
    """
    if notice.status == "closed":
        raise NoticeError(f"notice {notice.id} is closed")
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise NoticeError(f"cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        if value is not None:
            setattr(notice, name, value)
    if notice.status == "scheduled" and as_utc(notice.starts_at) <= now:
        notice.status = "active"
    notice.updated_at = now
    session.flush()
    return notice


def close_notice(*, session: Session, notice: Notice, now: datetime) -> Notice:
    """Mark a notice ended (service restored / notice lifted).

    Raises:
        NoticeError: It is closed already.
    """
    if notice.status == "closed":
        raise NoticeError(f"notice {notice.id} is closed already")
    notice.status, notice.ended_at, notice.updated_at = "closed", now, now
    session.flush()
    return notice
