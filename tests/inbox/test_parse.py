"""Parsing survives the corpus of awkward mail and extracts what triage needs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from inbox.parse import html_to_text, parse_email, strip_reply
from tests.inbox import corpus


def test_plain_message_headers_and_body() -> None:
    parsed = parse_email(corpus.plain())
    assert parsed.message_id == "<plain-1@mail.example.com>"
    assert not parsed.message_id_synthesized
    assert parsed.from_address == "dana.whitfield@example.com"
    assert parsed.from_name == "Customer"
    assert parsed.to == ("customerservice@valleysprings-water.example.com",)
    assert parsed.subject == "Question about my water"
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert "outage on Oak Street" in parsed.text
    assert parsed.attachments == ()


def test_missing_message_id_is_synthesized_and_stable() -> None:
    raw = corpus.no_message_id()
    first = parse_email(raw)
    second = parse_email(raw)
    assert first.message_id_synthesized
    assert first.message_id == second.message_id
    assert first.message_id.startswith("<synth-") and first.message_id.endswith(">")
    other = parse_email(raw.replace(b"Friday", b"Monday"))
    assert other.message_id != first.message_id


def test_wrong_charset_declared_utf8_but_cp1252() -> None:
    parsed = parse_email(corpus.wrong_charset())
    assert "can\u2019t pay" in parsed.text
    assert "Caf\u00e9" in parsed.text
    assert "\ufffd" not in parsed.text


def test_unknown_charset_falls_back() -> None:
    parsed = parse_email(corpus.unknown_charset())
    assert "Se\u00f1or" in parsed.text
    assert parsed.subject == "odd subject"


def test_nested_multipart_picks_plain_and_lists_attachments(tmp_path: Path) -> None:
    parsed = parse_email(corpus.nested_multipart(), attachment_dir=tmp_path)
    assert parsed.text == "My meter reading looks wrong, photo attached. Account 1001560."
    assert parsed.html is not None and "<img" in parsed.html
    kinds = sorted(a.content_type for a in parsed.attachments)
    assert kinds == ["application/pdf", "image/png"]
    pdf = next(a for a in parsed.attachments if a.filename == "bill.pdf")
    assert pdf.stored_path is not None
    assert Path(pdf.stored_path).read_bytes() == b"%PDF-1.4 fake bill"
    assert pdf.sha256 == hashlib.sha256(b"%PDF-1.4 fake bill").hexdigest()


def test_html_only_drops_script_and_style_keeps_links() -> None:
    parsed = parse_email(corpus.html_only_with_script())
    assert parsed.content_type == "text/html"
    assert "low-flow toilet" in parsed.text
    assert "this page (https://valleysprings-water.example.com/rebates)" in parsed.text
    assert "& want to apply" in parsed.text
    for bad in ("alert", "EVIL", "steal", "color:red", "<"):
        assert bad not in parsed.text


def test_html_blockquote_becomes_quoted_and_is_stripped() -> None:
    text = html_to_text(
        "<div>Thanks, that helps.</div><div class=gmail_quote>On Mon someone wrote:"
        "<blockquote>old text</blockquote></div>"
    )
    assert "> old text" in text
    assert strip_reply(text) == "Thanks, that helps."


def test_big_attachment_over_cap_keeps_metadata_only(tmp_path: Path) -> None:
    parsed = parse_email(
        corpus.big_attachment(), attachment_dir=tmp_path, max_attachment_bytes=10 * 1024 * 1024
    )
    (video,) = parsed.attachments
    assert video.size == 20 * 1024 * 1024
    assert video.over_cap and video.stored_path is None
    assert video.filename == "leak video.mp4"
    assert list(tmp_path.iterdir()) == []
    assert "bill is way too high" in parsed.new_text


def test_attachment_under_cap_is_stored(tmp_path: Path) -> None:
    parsed = parse_email(
        corpus.big_attachment(size=1000), attachment_dir=tmp_path, max_attachment_bytes=2000
    )
    (video,) = parsed.attachments
    assert not video.over_cap
    assert video.stored_path is not None and Path(video.stored_path).stat().st_size == 1000


def test_attachment_filename_cannot_escape_directory(tmp_path: Path) -> None:
    raw = corpus.big_attachment(size=10).replace(
        b'filename="leak video.mp4"', b'filename="../../etc/passwd"'
    )
    target = tmp_path / "att"
    parsed = parse_email(raw, attachment_dir=target)
    (attachment,) = parsed.attachments
    assert attachment.stored_path is not None
    assert Path(attachment.stored_path).parent == target
    assert attachment.filename == "passwd"


def test_forwarded_chain_is_recognised() -> None:
    parsed = parse_email(corpus.forwarded_chain())
    assert parsed.is_forwarded
    senders = {f.from_address for f in parsed.forwarded}
    assert "neighbor@example.org" in senders
    assert parsed.new_text == "FYI see below"
    # The request is in the forwarded part; classification must see it.
    assert "water gushing" in parsed.classification_text
    assert any(a.content_type == "message/rfc822" for a in parsed.attachments)


def test_empty_body() -> None:
    parsed = parse_email(corpus.empty_body())
    assert parsed.text == ""
    assert parsed.new_text == ""
    assert parsed.classification_text == ""


def test_spanish_latin1_and_encoded_headers() -> None:
    parsed = parse_email(corpus.spanish_latin1())
    assert parsed.subject == "\u00bfCu\u00e1nto debo?"
    assert parsed.from_name == "Mar\u00eda Gonz\u00e1lez"
    assert "\u00bfcu\u00e1nto debo en mi cuenta?" in parsed.text
    assert "Enviado desde mi iPhone" in parsed.text
    assert "Enviado desde" not in parsed.new_text


def test_raw_8bit_headers_decode_as_utf8() -> None:
    parsed = parse_email(corpus.raw_8bit_header())
    assert parsed.subject == "Facturaci\u00f3n \u2014 \u00bfpor qu\u00e9 tan alta?"
    assert parsed.from_name == "Jos\u00e9 N\u00fa\u00f1ez"
    assert parsed.from_address == "jose.nunez@example.com"


def test_reply_threading_quote_and_signature_stripped() -> None:
    parsed = parse_email(corpus.reply_with_quote("<ours-1@valleysprings-water.example.com>"))
    assert parsed.in_reply_to == "<ours-1@valleysprings-water.example.com>"
    assert parsed.thread_ids == ("<ours-1@valleysprings-water.example.com>",)
    assert parsed.new_text == "The leak was fixed on November 20th, receipt attached."
    assert "We opened a ticket" in parsed.text  # the full text is kept
    # A reply's subject is the old topic: only what the customer wrote now is classified.
    assert parsed.is_reply
    assert parsed.classification_text == "The leak was fixed on November 20th, receipt attached."


def test_new_message_is_classified_with_its_subject() -> None:
    parsed = parse_email(corpus.account_in_subject())
    assert not parsed.is_reply
    assert parsed.classification_text.startswith("Account 1001139 - water shut off\n")


def test_outlook_spanish_header_block_stripped() -> None:
    parsed = parse_email(corpus.outlook_spanish_reply())
    assert parsed.new_text == "Necesito un plan de pagos por favor."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi\n\n-----Original Message-----\nFrom: x\nold", "Hi"),
        ("Hola\n\n-----Mensaje original-----\nDe: x", "Hola"),
        (
            "Thanks\n\nFrom: District <a@b.example>\nSent: Monday\nTo: me\nSubject: x\n\nold",
            "Thanks",
        ),
        (
            "Gracias\n\nEl lun, 23 nov 2026 a las 9:00, Distrito (<a@b.example>) escribió:\n> x",
            "Gracias",
        ),
        ("Yes please\n> quoted line\n> another", "Yes please"),
        ("See you\nSent from my iPhone", "See you"),
        ("See you\n\n--\nJane", "See you"),
        ("Ok\n________________________________\nFrom: x", "Ok"),
        ("From my point of view the bill is high.", "From my point of view the bill is high."),
    ],
)
def test_strip_reply_patterns(text: str, expected: str) -> None:
    assert strip_reply(text) == expected


def test_every_corpus_message_parses() -> None:
    for name, raw in corpus.build_corpus(include_big=False).items():
        parsed = parse_email(raw)
        assert parsed.message_id.startswith("<"), name
        assert parsed.size == len(raw), name


def test_garbage_never_raises() -> None:
    for raw in (
        b"",
        b"\x00\xff\xfe garbage",
        b"Subject: =?utf-8?B?!!!?=\r\n\r\n\xff",
        b"From:\r\n",
    ):
        parsed = parse_email(raw)
        assert parsed.message_id_synthesized


def test_overlong_message_ids_are_bounded_consistently() -> None:
    long_id = "<" + "x" * 400 + "@example.com>"
    first = parse_email(corpus.plain(message_id=long_id))
    reply = parse_email(corpus.plain(message_id="<r@x>", extra_headers={"In-Reply-To": long_id}))
    assert len(first.message_id) < 254
    assert reply.in_reply_to == first.message_id
