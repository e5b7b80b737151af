"""The deterministic demo district (docs/contract/demo-personas.yml) and bulk accounts.

Everything derives from the seeding day and a fixed random seed, so seeding twice
with the same ``today`` gives the same rows. Event times (the outage's start and
estimated restoration) are anchored to the seeding hour so that the outage is
active while people try the demo.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from accounts.models import (
    Account,
    Bill,
    ContactPoint,
    CsrUser,
    Customer,
    Notice,
    OnCallShift,
    Payment,
    metadata,
)
from accounts.passwords import hash_password

DISTRICT_TZ = ZoneInfo("America/Los_Angeles")
DEMO_PASSWORD = "district-demo"  # noqa: S105 - documented demo password
FIXED_CHARGE = Decimal("32.50")
RATE_PER_HCF = Decimal("4.15")
RECONNECTION_FEE = Decimal("45.00")
CENT = Decimal("0.01")


class SeedRefused(Exception):
    """The database holds data that is not the demo's; seeding would mix or destroy it."""


@dataclass(frozen=True)
class Persona:
    name: str
    account: str
    phone: str
    email: str | None
    street_number: int
    street_name: str
    zip: str
    zone: str
    status: str
    language: str
    latest_due_in_days: int
    unpaid: tuple[str, ...]
    usual_bill: str
    last_payment: tuple[str, int, str] | None  # amount, days ago, method
    autopay: bool = False
    paperless: bool = False
    locked_off_days_ago: int | None = None


PERSONAS: tuple[Persona, ...] = (
    Persona("Dana Whitfield", "1000417", "+15305550101", "dana.whitfield@example.com", 512,
            "Oak Street", "95616", "North", "active", "en", 12, ("84.20",), "79.55",
            ("79.55", 18, "card")),
    Persona("María González", "1000822", "+15305550102", "maria.gonzalez@example.com", 37,
            "Cedar Court", "95618", "East", "active", "es", -4, ("70.80", "70.80", "70.80"),
            "58.10", ("58.10", 95, "cash")),
    Persona("James Okafor", "1001139", "+15305550103", None, 1409, "Birch Lane", "95616",
            "North", "locked-off", "en", -35, ("103.72", "103.73", "103.73"), "96.40", None,
            locked_off_days_ago=6),
    Persona("Linh Tran", "1001560", "+15305550104", "linh.tran@example.com", 88, "Willow Way",
            "95618", "South", "active", "en", 5, ("67.31",), "64.90", None, autopay=True,
            paperless=True),
    Persona("Robert Hale", "1002001", "+15305550105", "robert.hale@example.com", 2250,
            "Sycamore Drive", "95616", "West", "active", "en", 9, ("412.88",), "90.00", None),
)

ON_CALL = (("Sam Ortiz", "+15305550150", "primary"), ("Lee Park", "+15305550151", "backup"))
CSR_USERS = (
    ("csr1", "Casey Ruiz", "I"),
    ("csr2", "Morgan Lee", "II"),
    ("csr3", "Jordan Patel", "III"),
    ("senior", "Alex Romero", "Senior"),
    ("manager", "Pat Nguyen", "manager"),
)

ZONES: dict[str, tuple[str, list[str]]] = {
    "North": ("95616", ["Oak Street", "Birch Lane", "Pine Street", "Elm Street", "Aspen Court"]),
    "East": ("95618", ["Maple Avenue", "Cedar Court", "Poplar Drive", "Laurel Lane"]),
    "South": ("95618", ["Willow Way", "Magnolia Drive", "Juniper Street", "Olive Drive"]),
    "West": ("95616", ["Sycamore Drive", "Redwood Road", "Alder Avenue", "Cypress Lane"]),
    "Central": ("95616", ["Main Street", "First Street", "Second Street", "Fremont Avenue"]),
}
FIRST_NAMES = ["Ana", "Ben", "Carmen", "David", "Elena", "Frank", "Grace", "Hector", "Irene",
               "Jorge", "Karen", "Luis", "Mei", "Nora", "Omar", "Priya", "Quinn", "Rosa",
               "Samuel", "Teresa", "Uma", "Victor", "Wendy", "Xavier", "Yolanda", "Zach"]
LAST_NAMES = ["Alvarez", "Brooks", "Chen", "Diaz", "Evans", "Flores", "Garcia", "Hughes",
              "Ibarra", "Johnson", "Kim", "Lopez", "Miller", "Nguyen", "Ortega", "Perez",
              "Reyes", "Smith", "Torres", "Vargas", "Walker", "Young"]
# Fictional 555-01xx numbers: California area codes first, then every other
# NXX code, so each generated customer has a number of their own (about 71,000).
_CALIFORNIA = ["209", "213", "279", "310", "323", "408", "415", "510", "559", "562", "619",
               "626", "650", "661", "707", "714", "760", "805", "818", "831", "858", "909",
               "916", "925", "949", "951"]
