"""The district facts file (``bot/district.yml``) as typed, validated models.

Nothing is read at import time: callers pass the path, normally
``get_settings().district_file``, to :func:`load_district`.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "Address",
    "Arrangements",
    "District",
    "DistrictFileError",
    "FixedHoliday",
    "LocalizedText",
    "NthWeekdayHoliday",
    "TimeRange",
    "Weekday",
    "load_district",
]

LEVELS: tuple[str, ...] = ("I", "II", "III", "Senior", "manager")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class DistrictFileError(ValueError):
    """The district file is missing, not YAML, or fails validation.

    The message names the file and every bad field by its dotted path
    (``office_hours.mon.0``), so an operator can fix it without reading code.
    """


class _Model(BaseModel):
    # Unknown keys are refused so that a misspelt field is an error, not a silent default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weekday(StrEnum):
    """Weekday keys as written in the file; ``number`` matches ``date.weekday()``."""

    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"

    @property
    def number(self) -> int:
        """Monday is 0, as in :meth:`datetime.date.weekday`."""
        return list(Weekday).index(self)


class LocalizedText(_Model):
    """A customer-facing text in English and Spanish."""

    en: Annotated[str, Field(min_length=1)]
    es: Annotated[str, Field(min_length=1)]

    def text(self, language: str | None) -> str:
        """The text in ``language`` ("es..." gives Spanish; anything else English)."""
        if language and language.lower().startswith("es"):
            return self.es
        return self.en


def _parse_hhmm(value: str) -> time:
    match = _HHMM.match(value.strip())
    if not match:
        raise ValueError(f"expected a time as HH:MM, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


class TimeRange(_Model):
    """An open interval of one day in wall-clock time, ``start`` < ``end``."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: object) -> object:
        if isinstance(value, str):
            parts = value.split("-")
            if len(parts) != 2:
                raise ValueError(f"expected 'HH:MM-HH:MM', got {value!r}")
            return {"start": _parse_hhmm(parts[0]), "end": _parse_hhmm(parts[1])}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start >= self.end:
            raise ValueError("start must be before end (intervals may not cross midnight)")
        return self


class FixedHoliday(_Model):
    """A holiday on the same date every year, observed on a weekday when it falls on a weekend."""

    key: str
    rule: Literal["fixed"]
    name: LocalizedText
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]
    # nearest: Sat->Fri, Sun->Mon; preceding: Sat/Sun->Fri; none: no weekday off.
    observance: Literal["nearest", "preceding", "none"] = "nearest"

    @model_validator(mode="after")
    def _real_date(self) -> FixedHoliday:
        # 2024 is a leap year, so Feb 29 is accepted here (and skipped in other years).
        try:
            date(2024, self.month, self.day)
        except ValueError as exc:
            raise ValueError(f"no such date: month {self.month}, day {self.day}") from exc
        return self


class NthWeekdayHoliday(_Model):
    """A holiday on the nth weekday of a month (``nth: -1`` is the last), plus ``offset_days``."""

    key: str
    rule: Literal["nth_weekday"]
    name: LocalizedText
    month: Annotated[int, Field(ge=1, le=12)]
    weekday: Weekday
    nth: Literal[1, 2, 3, 4, -1]
    offset_days: Annotated[int, Field(ge=-6, le=6)] = 0


HolidayRule = Annotated[FixedHoliday | NthWeekdayHoliday, Field(discriminator="rule")]


class Closure(_Model):
    """A one-off full-day closure."""

    date: date
    name: LocalizedText


class ContactInfo(_Model):
    """How customers reach customer service."""

    phone: str
    phone_display: str
    email: str
    website: str

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _E164.match(value):
            raise ValueError("must be an E.164 number such as +15305550100")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("must be an email address")
        return value.lower()


class Address(_Model):
    """A postal address."""

    street: Annotated[str, Field(min_length=1)]
    city: Annotated[str, Field(min_length=1)]
    state: Annotated[str, Field(min_length=2, max_length=2)]
    zip: Annotated[str, Field(pattern=r"^\d{5}(-\d{4})?$")]

    def one_line(self) -> str:
        """``1250 Harbor Boulevard, Davis, CA 95616``."""
        return f"{self.street}, {self.city}, {self.state} {self.zip}"


