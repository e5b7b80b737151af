"""The CSR app in Debian's Chromium driven by Playwright: the CSR I and Senior CSR flows.

Screenshots go to ``var/screenshots/`` (test artifacts).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.escalation.conftest import DANA, CsrApp, new_ticket
from tests.utils.servers import unavailable

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[object]:
    executable = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if executable is None:
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - part of the test extras
        unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def login(page: object, url: str, username: str) -> None:
    page.goto(f"{url}/csr/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", "district-demo")  # type: ignore[attr-defined]
    page.click("#login")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/csr/")  # type: ignore[attr-defined]


def test_csr_and_senior_flows(csr_app: CsrApp, browser_page: object, db_url: str) -> None:
    page = browser_page
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with csr_app.sessions() as session:
        now = csr_app.clock.now()
        mine = new_ticket(
            session,
            csr_app.calendar,
            now,
            inbound="Can a person call me about my bill?",
            summary="Dana asks for a person about her bill.",
        ).id
        above = new_ticket(
            session,
            csr_app.calendar,
            now,
            intent="billing_dispute",
            address="+15305550105",
            account_number="1002001",
            summary="Bill four times the usual; likely leak.",
        ).id

    # --- CSR I: sees only what a CSR I may take --------------------------------------
    login(page, csr_app.url, "csr1")
    rows = page.locator("#queue-rows tr[data-ticket]")  # type: ignore[attr-defined]
    ids = {int(rows.nth(i).get_attribute("data-ticket")) for i in range(rows.count())}
    assert ids == {mine}
    assert above not in ids
    page.screenshot(path=str(SHOTS / f"csr1-queue-{backend}.png"), full_page=True)  # type: ignore[attr-defined]

    # Live update: a ticket that arrives while the page is open appears by polling.
    with csr_app.sessions() as session:
        arrived = new_ticket(
            session,
            csr_app.calendar,
            csr_app.clock.now(),
            address="+15305550104",
            account_number="1001560",
            summary="Linh wants to talk about AutoPay.",
        ).id
    page.wait_for_selector(f'#queue-rows tr[data-ticket="{arrived}"]', timeout=12_000)  # type: ignore[attr-defined]

    # Claim, reply by SMS, resolve.
    page.click(f'#queue-rows tr[data-ticket="{mine}"] a')  # type: ignore[attr-defined]
    page.wait_for_selector("#claim")  # type: ignore[attr-defined]
    assert "Tier 1" in page.inner_text("#tier")  # type: ignore[attr-defined]
    page.click("#claim")  # type: ignore[attr-defined]
    page.wait_for_selector("#reply-text")  # type: ignore[attr-defined]
    assert page.inner_text("#holder") == "csr1"  # type: ignore[attr-defined]
    page.fill("#reply-text", "Hi Dana, Casey here. Your bill is $84.20.")  # type: ignore[attr-defined]
    page.click("#send-reply")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Reply sent.")  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while not csr_app.twilio.message_requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = csr_app.twilio.message_requests()
    assert [(r.field("To"), r.field("Body")) for r in sent] == [
        (DANA, "Hi Dana, Casey here. Your bill is $84.20.")
    ]
    page.wait_for_selector("#transcript >> text=Casey here")  # type: ignore[attr-defined]
    page.screenshot(path=str(SHOTS / f"csr1-ticket-replied-{backend}.png"), full_page=True)  # type: ignore[attr-defined]
    page.select_option("#disposition", "answered")  # type: ignore[attr-defined]
    page.fill("#resolve-note", "Explained the balance by SMS")  # type: ignore[attr-defined]
    page.click("#resolve")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Resolved. The assistant resumes the conversation.")  # type: ignore[attr-defined]
    assert page.text_content("#ticket-status") == "resolved"  # type: ignore[attr-defined]
    assert csr_app.ticket(mine).status == "resolved"
    assert page.locator("#nav-supervisor").count() == 0  # type: ignore[attr-defined]
    page.click("text=Log out")  # type: ignore[attr-defined]
    page.wait_for_url(f"{csr_app.url}/csr/login")  # type: ignore[attr-defined]

    # --- Senior: reassign, supervisor page -------------------------------------------------
    login(page, csr_app.url, "senior")
    page.goto(f"{csr_app.url}/csr/tickets/{above}")  # type: ignore[attr-defined]
    page.select_option("#reassign-to", "csr2")  # type: ignore[attr-defined]
    page.click("#reassign")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Reassigned.")  # type: ignore[attr-defined]
    assert page.inner_text("#holder") == "csr2"  # type: ignore[attr-defined]
    assert csr_app.ticket(above).claimed_by_id == csr_app.user("csr2").id
    page.screenshot(path=str(SHOTS / f"senior-reassigned-{backend}.png"), full_page=True)  # type: ignore[attr-defined]
    page.click("#nav-supervisor")  # type: ignore[attr-defined]
    page.wait_for_selector("#chart-depth")  # type: ignore[attr-defined]
    assert page.locator("#chart-depth rect").count() > 0  # type: ignore[attr-defined]
    page.screenshot(path=str(SHOTS / f"senior-supervisor-{backend}.png"), full_page=True)  # type: ignore[attr-defined]
