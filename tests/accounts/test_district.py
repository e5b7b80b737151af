"""The district facts file: the demo district's values and validation that names bad fields."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from accounts.district import District, DistrictFileError, LocalizedText, load_district

DISTRICT_FILE = Path(__file__).resolve().parents[2] / "bot" / "district.yml"

# From docs/contract/demo-personas.yml (the demo district).
DEMO_HOLIDAYS = [
    "New Year's Day",
    "Martin Luther King Jr. Day",
    "Presidents' Day",
    "Cesar Chavez Day",
    "Memorial Day",
    "Juneteenth",
    "Independence Day",
    "Labor Day",
    "Veterans Day",
    "Thanksgiving Day",
    "Day after Thanksgiving",
    "Christmas Eve",
    "Christmas Day",
]


@pytest.fixture(scope="module")
def district() -> District:
    return load_district(DISTRICT_FILE)


def raw() -> dict[str, Any]:
    data = yaml.safe_load(DISTRICT_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "district.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_demo_district_values(district: District) -> None:
    assert district.name == "Valley Springs Water District"
    assert district.timezone == "America/Los_Angeles"
    assert str(district.tz) == "America/Los_Angeles"
    assert district.contact.phone == "+15305550100"
    assert district.contact.email == "customerservice@valleysprings-water.example.com"
    for weekday in range(5):
        spans = district.hours_on(weekday)
        assert [(s.start, s.end) for s in spans] == [(time(8), time(17))]
    assert district.hours_on(5) == [] and district.hours_on(6) == []
    assert sorted(h.name.en for h in district.holidays) == sorted(DEMO_HOLIDAYS)
    assert district.office_address.zip == "95616"
    assert district.notices.quiet_hours.start == time(21)
    assert district.notices.quiet_hours.end == time(8)
    assert district.reconnection.fee == Decimal("45.00")  # James Okafor's persona
    assert district.arrangements.min_days_delinquent_before_shutoff == 60
    assert district.arrangements.shutoff_notice_days == 7
    assert district.email.auto_reply_cap_per_sender_per_day >= 1
    assert district.is_own_address("CustomerService@ValleySprings-Water.example.com")
    assert not district.is_own_address("dana.whitfield@example.com")
    keys = {r.key for r in district.rebates}
    assert {"hef_toilet", "turf_replacement", "showerheads", "smart_controller"} <= keys
    methods = {m.key for m in district.payments.methods}
    assert {"online", "phone", "in_person", "drop_box", "mail", "autopay"} <= methods


def test_portal_link(district: District) -> None:
    assert district.payments.portal_link("1000417") == (
        "https://pay.valleysprings-water.example.com/?account=1000417"
    )


def _localized(model: BaseModel, path: str = "") -> list[tuple[str, LocalizedText]]:
    found: list[tuple[str, LocalizedText]] = []
    if isinstance(model, LocalizedText):
        return [(path, model)]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, BaseModel):
                found.extend(_localized(item, f"{path}.{name}[{index}]"))
    return found


def test_every_customer_text_has_english_and_spanish(district: District) -> None:
    texts = _localized(district)
    assert len(texts) > 30
    for path, text in texts:
        assert text.en.strip() and text.es.strip(), path
        assert text.en != text.es or "Juneteenth" in text.en, path
    assert district.email.signature.text("es").startswith("Valley Springs")
    assert district.sms_program.help_text.text("es-MX") == district.sms_program.help_text.es
    assert district.sms_program.help_text.text(None) == district.sms_program.help_text.en


def test_sms_help_meets_ctia(district: District) -> None:
    help_en = district.sms_program.help_text.en
    assert "Msg & data rates may apply" in help_en
    assert "STOP" in help_en
    assert district.contact.phone_display in help_en


def test_sla_lookup(district: District) -> None:
    assert district.sla.hours_for("I", 2) == 8
    assert district.sla.hours_for("II", 2) == 16
    assert district.sla.hours_for("III", 9) == district.sla.hours_for("III", 3)
    assert district.sla.hours_for("unknown", 1) == district.sla.hours_for("I", 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(timezone="America/Springfield"), "timezone"),
        (lambda d: d["office_hours"].update(mon=["8-17"]), "office_hours.mon.0"),
        (lambda d: d["office_hours"].update(tue=["17:00-08:00"]), "office_hours.tue.0"),
        (lambda d: d["office_directions"].pop("es"), "office_directions.es"),
        (lambda d: d["contact"].update(phone="530-555-0100"), "contact.phone"),
        (
            lambda d: d["payments"].update(portal_url="https://pay.example.com/"),
            "payments.portal_url",
        ),
        (
            lambda d: d["sms_program"]["help_text"].update(en="Help: call us."),
            "sms_program.help_text",
        ),
        (lambda d: d["holidays"][0].update(month=13), "holidays.0.fixed.month"),
        (lambda d: d["holidays"][1].update(nth=5), "holidays.1.nth_weekday.nth"),
        (
            lambda d: d["arrangements"].update(min_days_delinquent_before_shutoff=30),
            "arrangements.min_days_delinquent_before_shutoff",
        ),
        (lambda d: d["sla"]["business_hours"].pop("III"), "sla.business_hours"),
        (lambda d: d.update(colour="blue"), "colour"),
        (lambda d: d["email"].update(own_addresses=["not-an-address"]), "email.own_addresses"),
    ],
)
def test_validation_errors_name_the_bad_field(tmp_path: Path, change: Any, field: str) -> None:
    data = raw()
    change(data)
    with pytest.raises(DistrictFileError) as excinfo:
        load_district(write(tmp_path, data))
    message = str(excinfo.value)
    assert f"  {field}:" in message, message
    assert str(tmp_path / "district.yml") in message


def test_duplicate_holiday_keys_are_refused(tmp_path: Path) -> None:
    data = raw()
    data["holidays"].append(dict(data["holidays"][0]))
    with pytest.raises(DistrictFileError, match="duplicate keys new_year"):
        load_district(write(tmp_path, data))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DistrictFileError, match="cannot read"):
        load_district(tmp_path / "nope.yml")


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "district.yml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(DistrictFileError, match="not valid YAML"):
        load_district(path)
    path.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(DistrictFileError, match="mapping"):
        load_district(path)


def test_district_error_is_a_value_error() -> None:
    # Callers that treat configuration problems as ValueError keep working.
    assert issubclass(DistrictFileError, ValueError)