class PayByPhone(_Model):
    """The automated pay-by-phone line."""

    number: str
    number_display: str
    hours: LocalizedText

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _E164.match(value):
            raise ValueError("must be an E.164 number")
        return value


class PaymentMethod(_Model):
    """One way to pay."""

    key: str
    name: LocalizedText
    description: LocalizedText


class Payments(_Model):
    """Payment options; ``portal_url`` contains ``{account}``."""

    portal_url: str
    pay_by_phone: PayByPhone
    methods: Annotated[list[PaymentMethod], Field(min_length=1)]

    @field_validator("portal_url")
    @classmethod
    def _template(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        if "{account}" not in value:
            raise ValueError("must contain the {account} placeholder")
        return value

    def portal_link(self, account: str) -> str:
        """The payment portal URL for ``account``."""
        return self.portal_url.replace("{account}", account)


class AfterHoursEmergency(_Model):
    """What counts as an emergency and what to tell customers."""

    kinds: Annotated[list[str], Field(min_length=1)]
    instructions: LocalizedText


class SmsProgram(_Model):
    """The CTIA-required facts of the SMS program."""

    name: Annotated[str, Field(min_length=1)]
    frequency: LocalizedText
    help_text: LocalizedText
    opt_out_confirmation: LocalizedText
    opt_in_confirmation: LocalizedText

    @field_validator("help_text")
    @classmethod
    def _rates_disclosure(cls, value: LocalizedText) -> LocalizedText:
        # CTIA: the HELP answer must disclose that message and data rates may apply.
        if "msg & data rates may apply" not in value.en.lower():
            raise ValueError("the English HELP text must say 'Msg & data rates may apply'")
        return value


class Rebate(_Model):
    """A conservation rebate or free supply."""

    key: str
    name: LocalizedText
    amount: Annotated[Decimal, Field(ge=0, decimal_places=2)]
    unit: Literal["each", "per_sq_ft", "free"]
    limit: Annotated[int, Field(ge=1)]
    description: LocalizedText


class Arrangements(_Model):
    """Payment-arrangement policy under California SB 998."""

    extension_max_days: Annotated[int, Field(ge=1, le=365)]
    installment_max_months: Annotated[int, Field(ge=1, le=36)]
    min_days_delinquent_before_shutoff: Annotated[int, Field(ge=60)]
    shutoff_notice_days: Annotated[int, Field(ge=7)]
    alternatives: Annotated[
        list[Literal["amortization", "alternative_schedule", "partial_payment", "reduced_payment"]],
        Field(min_length=1),
    ]
    policy_text: LocalizedText


class Reconnection(_Model):
    """Reconnection fees after a lock-off."""

    fee: Annotated[Decimal, Field(ge=0, decimal_places=2)]
    after_hours_fee: Annotated[Decimal, Field(ge=0, decimal_places=2)]
    low_income_fee_cap: Annotated[Decimal, Field(ge=0, le=50, decimal_places=2)]
    low_income_after_hours_fee_cap: Annotated[Decimal, Field(ge=0, le=150, decimal_places=2)]
    text: LocalizedText


class Sla(_Model):
    """CSR queue service levels."""

    business_hours: dict[str, dict[int, Annotated[float, Field(gt=0)]]]
    emergency_minutes: Annotated[int, Field(ge=1)]
    follow_up_business_hours: Annotated[float, Field(ge=0)]

    @field_validator("business_hours")
    @classmethod
    def _complete(cls, value: dict[str, dict[int, float]]) -> dict[str, dict[int, float]]:
        missing_levels = [level for level in LEVELS if level not in value]
        if missing_levels:
            raise ValueError(f"missing levels: {', '.join(missing_levels)}")
        unknown = [level for level in value if level not in LEVELS]
        if unknown:
            raise ValueError(f"unknown levels: {', '.join(unknown)}")
        for level, table in value.items():
            if sorted(table) != [0, 1, 2, 3]:
                raise ValueError(f"level {level} needs priorities 0, 1, 2 and 3")
        return value

    def hours_for(self, level: str, priority: int) -> float:
        """Business hours allowed for a ticket of ``level`` and ``priority`` (clamped to 0..3)."""
        table = self.business_hours.get(level, self.business_hours["I"])
        return table[min(max(priority, 0), 3)]


class QuietHours(_Model):
    """Wall-clock window when non-safety notices are held (may wrap midnight)."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> object:
        return _parse_hhmm(value) if isinstance(value, str) else value

    def contains(self, at: time) -> bool:
        """Whether the wall-clock time ``at`` is inside the quiet window."""
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end


class Notices(_Model):
    """Proactive notice settings."""

    quiet_hours: QuietHours


class EmailPolicy(_Model):
    """Inbox auto-reply policy and signature."""

    auto_reply_cap_per_sender_per_day: Annotated[int, Field(ge=0)]
    own_addresses: list[str]
    signature: LocalizedText

    @field_validator("own_addresses")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _EMAIL.match(address):
                raise ValueError(f"not an email address: {address!r}")
        return [address.lower() for address in value]


class District(_Model):
    """Everything the assistant knows about the district, from the district file."""

    name: Annotated[str, Field(min_length=1)]
    short_name: Annotated[str, Field(min_length=1)]
    timezone: str
    office_hours: dict[Weekday, list[TimeRange]]
    holidays: list[HolidayRule]
    closures: list[Closure] = []
    contact: ContactInfo
    office_address: Address
    mailing_address: Address
    office_directions: LocalizedText
    payments: Payments
    after_hours_emergency: AfterHoursEmergency
    sms_program: SmsProgram
    rebates: list[Rebate]
    arrangements: Arrangements
    reconnection: Reconnection
    sla: Sla
    notices: Notices
    email: EmailPolicy

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("office_hours")
    @classmethod
    def _no_overlap(cls, value: dict[Weekday, list[TimeRange]]) -> dict[Weekday, list[TimeRange]]:
        for day, ranges in value.items():
            ordered = sorted(ranges, key=lambda r: r.start)
            for before, after in pairwise(ordered):
                if after.start < before.end:
                    raise ValueError(f"{day.value}: intervals overlap")
            value[day] = ordered
        return value

    @model_validator(mode="after")
    def _unique_keys(self) -> District:
        for label, keys in (
            ("holidays", [h.key for h in self.holidays]),
            ("rebates", [r.key for r in self.rebates]),
            ("payments.methods", [m.key for m in self.payments.methods]),
        ):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise ValueError(f"{label}: duplicate keys {', '.join(duplicates)}")
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        """The district's timezone."""
        return ZoneInfo(self.timezone)

    def hours_on(self, weekday: int) -> list[TimeRange]:
        """Open intervals on a weekday (0 = Monday) before holidays are applied."""
        return list(self.office_hours.get(list(Weekday)[weekday], []))

    def is_own_address(self, address: str) -> bool:
        """Whether ``address`` is one of the district's own mailboxes (never auto-reply)."""
        lowered = address.strip().lower()
        return lowered == self.contact.email or lowered in self.email.own_addresses


def _format_errors(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: {error.error_count()} invalid field(s)"]
    for item in error.errors():
        # Paths read like the YAML (``holidays.0.fixed.month``: the rule tag is kept so
        # the operator sees which kind of holiday rule was meant).
        loc = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {loc}: {item['msg']}")
    return "\n".join(lines)


def load_district(path: Path) -> District:
    """Read and validate the district file.

    Args:
        path: The YAML file, normally ``get_settings().district_file``.

    Returns:
        The validated :class:`District`.

    Raises:
        DistrictFileError: The file is missing, not valid YAML, or a field is
            invalid; the message names each bad field by its dotted path.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DistrictFileError(f"{path}: cannot read the district file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise DistrictFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DistrictFileError(f"{path}: expected a mapping at the top level")
    try:
        return District.model_validate(data)
    except ValidationError as exc:
        raise DistrictFileError(_format_errors(path, exc)) from exc
