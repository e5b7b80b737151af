"""Business calendar: office hours, holidays (incl. observed), DST weeks, SLA arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from accounts.business_calendar import BusinessCalendar, CalendarError
from accounts.district import District, load_district

DISTRICT_FILE = Path(__file__).resolve().parents[2] / "bot" / "district.yml"
LA = ZoneInfo("America/Los_Angeles")


def local(*args: int) -> datetime:
    """A wall-clock instant in the district timezone, returned as aware UTC."""
    return datetime(*args, tzinfo=LA).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture(scope="module")
def district() -> District:
    return load_district(DISTRICT_FILE)


@pytest.fixture
def cal(district: District) -> BusinessCalendar:
    return BusinessCalendar(district)


def variant(tmp_path: Path, **changes: object) -> District:
    data = yaml.safe_load(DISTRICT_FILE.read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "district.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_district(path)


# -- open / closed at the boundaries ------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(2026, 11, 23, 7, 59, 59), False),  # Monday just before opening
        (local(2026, 11, 23, 8, 0), True),  # opening instant is open
        (local(2026, 11, 23, 16, 59, 59), True),
        (local(2026, 11, 23, 17, 0), False),  # closing instant is closed
        (local(2026, 11, 21, 10, 0), False),  # Saturday
        (local(2026, 11, 22, 10, 0), False),  # Sunday
        (local(2026, 11, 26, 10, 0), False),  # Thanksgiving
        (local(2026, 11, 27, 10, 0), False),  # day after Thanksgiving
        (local(2026, 11, 25, 16, 30), True),  # Wednesday before Thanksgiving
    ],
)
def test_is_open_at_boundaries(cal: BusinessCalendar, at: datetime, expected: bool) -> None:
    assert cal.is_open(at) is expected


def test_is_open_accepts_any_timezone(cal: BusinessCalendar) -> None:
    # 16:30 UTC on a November Monday is 08:30 PST.
    assert cal.is_open(datetime(2026, 11, 23, 16, 30, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))
    new_york = datetime(2026, 11, 23, 11, 30, tzinfo=ZoneInfo("America/New_York"))
    assert cal.is_open(new_york)  # 08:30 in Los Angeles


def test_naive_datetimes_are_refused(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        cal.is_open(datetime(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        cal.add_business_hours(datetime(2026, 11, 23, 10, 0), 1)


def test_next_opening(cal: BusinessCalendar) -> None:
    friday_evening = local(2026, 11, 20, 18, 0)
    assert cal.next_opening(friday_evening) == local(2026, 11, 23, 8, 0)
    # Open now: the answer is now, in UTC.
    now = local(2026, 11, 23, 10, 15)
    assert cal.next_opening(now) == now
    assert cal.next_opening(now).tzinfo is UTC
    # Early morning on a business day opens the same day.
    assert cal.next_opening(local(2026, 11, 24, 6, 0)) == local(2026, 11, 24, 8, 0)
    # Wednesday evening before Thanksgiving: closed Thu, Fri, weekend.
    assert cal.next_opening(local(2026, 11, 25, 17, 0)) == local(2026, 11, 30, 8, 0)
    assert cal.next_closing(local(2026, 11, 25, 17, 0)) == local(2026, 11, 30, 17, 0)


# -- holidays -------------------------------------------------------------------------


def test_holidays_2026(cal: BusinessCalendar) -> None:
    assert cal.holidays(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",
        date(2026, 2, 16): "Presidents' Day",
        date(2026, 3, 31): "Cesar Chavez Day",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 6, 19): "Juneteenth",
        date(2026, 7, 3): "Independence Day (observed)",  # July 4 is a Saturday
        date(2026, 9, 7): "Labor Day",
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 11, 27): "Day after Thanksgiving",
        date(2026, 12, 24): "Christmas Eve",
        date(2026, 12, 25): "Christmas Day",
    }


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2021, 12, 31), "New Year's Day (observed)"),  # Jan 1 2022 is a Saturday
        (date(2023, 1, 2), "New Year's Day (observed)"),  # Jan 1 2023 is a Sunday
        (date(2027, 6, 18), "Juneteenth (observed)"),  # Saturday -> Friday
        (date(2022, 6, 20), "Juneteenth (observed)"),  # Sunday -> Monday
        (date(2023, 11, 10), "Veterans Day (observed)"),  # Saturday -> Friday
        (date(2024, 4, 1), "Cesar Chavez Day (observed)"),  # Sunday -> Monday
        # Christmas Eve on a Sunday goes back to Friday, never onto Christmas.
        (date(2023, 12, 22), "Christmas Eve (observed)"),
        # Christmas on Saturday takes Friday the 24th; Christmas Eve moves to Thursday.
        (date(2027, 12, 24), "Christmas Day (observed)"),
        (date(2027, 12, 23), "Christmas Eve (observed)"),
        (date(2022, 12, 26), "Christmas Day (observed)"),
    ],
)
def test_observed_holidays(cal: BusinessCalendar, day: date, name: str) -> None:
    assert cal.holiday_name(day) == name
    assert cal.open_intervals(day) == []


def test_every_year_has_thirteen_weekday_holidays(cal: BusinessCalendar) -> None:
    for year in range(2020, 2041):
        days = cal.holidays(year)
        assert all(day.year == year for day in days)
        assert all(day.weekday() < 5 for day in days), year
        # 13 rules per year; the New Year observance may land in the year before.
        expected = 13
        if date(year + 1, 1, 1).weekday() == 5:
            expected += 1
        if date(year, 1, 1).weekday() == 5:
            expected -= 1
        assert len(days) == expected, (year, days)


@pytest.mark.parametrize(
    ("year", "mlk", "presidents", "memorial", "labor", "thanksgiving"),
    [
        (2026, 19, 16, 25, 7, 26),
        (2027, 18, 15, 31, 6, 25),
        (2028, 17, 21, 29, 4, 23),
        (2030, 21, 18, 27, 2, 28),
    ],
)
def test_nth_weekday_rules(
    cal: BusinessCalendar,
    year: int,
    mlk: int,
    presidents: int,
    memorial: int,
    labor: int,
    thanksgiving: int,
) -> None:
    names = cal.holidays(year)
    assert names[date(year, 1, mlk)] == "Martin Luther King Jr. Day"
    assert names[date(year, 2, presidents)] == "Presidents' Day"
    assert names[date(year, 5, memorial)] == "Memorial Day"
    assert names[date(year, 9, labor)] == "Labor Day"
    assert names[date(year, 11, thanksgiving)] == "Thanksgiving Day"
    assert names[date(year, 11, thanksgiving + 1)] == "Day after Thanksgiving"


def test_spanish_holiday_names(cal: BusinessCalendar) -> None:
    names = cal.holidays(2026, "es")
    assert names[date(2026, 11, 26)] == "Día de Acción de Gracias"
    assert names[date(2026, 7, 3)] == "Día de la Independencia (feriado observado)"


def test_extra_closures_close_the_office(tmp_path: Path) -> None:
    district = variant(
        tmp_path,
        closures=[
            {"date": date(2026, 12, 1), "name": {"en": "Staff training", "es": "Capacitación"}}
        ],
    )
    cal = BusinessCalendar(district)
    assert cal.holiday_name(date(2026, 12, 1)) == "Staff training"
    assert not cal.is_open(local(2026, 12, 1, 10, 0))
    assert cal.next_opening(local(2026, 11, 30, 17, 30)) == local(2026, 12, 2, 8, 0)


# -- business-hours arithmetic ---------------------------------------------------------


def test_add_business_hours_within_a_day(cal: BusinessCalendar) -> None:
    assert cal.add_business_hours(local(2026, 11, 23, 9, 0), 3) == local(2026, 11, 23, 12, 0)
    assert cal.add_business_hours(local(2026, 11, 23, 9, 0), 8) == local(2026, 11, 23, 17, 0)
    assert cal.add_business_hours(local(2026, 11, 23, 9, 0), 8.5) == local(2026, 11, 24, 8, 30)


def test_add_business_hours_from_closed_time(cal: BusinessCalendar) -> None:
    # Friday 16:00 + 4h: 1h Friday, 3h Monday.
    assert cal.add_business_hours(local(2026, 11, 20, 16, 0), 4) == local(2026, 11, 23, 11, 0)
    # Saturday night + 1h = Monday 09:00; zero hours = the next opening.
    assert cal.add_business_hours(local(2026, 11, 21, 23, 0), 1) == local(2026, 11, 23, 9, 0)
    assert cal.add_business_hours(local(2026, 11, 21, 23, 0), 0) == local(2026, 11, 23, 8, 0)
    with pytest.raises(ValueError):
        cal.add_business_hours(local(2026, 11, 21, 23, 0), -1)


def test_ticket_opened_before_thanksgiving(cal: BusinessCalendar) -> None:
    # Wednesday 15:00 before Thanksgiving, a CSR I normal ticket (8 business hours):
    # 2h Wednesday; Thursday, Friday and the weekend are closed; 6h Monday.
    created = local(2026, 11, 25, 15, 0)
    due = cal.ticket_due_at(created, level="I", priority=2)
    assert due == local(2026, 11, 30, 14, 0)
    assert cal.business_hours_between(created, due) == pytest.approx(8.0)
    # A ticket from Thanksgiving morning itself waits for Monday's opening.
    assert cal.ticket_due_at(local(2026, 11, 26, 10, 0), level="I", priority=1) == local(
        2026, 11, 30, 12, 0
    )


def test_ticket_opened_thursday_before_thanksgiving_week(cal: BusinessCalendar) -> None:
    # Thursday Nov 19, 16:00, CSR II normal (16 business hours): 1h Thu, 9h Fri,
    # 6h Mon -> Monday 14:00; the holiday week only matters for longer SLAs.
    created = local(2026, 11, 19, 16, 0)
    assert cal.ticket_due_at(created, level="II", priority=2) == local(2026, 11, 23, 14, 0)
    # CSR III normal is 24 business hours: 1 + 9 + 9 (Mon) + 5 (Tue) -> Tuesday 13:00.
    assert cal.ticket_due_at(created, level="III", priority=2) == local(2026, 11, 24, 13, 0)
    # CSR III low is 40 business hours: ... Tue 9 + Wed 9 -> runs through the holiday
    # weekend to Monday Nov 30: 1+9+9+9+9 = 37 by Wednesday close, 3 more Monday.
    assert cal.ticket_due_at(created, level="III", priority=3) == local(2026, 11, 30, 11, 0)


def test_emergency_due_in_wall_clock_minutes(cal: BusinessCalendar) -> None:
    created = local(2026, 11, 28, 2, 0)  # Saturday 2 AM
    assert cal.ticket_due_at(created, level="I", priority=0) == created + timedelta(minutes=30)


def test_spring_forward_week(cal: BusinessCalendar) -> None:
    # DST starts Sunday 2026-03-08: Friday opens 16:00 UTC, Monday 15:00 UTC.
    assert cal.open_intervals(date(2026, 3, 6)) == [
        (datetime(2026, 3, 6, 16, 0, tzinfo=UTC), datetime(2026, 3, 7, 1, 0, tzinfo=UTC))
    ]
    assert cal.open_intervals(date(2026, 3, 9)) == [
        (datetime(2026, 3, 9, 15, 0, tzinfo=UTC), datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    ]
    due = cal.add_business_hours(local(2026, 3, 6, 16, 0), 2)
    assert due == local(2026, 3, 9, 9, 0)
    assert due == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert cal.next_opening(local(2026, 3, 7, 12, 0)) == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    # A full week across the change still has exactly 45 open hours.
    week = cal.business_hours_between(local(2026, 3, 5, 0, 0), local(2026, 3, 12, 0, 0))
    assert week == pytest.approx(45.0)


def test_fall_back_week(cal: BusinessCalendar) -> None:
    # DST ends Sunday 2026-11-01.
    due = cal.add_business_hours(local(2026, 10, 30, 16, 0), 2)
    assert due == local(2026, 11, 2, 9, 0)
    assert due == datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    assert not cal.is_open(datetime(2026, 11, 2, 15, 30, tzinfo=UTC))  # 07:30 PST
    assert cal.is_open(datetime(2026, 11, 2, 16, 0, tzinfo=UTC))  # 08:00 PST
    week = cal.business_hours_between(local(2026, 10, 29, 0, 0), local(2026, 11, 5, 0, 0))
    assert week == pytest.approx(45.0)


def test_open_interval_across_the_dst_change_has_real_length(tmp_path: Path) -> None:
    # A Sunday night shift 00:00-04:00 is 3 real hours on spring-forward night and 5 on
    # fall-back night: the arithmetic must count elapsed time, not wall-clock digits.
    district = variant(tmp_path, office_hours={"sun": ["00:00-04:00"]})
    cal = BusinessCalendar(district)
    spring = cal.open_intervals(date(2026, 3, 8))
    autumn = cal.open_intervals(date(2026, 11, 1))
    assert [end - start for start, end in spring] == [timedelta(hours=3)]
    assert [end - start for start, end in autumn] == [timedelta(hours=5)]
    assert cal.add_business_hours(local(2026, 3, 8, 0, 0), 3) == local(2026, 3, 8, 4, 0)
    # 09:30 UTC is the second 01:30 (PST) on fall-back night: still inside the shift.
    assert cal.is_open(datetime(2026, 11, 1, 9, 30, tzinfo=UTC))


def test_no_office_hours_is_a_system_error(tmp_path: Path) -> None:
    cal = BusinessCalendar(variant(tmp_path, office_hours={}))
    with pytest.raises(CalendarError):
        cal.next_opening(local(2026, 11, 23, 10, 0))


# -- wording ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "english", "spanish"),
    [
        (local(2026, 11, 20, 18, 0), "by 9 AM Monday", "el lunes a las 9 a. m."),
        (local(2026, 11, 25, 17, 30), "by 9 AM Monday", "el lunes a las 9 a. m."),
        (local(2026, 11, 24, 20, 0), "by 9 AM tomorrow", "mañana a las 9 a. m."),
        (local(2026, 11, 24, 6, 0), "by 9 AM today", "hoy a las 9 a. m."),
        (local(2026, 11, 23, 10, 30), "by 11:30 AM today", "hoy a las 11:30 a. m."),
        (local(2026, 11, 23, 12, 0), "by 1 PM today", "hoy a la 1 p. m."),
        (local(2026, 12, 23, 18, 0), "by 9 AM Monday", "el lunes a las 9 a. m."),
    ],
)
def test_describe_next_opening(
    cal: BusinessCalendar, at: datetime, english: str, spanish: str
) -> None:
    assert cal.describe_next_opening(at, "en") == english
    assert cal.describe_next_opening(at, "es") == spanish


def test_describe_next_opening_far_away_names_the_date(tmp_path: Path) -> None:
    closures = [
        {"date": date(2026, 11, 30) + timedelta(days=n), "name": {"en": "Move", "es": "Mudanza"}}
        for n in range(5)
    ]
    cal = BusinessCalendar(variant(tmp_path, closures=closures))
    at = local(2026, 11, 25, 18, 0)
    assert cal.describe_next_opening(at, "en", within_hours=0) == "by 8 AM Monday, December 7"
    assert cal.describe_next_opening(at, "es", within_hours=0) == (
        "el lunes 7 de diciembre a las 8 a. m."
    )


def test_describe_office_hours(cal: BusinessCalendar) -> None:
    assert cal.describe_office_hours("en") == "Monday to Friday, 8 AM to 5 PM"
    assert cal.describe_office_hours("es") == "de lunes a viernes, de 8 a. m. a 5 p. m."


# -- quiet hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (local(2026, 11, 23, 20, 59), False),
        (local(2026, 11, 23, 21, 0), True),
        (local(2026, 11, 24, 2, 0), True),
        (local(2026, 11, 24, 7, 59), True),
        (local(2026, 11, 24, 8, 0), False),
    ],
)
def test_quiet_hours(cal: BusinessCalendar, at: datetime, quiet: bool) -> None:
    assert cal.in_quiet_hours(at) is quiet


def test_quiet_hours_end(cal: BusinessCalendar) -> None:
    assert cal.quiet_hours_end(local(2026, 11, 23, 22, 0)) == local(2026, 11, 24, 8, 0)
    assert cal.quiet_hours_end(local(2026, 11, 24, 3, 0)) == local(2026, 11, 24, 8, 0)
    noon = local(2026, 11, 24, 12, 0)
    assert cal.quiet_hours_end(noon) == noon
    # Across fall-back night 08:00 PST is 16:00 UTC.
    assert cal.quiet_hours_end(local(2026, 10, 31, 23, 0)) == datetime(
        2026, 11, 1, 16, 0, tzinfo=UTC
    )