AREA_CODES = _CALIFORNIA + [
    f"{a}{b}{c}" for a in range(2, 10) for b in range(9) for c in range(10)
    if not (b == 1 and c == 1) and f"{a}{b}{c}" not in _CALIFORNIA and f"{a}{b}{c}" != "530"
]


@dataclass
class SeedReport:
    """What a seeding run created."""

    accounts: int = 0
    bills: int = 0
    payments: int = 0
    notices: int = 0
    csr_users: int = 0
    skipped: str = ""
    personas: list[str] = field(default_factory=list)


def _money(value: Decimal | str) -> Decimal:
    return Decimal(value).quantize(CENT)


def _usage(amount: Decimal) -> Decimal:
    return max((amount - FIXED_CHARGE) / RATE_PER_HCF, Decimal(0)).quantize(CENT)


def _local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), DISTRICT_TZ).astimezone(UTC)


def _bill_row(account_id: int, due: date, amount: Decimal) -> dict[str, Any]:
    issued = due - timedelta(days=21)
    return {
        "account_id": account_id,
        "period_start": issued - timedelta(days=31),
        "period_end": issued - timedelta(days=2),
        "usage_hcf": _usage(amount),
        "amount": amount,
        "issued_on": issued,
        "due_date": due,
    }


def _payment_row(account_id: int, amount: Decimal, day: date, method: str,
                 confirmation: str) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "amount": amount,
        "method": method,
        "posted_at": _local_noon(day),
        "confirmation": confirmation,
        "source_channel": {"autopay": "ach", "cash": "office", "check": "mail"}.get(method, "web"),
    }


def _persona_ledger(p: Persona, account_id: int, today: date) -> tuple[list[dict[str, Any]],
                                                                       list[dict[str, Any]]]:
    """Twelve monthly bills ending with the persona's unpaid ones, the rest paid."""
    latest_due = today + timedelta(days=p.latest_due_in_days)
    dues = [latest_due - timedelta(days=30 * k) for k in range(11, -1, -1)]
    unpaid = [_money(a) for a in p.unpaid]
    paid_dues = dues[: len(dues) - len(unpaid)]
    usual = _money(p.usual_bill)
    bills, payments = [], []
    for index, due in enumerate(paid_dues):
        is_last = index == len(paid_dues) - 1
        amount = usual + Decimal(index % 3) - Decimal(1) if not is_last else usual
        method = "autopay" if p.autopay else "card"
        paid_on = due if p.autopay else due - timedelta(days=3)
        if is_last and p.last_payment is not None:
            amount_text, days_ago, method = p.last_payment
            amount = _money(amount_text)
            paid_on = today - timedelta(days=days_ago)
        bills.append(_bill_row(account_id, due, amount))
        payments.append(
            _payment_row(account_id, amount, paid_on, method, f"PMT-{p.account}-{index:02d}")
        )
    for due, amount in zip(dues[len(paid_dues):], unpaid, strict=True):
        bills.append(_bill_row(account_id, due, amount))
    return bills, payments


def is_empty(session: Session) -> bool:
    """True when no table holds a row."""
    return all(
        session.execute(select(func.count()).select_from(table)).scalar_one() == 0
        for table in metadata.sorted_tables
    )


def holds_demo(session: Session) -> bool:
    """True when the demo district is what the database holds."""
    dana = session.scalars(select(Account).where(Account.number == PERSONAS[0].account)).first()
    demo_users = session.scalar(select(func.count(CsrUser.id)).where(CsrUser.is_demo.is_(True)))
    return dana is not None and bool(demo_users)


def wipe(session: Session) -> None:
    """Delete every row of every table (children first)."""
    for table in reversed(metadata.sorted_tables):
        if table.name != "alembic_version":
            session.execute(table.delete())
    session.flush()


