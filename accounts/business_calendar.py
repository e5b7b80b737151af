"""The district's business calendar: open now?, next opening, business-hours arithmetic.

All instants going in must be timezone-aware; instants coming out are aware UTC
datetimes (the project's clock convention). Office hours and holidays are wall
clock in the district timezone, so arithmetic is done on UTC instants built from
local wall-clock bounds: that is what keeps spring-forward and fall-back weeks
right (a Python subtraction of two datetimes sharing one tzinfo ignores the
offset change, so we never do that).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from accounts.district import District, FixedHoliday, LocalizedText, NthWeekdayHoliday

__all__ = ["BusinessCalendar", "CalendarError"]

# A year of days is far more than any real gap between openings; it bounds the
# search when a district file has no office hours at all.
_SEARCH_DAYS = 400

_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip
_OBSERVED = LocalizedText(en="observed", es="feriado observado")


class CalendarError(RuntimeError):
    """The calendar cannot answer (e.g. a district file with no office hours at all)."""


def _require_aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("naive datetime: pass a timezone-aware instant")
    return at.astimezone(UTC)


def _is_spanish(language: str | None) -> bool:
    return bool(language) and str(language).lower().startswith("es")


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    if nth > 0:
        first = date(year, month, 1)
        shift = (weekday - first.weekday()) % 7
        return first + timedelta(days=shift + 7 * (nth - 1))
    # nth == -1: the last such weekday of the month.
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


class BusinessCalendar:
    """Office hours, holidays and business-hours arithmetic for one district.

    Args:
        district: The validated district facts (see :func:`accounts.district.load_district`).
    """

    def __init__(self, district: District) -> None:
        self.district = district
        self.tz = district.tz
        self._holiday_cache: dict[int, dict[date, tuple[LocalizedText, bool]]] = {}

    # -- holidays -----------------------------------------------------------

    def _observed_in(self, rule_year: int, taken: dict[date, tuple[LocalizedText, bool]]) -> None:
        """Assign the observed dates of every rule for ``rule_year`` into ``taken``.

        Rules are applied in file order; a rule whose observed date is already taken
        moves on in its observance direction, skipping weekends and taken dates.
        """
        for rule in self.district.holidays:
            if isinstance(rule, NthWeekdayHoliday):
                day = _nth_weekday(rule_year, rule.month, rule.weekday.number, rule.nth)
                day += timedelta(days=rule.offset_days)
                if day in taken:
                    # Two weekday rules on one date: a district file mistake we tolerate
                    # by naming both rather than inventing a day off.
                    other, observed = taken[day]
                    taken[day] = (
                        LocalizedText(
                            en=f"{other.en} / {rule.name.en}", es=f"{other.es} / {rule.name.es}"
                        ),
                        observed,
                    )
                else:
                    taken[day] = (rule.name, False)
                continue
            self._place_fixed(rule, rule_year, taken)

    @staticmethod
    def _place_fixed(
        rule: FixedHoliday, year: int, taken: dict[date, tuple[LocalizedText, bool]]
    ) -> None:
        try:
            actual = date(year, rule.month, rule.day)
        except ValueError:  # Feb 29 outside leap years
            return
        weekday = actual.weekday()
        step = -1
        observed = actual
        if rule.observance == "nearest":
            if weekday == 5:
                observed, step = actual - timedelta(days=1), -1
            elif weekday == 6:
                observed, step = actual + timedelta(days=1), 1
            else:
                step = 1
        elif rule.observance == "preceding" and weekday >= 5:
            observed = actual - timedelta(days=weekday - 4)
        elif rule.observance == "none":
            taken.setdefault(actual, (rule.name, False))
            return
        while observed in taken or (observed != actual and observed.weekday() >= 5):
            observed += timedelta(days=step)
        taken[observed] = (rule.name, observed != actual)

    def _holiday_table(self, year: int) -> dict[date, tuple[LocalizedText, bool]]:
        cached = self._holiday_cache.get(year)
        if cached is not None:
            return cached
        taken: dict[date, tuple[LocalizedText, bool]] = {}
        # Neighbouring years matter: New Year's Day on a Saturday is observed on
        # Friday, December 31 of the year before.
        for rule_year in (year - 1, year, year + 1):
            self._observed_in(rule_year, taken)
        for closure in self.district.closures:
            taken.setdefault(closure.date, (closure.name, False))
        table = {day: entry for day, entry in sorted(taken.items()) if day.year == year}
        self._holiday_cache[year] = table
        return table

    def holidays(self, year: int, language: str = "en") -> dict[date, str]:
        """The days the office is closed for a holiday or closure in ``year``.

        Args:
            year: Calendar year.
            language: "en" or "es" for the names.

        Returns:
            Observed date -> name, in date order; a weekend holiday moved to a weekday
            is named "... (observed)".
        """
        spanish = _is_spanish(language)
        result: dict[date, str] = {}
        for day, (name, observed) in self._holiday_table(year).items():
            text = name.text("es" if spanish else "en")
            if observed:
                text = f"{text} ({_OBSERVED.text('es' if spanish else 'en')})"
            result[day] = text
        return result

    def holiday_name(self, day: date, language: str = "en") -> str | None:
        """The holiday observed on ``day``, or None."""
        return self.holidays(day.year, language).get(day)

    # -- open intervals -------------------------------------------------------

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office's open intervals on a local date, as UTC instants (empty when closed)."""
        if day in self._holiday_table(day.year):
            return []
        intervals = []
        for span in self.district.hours_on(day.weekday()):
            start = datetime.combine(day, span.start, tzinfo=self.tz).astimezone(UTC)
            end = datetime.combine(day, span.end, tzinfo=self.tz).astimezone(UTC)
            intervals.append((start, end))
        return intervals

    def is_open(self, at: datetime) -> bool:
        """Whether the office is open at the instant ``at`` (aware)."""
        instant = _require_aware(at)
        local_day = instant.astimezone(self.tz).date()
        return any(start <= instant < end for start, end in self.open_intervals(local_day))

    def next_opening(self, at: datetime) -> datetime:
        """The instant the office is next open: ``at`` itself (in UTC) when open now.

        Raises:
            CalendarError: The district file has no office hours in the next year.
        """
        instant = _require_aware(at)
        local_day = instant.astimezone(self.tz).date()
        for offset in range(_SEARCH_DAYS):
            for start, end in self.open_intervals(local_day + timedelta(days=offset)):
                if start <= instant < end:
                    return instant
                if start > instant:
                    return start
        raise CalendarError("no office hours in the coming year")

    def next_closing(self, at: datetime) -> datetime:
        """When the current (or next) open interval ends."""
        opening = self.next_opening(at)
        local_day = opening.astimezone(self.tz).date()
        for start, end in self.open_intervals(local_day):
            if start <= opening < end:
                return end
        raise CalendarError("no open interval at the next opening")  # pragma: no cover

    # -- business-hours arithmetic ---------------------------------------------

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` of open office time after ``start``.

        Time outside office hours does not count, so a 4-hour SLA on a ticket
        created Friday 16:00 is due Monday 11:00. With ``hours == 0`` the answer is
        the next opening (``start`` itself when open).

        Raises:
            ValueError: ``hours`` is negative or ``start`` is naive.
            CalendarError: The district has no office hours.
        """
        if hours < 0:
            raise ValueError("hours must not be negative")
        cursor = _require_aware(start)
        remaining = timedelta(hours=hours)
        local_day = cursor.astimezone(self.tz).date()
        for offset in range(_SEARCH_DAYS * 10):
            for open_at, close_at in self.open_intervals(local_day + timedelta(days=offset)):
                if close_at <= cursor:
                    continue
                begin = max(open_at, cursor)
                available = close_at - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = close_at
        raise CalendarError("business hours do not fit in the search window")

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Open office hours between two instants (0 when ``end`` <= ``start``)."""
        begin, finish = _require_aware(start), _require_aware(end)
        if finish <= begin:
            return 0.0
        total = timedelta()
        day = begin.astimezone(self.tz).date()
        last = finish.astimezone(self.tz).date()
        while day <= last:
            for open_at, close_at in self.open_intervals(day):
                lo, hi = max(open_at, begin), min(close_at, finish)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def ticket_due_at(self, created: datetime, *, level: str, priority: int) -> datetime:
        """When a ticket is due, from the district SLA table.

        Emergencies (priority 0) are also due within the district's wall-clock
        emergency minutes, whatever the hour.
        """
        due = self.add_business_hours(created, self.district.sla.hours_for(level, priority))
        if priority <= 0:
            due = min(
                due,
                _require_aware(created) + timedelta(minutes=self.district.sla.emergency_minutes),
            )
        return due

    # -- wording ----------------------------------------------------------------

    def follow_up_by(self, at: datetime, *, within_hours: float | None = None) -> datetime:
        """The promised follow-up instant: ``within_hours`` business hours after ``at``.

        Defaults to the district's ``sla.follow_up_business_hours``, counted from the
        next opening (so after hours it is "by 9 AM" when the office opens at 8).
        """
        hours = self.district.sla.follow_up_business_hours if within_hours is None else within_hours
        return self.add_business_hours(at, hours)

    def describe_next_opening(
        self, at: datetime, language: str = "en", *, within_hours: float | None = None
    ) -> str:
        """A customer-facing promise such as "by 9 AM Monday" / "el lunes a las 9 a. m.".

        Args:
            at: Now (aware).
            language: "en" or "es".
            within_hours: Business hours after the next opening; defaults to the
                district's follow-up allowance (pass 0 for the opening itself).
        """
        target = self.follow_up_by(at, within_hours=within_hours).astimezone(self.tz)
        today = _require_aware(at).astimezone(self.tz).date()
        days_ahead = (target.date() - today).days
        if _is_spanish(language):
            clock = self._clock_es(target.time())
            if days_ahead == 0:
                return f"hoy {clock}"
            if days_ahead == 1:
                return f"mañana {clock}"
            weekday = _WEEKDAYS_ES[target.weekday()]
            if days_ahead < 7:
                return f"el {weekday} {clock}"
            month = _MONTHS_ES[target.month - 1]
            return f"el {weekday} {target.day} de {month} {clock}"
        clock = self._clock_en(target.time())
        if days_ahead == 0:
            return f"by {clock} today"
        if days_ahead == 1:
            return f"by {clock} tomorrow"
        weekday = _WEEKDAYS_EN[target.weekday()]
        if days_ahead < 7:
            return f"by {clock} {weekday}"
        return f"by {clock} {weekday}, {_MONTHS_EN[target.month - 1]} {target.day}"

    @staticmethod
    def _clock_en(at: time) -> str:
        hour = at.hour % 12 or 12
        suffix = "AM" if at.hour < 12 else "PM"
        return f"{hour} {suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d} {suffix}"

    @staticmethod
    def _clock_es(at: time) -> str:
        hour = at.hour % 12 or 12
        suffix = "a. m." if at.hour < 12 else "p. m."
        article = "a la" if hour == 1 else "a las"
        shown = f"{hour}" if at.minute == 0 else f"{hour}:{at.minute:02d}"
        return f"{article} {shown} {suffix}"

    def describe_office_hours(self, language: str = "en") -> str:
        """Weekly hours in words, e.g. "Monday to Friday, 8 AM to 5 PM"."""
        spanish = _is_spanish(language)
        names = _WEEKDAYS_ES if spanish else _WEEKDAYS_EN
        clock = self._clock_es if spanish else self._clock_en
        groups: list[tuple[int, int, str]] = []
        for weekday in range(7):
            spans = self.district.hours_on(weekday)
            if not spans:
                continue
            if spanish:
                text = " y ".join(
                    f"de {clock(s.start).removeprefix('a las ').removeprefix('a la ')} "
                    f"a {clock(s.end).removeprefix('a las ').removeprefix('a la ')}"
                    for s in spans
                )
            else:
                text = " and ".join(f"{clock(s.start)} to {clock(s.end)}" for s in spans)
            if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == text:
                groups[-1] = (groups[-1][0], weekday, text)
            else:
                groups.append((weekday, weekday, text))
        if not groups:
            return "cerrado" if spanish else "closed"
        parts = []
        for first, last, text in groups:
            if first == last:
                days = names[first]
            elif spanish:
                days = f"de {names[first]} a {names[last]}"
            else:
                days = f"{names[first]} to {names[last]}"
            parts.append(f"{days}, {text}")
        return "; ".join(parts)

    # -- quiet hours ---------------------------------------------------------------

    def in_quiet_hours(self, at: datetime) -> bool:
        """Whether non-safety notices must be held at ``at``."""
        local = _require_aware(at).astimezone(self.tz)
        return self.district.notices.quiet_hours.contains(local.time())

    def quiet_hours_end(self, at: datetime) -> datetime:
        """When a notice held at ``at`` may go out: ``at`` (UTC) outside quiet hours."""
        instant = _require_aware(at)
        if not self.in_quiet_hours(instant):
            return instant
        quiet = self.district.notices.quiet_hours
        local = instant.astimezone(self.tz)
        day = local.date()
        if quiet.start > quiet.end and local.time() >= quiet.start:
            day += timedelta(days=1)
        return datetime.combine(day, quiet.end, tzinfo=self.tz).astimezone(UTC)
