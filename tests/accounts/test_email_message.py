"""One "Re:" rule and an HTML rendering that lets no markup through."""

from __future__ import annotations

import pytest

from accounts.email_message import reply_subject, text_to_html


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Your bill", "Re: Your bill"),
        ("Re: Your bill", "Re: Your bill"),
        ("RE: Re: re:Your bill", "Re: Your bill"),
        ("Re[2]: Your bill", "Re: Your bill"),
        ("AW: Rechnung", "Re: Rechnung"),
        ("Fwd: water", "Re: Fwd: water"),
        ("", "Re: your message"),
    ],
)
def test_reply_subject_not_doubled(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_html_alternative_escapes_everything() -> None:
    html = text_to_html('Hello <script>alert("x")</script> & "you"\n\n-- \nSig <b>')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp;" in html and "&lt;b&gt;" in html