def seed_demo(
    *,
    session: Session,
    today: date,
    anchor: datetime,
    generated: int = 2000,
    months: int = 12,
    replace: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """Seed the demo district into ``session``'s database.

    Args:
        today: the seeding day in the district's timezone.
        anchor: the instant event times are relative to ("started 2 hours ago").
        generated: how many accounts to generate beside the personas.
        months: months of bills per generated account.
        replace: wipe whatever the database holds first (demo or not).
        progress: called with (done, total) while generating accounts.

    Raises:
        SeedRefused: the database holds data that is not the demo's and
            ``replace`` was not given.
    """
    report = SeedReport()
    if not is_empty(session):
        if replace:
            wipe(session)
        elif holds_demo(session):
            report.skipped = "the demo district is already there"
            return report
        else:
            raise SeedRefused(
                "the database already holds data that is not the demo district; "
                "pass --replace-existing-data to wipe it and seed the demo"
            )
    now = anchor
    _seed_personas(session, today, now, report)
    _seed_generated(session, today, now, generated, months, report, progress)
    _seed_events(session, today, now, report)
    _seed_staff(session, today, now, report)
    session.flush()
    return report


def _add_customer(session: Session, name: str, language: str, now: datetime) -> int:
    customer = Customer(name=name, language=language, created_at=now)
    session.add(customer)
    session.flush()
    return customer.id


def _seed_personas(session: Session, today: date, now: datetime, report: SeedReport) -> None:
    for p in PERSONAS:
        customer_id = _add_customer(session, p.name, p.language, now)
        session.add(ContactPoint(customer_id=customer_id, kind="phone", value=p.phone))
        if p.email:
            session.add(ContactPoint(customer_id=customer_id, kind="email", value=p.email))
        account = Account(
            number=p.account,
            customer_id=customer_id,
            status=p.status,
            service_address=f"{p.street_number} {p.street_name}",
            street_number=p.street_number,
            street_name=p.street_name,
            city="Valley Springs",
            zip=p.zip,
            zone=p.zone,
            autopay=p.autopay,
            paperless=p.paperless,
            reconnection_fee=RECONNECTION_FEE if p.status == "locked-off" else Decimal("0.00"),
            opened_on=today - timedelta(days=3 * 365),
            locked_off_at=(
                _local_noon(today - timedelta(days=p.locked_off_days_ago))
                if p.locked_off_days_ago is not None
                else None
            ),
        )
        session.add(account)
        session.flush()
        bills, payments = _persona_ledger(p, account.id, today)
        session.execute(insert(Bill), bills)
        if payments:
            session.execute(insert(Payment), payments)
        report.accounts += 1
        report.bills += len(bills)
        report.payments += len(payments)
        report.personas.append(p.account)


def _seed_generated(
    session: Session,
    today: date,
    now: datetime,
    count: int,
    months: int,
    report: SeedReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    batch = 1000
    zone_names = list(ZONES)
    for start in range(0, count, batch):
        people = [
            (i, random.Random(f"valley-springs-{i}"))
            for i in range(start, min(start + batch, count))
        ]
        customers = []
        for _index, rng in people:
            language = "es" if rng.random() < 0.15 else "en"
            customers.append({
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "language": language,
                "created_at": now,
            })
        customer_ids = list(session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True), customers
        ))
        accounts, contacts, plans = [], [], []
        for (index, rng), customer_id in zip(people, customer_ids, strict=True):
            zone = zone_names[index % len(zone_names)]
            zip_code, streets = ZONES[zone]
            street = streets[rng.randrange(len(streets))]
            number = rng.randrange(100, 2999)
            roll = rng.random()
            status = "locked-off" if roll < 0.02 else "active"
            delinquent = 3 if status == "locked-off" else (2 if roll < 0.10 else 0)
            autopay = status == "active" and delinquent == 0 and rng.random() < 0.25
            accounts.append({
                "number": f"{1100001 + index}",
                "customer_id": customer_id,
                "status": status,
                "service_address": f"{number} {street}",
                "street_number": number,
                "street_name": street,
                "city": "Valley Springs",
                "zip": zip_code,
                "zone": zone,
                "autopay": autopay,
                "paperless": autopay or rng.random() < 0.2,
                "reconnection_fee": RECONNECTION_FEE if status == "locked-off" else Decimal(0),
                "opened_on": today - timedelta(days=400 + rng.randrange(3000)),
                "locked_off_at": _local_noon(today - timedelta(days=5)) if status != "active"
                else None,
            })
            if index < len(AREA_CODES) * 100:
                contacts.append({"customer_id": customer_id, "kind": "phone",
                                 "value": f"+1{AREA_CODES[index // 100]}55501{index % 100:02d}",
                                 "is_primary": True, "undeliverable": False})
            if rng.random() < 0.7:
                contacts.append({"customer_id": customer_id, "kind": "email",
                                 "value": f"customer{1100001 + index}@example.com",
                                 "is_primary": True, "undeliverable": False})
            plans.append((rng, delinquent, autopay))
        account_ids = list(session.scalars(
            insert(Account).returning(Account.id, sort_by_parameter_order=True), accounts
        ))
        session.execute(insert(ContactPoint), contacts)
        bills, payments = [], []
        for account_id, (rng, delinquent, autopay), row in zip(
            account_ids, plans, accounts, strict=True
        ):
            latest_due = today + timedelta(days=rng.randrange(-20, 20))
            base_usage = Decimal(rng.randrange(6, 22))
            for k in range(months - 1, -1, -1):
                due = latest_due - timedelta(days=30 * k)
                season = Decimal(1.4 if due.month in (6, 7, 8, 9) else 0.9).quantize(CENT)
                amount = (FIXED_CHARGE + base_usage * season * RATE_PER_HCF).quantize(CENT)
                bills.append(_bill_row(account_id, due, amount))
                unpaid = k < delinquent or (k == 0 and due >= today)
                if not unpaid and due <= today + timedelta(days=1):
                    method = "autopay" if autopay else rng.choice(["card", "card", "ach", "check",
                                                                   "cash"])
                    paid_on = due if autopay else due - timedelta(days=rng.randrange(0, 6))
                    payments.append(_payment_row(account_id, amount, paid_on, method,
                                                 f"PMT-{row['number']}-{k:02d}"))
        session.execute(insert(Bill), bills)
        if payments:
            session.execute(insert(Payment), payments)
        report.accounts += len(accounts)
        report.bills += len(bills)
        report.payments += len(payments)
        if progress is not None:
            progress(min(start + batch, count), count)


