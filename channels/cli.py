"""``assistant simulate sms|call``: try the phone channels without a phone.

Both commands send real, signed HTTP requests to the running gateway exactly
as Twilio does (same form fields, ``X-Twilio-Signature`` over the public URL
with the configured auth token), then show what Twilio would do with the
TwiML: the texts of ``<Message>``s, or what ``<Say>`` would speak. On a call,
type words for speech or digits for the keypad (an empty line is silence);
``<Pay>`` runs in a test mode that approves or declines without card data.
"""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

from accounts.deps import CoreServices
from accounts.phone import normalize_phone
from accounts.settings import Settings

InputFn = Callable[[str], str]
OutputFn = Callable[[str], None]

_DIGITS = re.compile(r"^[0-9*#]+$")


def parse_twiml(text: str) -> ElementTree.Element:
    """Parse TwiML from the gateway the simulator talks to.

    The document comes from our own gateway, not a stranger, and the expat
    parser bundled with Python 3.11 refuses entity-expansion bombs.
    """
    return ElementTree.fromstring(text)  # noqa: S314


@dataclass
class Simulator:
    """Posts signed Twilio-style webhooks to a gateway and interprets the TwiML.

    Attributes:
        gateway_url: Where the gateway listens (``http://127.0.0.1:8000``).
        public_base_url: The URL Twilio would call (what is signed).
        auth_token: The Twilio auth token the gateway checks.
        caller: The simulated customer's number (E.164).
        district_number: The district's number the customer calls or texts.
        ask: Reads a line from the user (``input`` by default).
        show: Prints a line (``print`` by default).
    """

    gateway_url: str
    public_base_url: str
    auth_token: str
    caller: str
    district_number: str
    ask: InputFn = input
    show: OutputFn = print
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=20.0))
    account_sid: str = "AC" + "0" * 32

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _public(self, url: str) -> str:
        return url if url.startswith("http") else f"{self.public_base_url.rstrip('/')}{url}"

    def _local(self, url: str) -> str:
        public = self._public(url)
        base = self.public_base_url.rstrip("/")
        if not public.startswith(base):
            raise ValueError(f"TwiML points outside the gateway: {public}")
        return f"{self.gateway_url.rstrip('/')}{public[len(base) :]}"

    def post(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        """POST a signed, form-encoded webhook."""
        public = self._public(url)
        signature = RequestValidator(self.auth_token).compute_signature(public, dict(params))
        return self.http.post(
            self._local(url),
            content=urlencode(list(params.items())).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )

    # -- SMS -----------------------------------------------------------------

    def text(self, body: str) -> list[str]:
        """Send one text; returns the bodies of the ``<Message>`` replies."""
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.district_number,
            "Body": body,
            "NumMedia": "0",
        }
        response = self.post("/twilio/sms", params)
        if response.status_code != 200:
            raise RuntimeError(f"gateway answered HTTP {response.status_code}")
        root = parse_twiml(response.text)
        return [m.text or "" for m in root.iter("Message")]

    def sms_chat(self) -> int:
        """An interactive text conversation; Ctrl-D or ``/quit`` ends it."""
        self.show(f"Texting {self.district_number} as {self.caller}. /quit to stop.")
        while True:
            try:
                line = self.ask("you> ")
            except EOFError:
                return 0
            if line.strip() in ("/quit", "/exit"):
                return 0
            for body in self.text(line):
                self.show(f"district> {body}")

    # -- voice ---------------------------------------------------------------

    def _call_params(self, call_sid: str, **extra: str) -> dict[str, str]:
        params = {
            "CallSid": call_sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.district_number,
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        params.update(extra)
        return params

    def _say_all(self, element: ElementTree.Element) -> None:
        for say in element.iter("Say"):
            self.show(f"[{say.attrib.get('language', 'en-US')}] {say.text or ''}")

    def call(self, *, max_turns: int = 200) -> int:
        """An interactive phone call; returns when the call ends."""
        call_sid = "CA" + secrets.token_hex(16)
        started = time.monotonic()
        self.show(f"Calling {self.district_number} as {self.caller}.")
        self.show("Type words to speak, digits to press keys, an empty line for silence.")
        url = "/twilio/voice"
        params = self._call_params(call_sid, CallStatus="ringing")
        for _ in range(max_turns):
            response = self.post(url, params)
            if response.status_code != 200:
                self.show(f"[gateway answered HTTP {response.status_code}]")
                return 1
            next_step = self._play(parse_twiml(response.text), call_sid)
            if next_step is None:
                break
            url, params = next_step
        duration = str(int(time.monotonic() - started))
        self.post(
            "/twilio/voice/status",
            self._call_params(call_sid, CallStatus="completed", CallDuration=duration),
        )
        self.show("[call ended]")
        return 0

    def _play(self, root: ElementTree.Element, call_sid: str) -> tuple[str, dict[str, str]] | None:
        """Run one TwiML document; returns the next request, or ``None`` when the call ends."""
        for verb in root:
            if verb.tag == "Say":
                self._say_all(verb)
            elif verb.tag == "Gather":
                self._say_all(verb)
                try:
                    answer = self.ask("caller> ").strip()
                except EOFError:
                    return None
                action = verb.attrib["action"]
                if not answer:
                    return action, self._call_params(call_sid)
                if _DIGITS.match(answer):
                    return action, self._call_params(call_sid, Digits=answer)
                return action, self._call_params(call_sid, SpeechResult=answer, Confidence="0.91")
            elif verb.tag == "Pay":
                return self._pay(verb, call_sid)
            elif verb.tag in ("Dial", "Enqueue"):
                return self._transfer(verb, call_sid)
            elif verb.tag == "Record":
                return self._record(verb, call_sid)
            elif verb.tag == "Redirect":
                return (verb.text or "").strip(), self._call_params(call_sid)
            elif verb.tag == "Hangup":
                return None
        return None

    def _pay(self, verb: ElementTree.Element, call_sid: str) -> tuple[str, dict[str, str]]:
        amount = verb.attrib.get("chargeAmount", "?")
        connector = verb.attrib.get("paymentConnector", "?")
        self.show(f"[<Pay> test mode: ${amount} via connector {connector!r}; no card data]")
        answer = self.ask("approve payment? [y/n]> ").strip().lower()
        if answer.startswith("y"):
            extra = {
                "Result": "success",
                "PaymentConfirmationCode": "SIM" + secrets.token_hex(3).upper(),
                "PaymentCardType": "visa",
                "ChargeAmount": amount,
            }
        else:
            extra = {"Result": "payment-connector-error", "PaymentError": "declined (simulated)"}
        return verb.attrib["action"], self._call_params(call_sid, **extra)

    def _transfer(self, verb: ElementTree.Element, call_sid: str) -> tuple[str, dict[str, str]]:
        number = verb.find("Number")
        if number is not None:
            self.show(f"[transferring to {number.text}]")
            whisper = number.attrib.get("url")
            if whisper:
                heard = self.post(whisper, self._call_params(call_sid))
                for say in parse_twiml(heard.text).iter("Say"):
                    self.show(f"[whisper to the representative] {say.text or ''}")
        else:
            self.show(f"[waiting in queue {verb.text!r} for a representative]")
        answer = self.ask("representative answers? [y/n]> ").strip().lower()
        status = "completed" if answer.startswith("y") else "no-answer"
        key = "DialCallStatus" if verb.tag == "Dial" else "QueueResult"
        if verb.tag == "Enqueue" and status == "completed":
            status = "bridged"
        return verb.attrib["action"], self._call_params(call_sid, **{key: status})

    def _record(self, verb: ElementTree.Element, call_sid: str) -> tuple[str, dict[str, str]]:
        self.show("[beep: recording a voicemail]")
        spoken = self.ask("voicemail> ").strip()
        recording_sid = "RE" + secrets.token_hex(16)
        params = self._call_params(
            call_sid,
            RecordingSid=recording_sid,
            RecordingUrl=f"https://api.twilio.com/simulated/{recording_sid}",
            RecordingDuration=str(max(1, len(spoken) // 12)) if spoken else "0",
        )
        callback = verb.attrib.get("transcribeCallback")
        if spoken and callback:
            self.post(
                callback,
                self._call_params(
                    call_sid,
                    RecordingSid=recording_sid,
                    TranscriptionStatus="completed",
                    TranscriptionText=spoken,
                ),
            )
        return verb.attrib["action"], params


def _simulator(args: argparse.Namespace, settings: Settings) -> Simulator:
    # The HTTP client's request log would drown the conversation on the terminal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    caller = normalize_phone(args.caller)
    if caller is None:
        raise SystemExit(f"not a phone number: {args.caller}")
    gateway = args.gateway or f"http://{settings.gateway_host}:{settings.gateway_port}"
    return Simulator(
        gateway_url=gateway,
        public_base_url=settings.public_base_url,
        auth_token=settings.twilio.auth_token.get_secret_value(),
        caller=caller,
        district_number=args.to or settings.twilio.from_number,
    )


def cmd_simulate_sms(args: argparse.Namespace, services: CoreServices) -> int:
    """A terminal text chat with the running gateway."""
    try:
        with _simulator(args, services.settings) as sim:
            return sim.sms_chat()
    except httpx.HTTPError as exc:
        print(f"cannot reach the gateway: {exc}", file=sys.stderr)
        return 1


def cmd_simulate_call(args: argparse.Namespace, services: CoreServices) -> int:
    """A terminal phone call with the running gateway."""
    try:
        with _simulator(args, services.settings) as sim:
            return sim.call()
    except httpx.HTTPError as exc:
        print(f"cannot reach the gateway: {exc}", file=sys.stderr)
        return 1


def register(subparsers: Any) -> None:
    """Add ``simulate sms`` and ``simulate call`` to the ``assistant`` command."""
    simulate = subparsers.add_parser("simulate", help="try SMS or a phone call without a phone")
    kinds = simulate.add_subparsers(dest="simulate_command", required=True)
    for name, handler, help_text in (
        ("sms", cmd_simulate_sms, "text the assistant from the terminal"),
        ("call", cmd_simulate_call, "call the phone line from the terminal"),
    ):
        parser = kinds.add_parser(name, help=help_text)
        parser.add_argument(
            "--from", dest="caller", required=True, help="your number, e.g. +15305550101"
        )
        parser.add_argument(
            "--to", default="", help="the district's number (default: TWILIO_FROM_NUMBER)"
        )
        parser.add_argument(
            "--gateway", default="", help="gateway URL (default: GATEWAY_HOST:PORT)"
        )
        parser.set_defaults(handler=handler)