def next_weekday(day: date, weekday: int) -> date:
    """The first ``weekday`` (Mon=0) strictly after ``day``."""
    return day + timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)


def _seed_events(session: Session, today: date, now: datetime, report: SeedReport) -> None:
    started = now - timedelta(hours=2)
    session.add(Notice(
        kind="unplanned_outage",
        status="active",
        title="Water main break on Oak Street",
        cause="main break",
        zones=["North"],
        streets=[{"street": "Oak Street", "from": 400, "to": 700}],
        starts_at=started,
        estimated_restoration_at=now + timedelta(hours=3),
        ended_at=None,
        text_en=("Crews are repairing a water main break on the 400-700 blocks of Oak Street. "
                 "Water is off on those blocks until the repair is done."),
        text_es=("Nuestro personal está reparando una ruptura de la tubería principal en las "
                 "cuadras 400 a 700 de Oak Street. El agua está cortada en esas cuadras hasta "
                 "que termine la reparación."),
        safety=False,
        created_at=started,
        updated_at=started,
    ))
    tuesday = next_weekday(today, 1)
    work_start = datetime.combine(tuesday, time(9), DISTRICT_TZ).astimezone(UTC)
    session.add(Notice(
        kind="planned_work",
        status="scheduled",
        title="Planned valve replacement on Maple Avenue",
        cause="valve replacement",
        zones=["East"],
        streets=[{"street": "Maple Avenue", "from": None, "to": None}],
        starts_at=work_start,
        estimated_restoration_at=work_start + timedelta(hours=4),
        ended_at=None,
        text_en=("Planned work on Maple Avenue: water will be off from 9 AM to 1 PM while "
                 "crews replace a valve."),
        text_es=("Trabajo programado en Maple Avenue: el agua estará cortada de 9 a. m. a "
                 "1 p. m. mientras se reemplaza una válvula."),
        safety=False,
        created_at=now,
        updated_at=now,
    ))
    issued = now - timedelta(days=1)
    session.add(Notice(
        kind="boil_water",
        status="active",
        title="Boil-water notice for the South zone",
        cause="loss of pressure after a main repair",
        zones=["South"],
        streets=[],
        starts_at=issued,
        estimated_restoration_at=None,
        ended_at=None,
        text_en=("Boil-water notice for the South zone: bring tap water to a rolling boil for one "
                 "minute before drinking or cooking, or use bottled water, until we tell you the "
                 "water is safe."),
        text_es=("Aviso de hervir el agua en la zona Sur: hierva el agua de la llave durante un "
                 "minuto antes de tomarla o cocinar con ella, o use agua embotellada, hasta que "
                 "le avisemos que el agua es segura."),
        safety=True,
        created_at=issued,
        updated_at=issued,
    ))
    report.notices += 3


def _seed_staff(session: Session, today: date, now: datetime, report: SeedReport) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    for username, name, level in CSR_USERS:
        session.add(CsrUser(username=username, name=name, level=level,
                            password_hash=password_hash, is_demo=True, active=True,
                            created_at=now))
        report.csr_users += 1
    start = datetime.combine(today - timedelta(days=1), time(0), DISTRICT_TZ).astimezone(UTC)
    for name, phone, role in ON_CALL:
        session.add(OnCallShift(name=name, phone=phone, role=role, starts_at=start,
                                ends_at=start + timedelta(days=366)))


def seeding_anchor(now: datetime, today: date | None) -> tuple[date, datetime]:
    """The seeding day and the instant events are relative to.

    Without ``--today`` (or with today's date) events hang on the current hour,
    so the outage is active while the demo runs; another day's seeding anchors
    them at that day's noon.
    """
    local_now = now.astimezone(DISTRICT_TZ)
    if today is None or today == local_now.date():
        return local_now.date(), now.replace(minute=0, second=0, microsecond=0)
    return today, _local_noon(today)
