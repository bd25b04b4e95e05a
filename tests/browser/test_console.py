"""The web console in Chromium against a live server: signing in and out, what a forged or
stale form gets, and each page doing its job (lock a door and watch the attempt, create a code
and watch it reach `set` on the virtual lock, a live event, a webhook delivery replayed, the
sandbox clock, the keypad, API keys), workspace walls, and a phone-sized screen.

Each test gets a new sandbox workspace of john's (the seeded personal access token) with a
TTLock test account connected; the console is signed in with john's token and opens that
workspace from the switcher. Screenshots go to docs/screenshots/console-*.png.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, PHONE, App, Contexts, no_horizontal_scroll

if not CHROMIUM.exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (scripts/system-deps.sh installs it)",
                allow_module_level=True)

from playwright.sync_api import BrowserContext, Page, expect  # noqa: E402
from seam import Seam, SeamWithoutWorkspace  # noqa: E402
from seam.exceptions import SeamHttpUnauthorizedError  # noqa: E402

from tests.conformance.helpers import PAT, wait_until  # noqa: E402
from tests.server import LockhubServer  # noqa: E402

COOKIE = "lockhub_console"
_numbers = itertools.count(1)


@dataclass
class Stay:
    """A sandbox workspace with a TTLock account: the SDK as its owner, and its locks."""

    seam: Seam
    name: str
    workspace_id: str
    locks: dict[str, Any]  # by display name


def connect_ttlock(lockhub: LockhubServer, seam: Seam) -> dict[str, Any]:
    webview = seam.connect_webviews.create(accepted_providers=["ttlock"])
    httpx.post(f"{lockhub.url}/_fake/complete_connect_webview",
               json={"connect_webview_id": webview.connect_webview_id}).raise_for_status()
    locks = wait_until(lambda: len(found := seam.locks.list()) == 3 and found,
                       message="the TTLock test account's three locks")
    return {lock.display_name: lock for lock in locks}


@pytest.fixture
def stay(lockhub: LockhubServer) -> Stay:
    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=lockhub.url)
    name = f"Console stay {next(_numbers)}"
    workspace = john.workspaces.create(name=name, company_name="Acme Rentals", is_sandbox=True)
    seam = Seam.from_personal_access_token(PAT, workspace.workspace_id, endpoint=lockhub.url)
    return Stay(seam, name, workspace.workspace_id, connect_ttlock(lockhub, seam))


def sign_in(page: Page, lockhub: LockhubServer, token: str = PAT,
            workspace: str | None = None) -> None:
    page.goto(f"{lockhub.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to lockhub")
    page.get_by_label("API key or personal access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    if workspace is not None:
        expect(page.get_by_role("heading", level=1)).to_have_text("Workspaces")
        page.get_by_role("button", name=f"Open {workspace}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Devices")


@pytest.fixture
def console(page: Page, lockhub: LockhubServer, stay: Stay) -> Page:
    """A page signed in to the stay's workspace."""
    sign_in(page, lockhub, workspace=stay.name)
    return page


def open_device(page: Page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def form_token(page: Page) -> str:
    return str(page.locator("input[name=form_token]").first.get_attribute("value"))



class Receiver:
    """A webhook endpoint on loopback: answers 204 and keeps each delivery's body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


# --- signing in and out ----------------------------------------------------------------------


def test_root_leads_to_sign_in_and_a_wrong_token_is_refused(page: Page,
                                                            lockhub: LockhubServer) -> None:
    page.goto(f"{lockhub.url}/")
    assert page.url.startswith(f"{lockhub.url}/console/sign_in")
    token = page.get_by_label("API key or personal access token")
    expect(token).to_have_attribute("type", "password")
    token.fill("seam_at1_not_the_token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This token was not accepted")
    expect(page.get_by_label("API key or personal access token")).to_have_attribute(
        "aria-invalid", "true")
    assert not [c for c in page.context.cookies() if c["name"] == COOKIE]


def test_sign_in_sets_a_guarded_cookie_and_sign_out_ends_the_session(
        page: Page, lockhub: LockhubServer, stay: Stay) -> None:
    sign_in(page, lockhub, workspace=stay.name)
    expect(page.get_by_role("link", name="Front Door", exact=True)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/console")
    assert cookie["value"] not in (PAT, "")
    # The cookie is not readable by the page's scripts.
    assert COOKIE not in page.evaluate("document.cookie")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to lockhub")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    assert not [c for c in page.context.cookies() if c["name"] == COOKIE]
    # The old cookie, replayed, opens nothing: the session ended on the server.
    page.context.add_cookies([{**cookie}])
    page.goto(f"{lockhub.url}/console/devices")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to lockhub")
    assert "next=%2Fconsole%2Fdevices" in page.url


def test_a_revoked_key_signs_the_console_out(page: Page, lockhub: LockhubServer,
                                             stay: Stay) -> None:
    sign_in(page, lockhub, workspace=stay.name)
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_label("Name").fill("Console test")
    page.get_by_role("button", name="Create API key").click()
    key = page.locator("#new-key").inner_text()

    other = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    try:
        sign_in(other, lockhub, token=key)
        expect(other.locator(".workspace")).to_contain_text(stay.name)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke Console test").click()
        expect(page.get_by_role("status")).to_have_text("API key revoked.")
        other.reload()
        expect(other.get_by_role("heading", level=1)).to_have_text("Sign in to lockhub")
    finally:
        other.context.close()


def test_forms_without_the_token_or_from_another_site_are_refused(
        console: Page, lockhub: LockhubServer, stay: Stay, contexts: Contexts,
        app: App) -> None:
    lock = stay.locks["Front Door"]
    before = stay.seam.locks.get(device_id=lock.device_id).properties.locked
    action = "lock" if not before else "unlock"
    url = f"{lockhub.url}/console/devices/{lock.device_id}/{action}"
    request = console.context.request
    # No form token: refused, nothing done.
    refused = request.post(url, form={}, max_redirects=0)
    assert refused.status == 403
    assert "did not come from this console" in refused.text()
    # A stale or made-up token: refused.
    assert request.post(url, form={"form_token": "0" * 64}, max_redirects=0).status == 403
    # The right token, but the form was sent by another site: refused.
    token = form_token(console)
    assert request.post(url, form={"form_token": token}, max_redirects=0,
                        headers={"Origin": app.origin}).status == 403
    # A JSON body instead of a form: refused.
    assert request.post(url, data=json.dumps({"form_token": token}), max_redirects=0,
                        headers={"Content-Type": "application/json"}).status == 415
    # A forged form on another site, submitted in the signed-in browser.
    app.pages["/forged"] = (f'<!doctype html><form method="post" action="{url}">'
                            f'<input name="form_token" value="guess"></form>'
                            f'<script>document.forms[0].submit()</script>')
    forged = console.context.new_page()
    forged.goto(f"{app.origin}/forged")
    expect(forged.get_by_role("heading", level=1)).to_have_text("Request refused")
    assert stay.seam.locks.get(device_id=lock.device_id).properties.locked == before
    assert not [e for e in stay.seam.events.list(device_id=lock.device_id,
                                                   since="2000-01-01T00:00:00Z")
                if e.event_type in ("lock.locked", "lock.unlocked")]


# --- devices ---------------------------------------------------------------------------------


def test_devices_list_with_state_search_and_filters(console: Page, stay: Stay,
                                                    screenshots: Path) -> None:
    rows = console.locator("table.list tbody tr")
    expect(rows).to_have_count(3)
    for name, lock in stay.locks.items():
        row = rows.filter(has=console.get_by_role("link", name=name, exact=True))
        words = "Locked" if lock.properties.locked else "Unlocked"
        expect(row.locator("td[data-label=State]")).to_have_text(words)
        expect(row.locator("td[data-label=Connection]")).to_have_text("Online")
    console.screenshot(path=screenshots / "console-devices.png", full_page=True)

    console.get_by_label("Search").fill("Storage")
    console.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Storage Room")

    # Offline devices, by state; a problem is shown in words.
    office = stay.locks["Office Lock"]
    stay.seam.devices.simulate.disconnect(device_id=office.device_id)
    wait_until(lambda: not stay.seam.devices.get(device_id=office.device_id).properties.online,
               message="Office Lock offline")
    console.get_by_label("Search").fill("")
    console.get_by_label("State").select_option("offline")
    console.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td[data-label=Connection]")).to_have_text("Offline")
    expect(rows.first.locator("td[data-label=Problems]")).to_contain_text("offline")


def test_unlock_and_lock_show_the_attempt_until_it_settles(console: Page, stay: Stay,
                                                           screenshots: Path) -> None:
    lock = stay.locks["Office Lock"]
    stay.seam.locks.lock_door(device_id=lock.device_id, wait_for_action_attempt=True)
    open_device(console, "Office Lock")
    expect(console.locator("#lock-state")).to_have_text("Locked")

    console.get_by_role("button", name="Unlock").click()
    expect(console.get_by_role("status")).to_have_text("Unlock requested.")
    # The page follows the attempt and shows the outcome and the new state, without a click.
    expect(console.locator(".attempt")).to_contain_text("Unlock door: done.")
    expect(console.locator("#lock-state")).to_have_text("Unlocked")
    assert stay.seam.locks.get(device_id=lock.device_id).properties.locked is False
    expect(console.locator("table.list").last).to_contain_text("lock.unlocked")
    console.screenshot(path=screenshots / "console-device.png", full_page=True)

    console.get_by_role("button", name="Lock", exact=True).click()
    expect(console.locator(".attempt")).to_contain_text("Lock door: done.")
    expect(console.locator("#lock-state")).to_have_text("Locked")
    assert stay.seam.locks.get(device_id=lock.device_id).properties.locked is True


def test_a_failed_unlock_says_why(console: Page, lockhub: LockhubServer, stay: Stay) -> None:
    lock = stay.locks["Office Lock"]
    stay.seam.locks.lock_door(device_id=lock.device_id, wait_for_action_attempt=True)
    console.get_by_role("link", name="Sandbox", exact=True).click()
    section = console.locator("section.sandbox-device", has_text="Office Lock")
    section.get_by_label("Error").select_option("lock_jammed")
    section.get_by_label("unlock").check()
    section.get_by_role("button", name="Inject failure").click()
    expect(console.get_by_role("status")).to_have_text("Failure injected.")

    console.get_by_role("link", name="Devices", exact=True).click()
    open_device(console, "Office Lock")
    console.get_by_role("button", name="Unlock").click()
    expect(console.locator(".attempt")).to_contain_text("Unlock door: failed")
    expect(console.locator(".attempt")).to_contain_text("Injected failure")
    assert stay.seam.locks.get(device_id=lock.device_id).properties.locked is True


# --- access codes ----------------------------------------------------------------------------


def test_create_a_code_and_watch_it_reach_set(console: Page, stay: Stay,
                                             screenshots: Path) -> None:
    lock = stay.locks["Front Door"]  # 4 to 9 digits, no 0, 8 or 9 on the keypad
    open_device(console, "Front Door")
    console.get_by_role("link", name="New access code").click()
    expect(console.get_by_label("Device", exact=True)).to_have_value(lock.device_id)
    pin, hint = console.get_by_label("PIN", exact=False), console.locator("#code-rules")

    # The device's rules, as you type.
    pin.fill("123")
    expect(hint).to_have_text("The code must be 4, 5, 6, 7, 8, 9 digits long on this device; "
                              "got 3.")
    pin.fill("1289")
    expect(hint).to_have_text("This keypad has no 0, 8 or 9 keys.")
    expect(pin).to_have_attribute("aria-invalid", "true")
    console.get_by_role("button", name="Create access code").click()
    expect(console.get_by_role("heading", level=1)).to_have_text("New access code")  # held back
    assert stay.seam.access_codes.list(device_id=lock.device_id) == []
    pin.fill("4321")
    expect(hint).to_have_text("This PIN fits the device's rules.")
    console.get_by_label("Name").fill("Guest Smith")
    console.screenshot(path=screenshots / "console-new-access-code.png", full_page=True)
    console.get_by_role("button", name="Create access code").click()

    expect(console.get_by_role("heading", level=1)).to_have_text("Guest Smith")
    expect(console.get_by_role("status").first).to_have_text("Access code created.")
    # The status moves from setting to set on its own; the timeline says what happened.
    expect(console.locator("#code-status .status")).to_have_text("Set")
    expect(console.locator(".timeline")).to_contain_text("access_code.set_on_device")
    code = stay.seam.access_codes.list(device_id=lock.device_id)[0]
    assert (code.name, code.code, code.status) == ("Guest Smith", "4321", "set")
    console.screenshot(path=screenshots / "console-access-code.png", full_page=True)

    # Edit: a time-bound stay.
    console.get_by_role("link", name="Edit").click()
    console.get_by_label("Name").fill("Guest Smith (stay)")
    console.get_by_label("Between two times").check()
    starts = datetime.fromisoformat("2030-06-01T15:00")
    console.get_by_label("Starts (UTC)").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    console.get_by_label("Ends (UTC)").fill((starts + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    console.get_by_role("button", name="Save").click()
    expect(console.get_by_role("status").first).to_have_text("Access code updated.")
    changed = stay.seam.access_codes.get(access_code_id=code.access_code_id)
    assert (changed.name, changed.type) == ("Guest Smith (stay)", "time_bound")
    assert changed.starts_at.startswith("2030-06-01T15:00")

    # Delete.
    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_role("button", name="Delete").click()
    expect(console.get_by_role("status")).to_have_text("Access code deleted.")
    wait_until(lambda: not stay.seam.access_codes.list(device_id=lock.device_id),
               message="the code gone")


def test_a_code_the_api_refuses_is_shown_on_the_form(console: Page, lockhub: LockhubServer,
                                                     stay: Stay) -> None:
    lock = stay.locks["Front Door"]
    stay.seam.access_codes.create(device_id=lock.device_id, code="5555", name="Cleaner")
    console.goto(f"{lockhub.url}/console/access_codes/new?device_id={lock.device_id}")
    console.get_by_label("Name").fill("Guest")
    pin = console.get_by_label("PIN", exact=False)
    pin.fill("5555")
    expect(console.locator("#code-rules")).to_have_text(
        "Another code on this device already uses this PIN.")
    # Past the page's own check (script off for this submit): the API's answer is shown.
    console.evaluate("document.querySelector('form.code-form').submit()")
    expect(console.get_by_role("heading", level=1)).to_have_text("New access code")
    expect(console.locator(".error, .field-error").first).to_be_visible()
    assert [c.name for c in stay.seam.access_codes.list(device_id=lock.device_id)] == ["Cleaner"]


# --- accounts, events, webhooks --------------------------------------------------------------


def test_connect_an_account_through_a_connect_webview(console: Page, stay: Stay) -> None:
    console.get_by_role("link", name="Accounts", exact=True).click()
    expect(console.locator("table.list tbody tr")).to_have_count(1)
    console.get_by_role("button", name="Connect an account").click()
    console.locator("a[data-provider=schlage]").click()
    console.get_by_label("Email", exact=True).fill("jane@example.com")
    console.get_by_label("Password", exact=True).fill("1234")
    console.get_by_role("button", name="Sign in").click()

    expect(console.get_by_role("heading", level=1)).to_have_text("Connected accounts")
    rows = console.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    schlage = rows.filter(has_text="Schlage")
    expect(schlage.locator("td[data-label=Status]")).to_have_text("Connected")
    assert {a.account_type for a in stay.seam.connected_accounts.list()} == {"ttlock", "schlage"}


def test_new_events_appear_without_reload(console: Page, stay: Stay) -> None:
    lock = stay.locks["Storage Room"]
    console.get_by_role("link", name="Events", exact=True).click()
    console.evaluate("window.sameDocument = true")
    before = console.locator("tbody#events tr").count()

    stay.seam.locks.unlock_door(device_id=lock.device_id, wait_for_action_attempt=True)
    unlocked = console.locator("tbody#events tr", has_text="lock.unlocked")
    expect(unlocked.first).to_be_visible()
    expect(unlocked.first.locator("td[data-label=Device]")).to_have_text("Storage Room")
    assert console.evaluate("window.sameDocument") is True  # no reload
    assert console.locator("tbody#events tr").count() > before

    # Filtered by type: only that type.
    console.get_by_label("Type", exact=True).select_option("lock.unlocked")
    console.get_by_role("button", name="Filter").click()
    types = console.locator("tbody#events tr th code").all_inner_texts()
    assert types and set(types) == {"lock.unlocked"}


def test_a_webhook_delivery_and_its_replay(console: Page, stay: Stay,
                                          receiver: Receiver) -> None:
    console.get_by_role("link", name="Webhooks", exact=True).click()
    console.get_by_label("Endpoint URL").fill(receiver.url)
    console.get_by_label("Event types").fill("lock.unlocked")
    console.get_by_role("button", name="Create webhook").click()
    expect(console.get_by_role("status")).to_have_text("Webhook created.")

    lock = stay.locks["Office Lock"]
    stay.seam.locks.unlock_door(device_id=lock.device_id, wait_for_action_attempt=True)
    wait_until(lambda: receiver.bodies, message="the delivery")
    event_id = receiver.bodies[0]["event_id"]
    console.reload()
    delivery = console.locator("li.delivery")
    expect(delivery).to_have_count(1)
    expect(delivery).to_contain_text("Delivered")
    expect(delivery.locator("tbody tr")).to_have_count(1)
    expect(delivery.locator("td[data-label=Response]")).to_have_text("204")

    delivery.get_by_role("button", name="Replay").click()
    expect(console.get_by_role("status")).to_have_text("Delivery queued again.")
    wait_until(lambda: len(receiver.bodies) == 2, message="the replayed delivery")
    assert receiver.bodies[1]["event_id"] == event_id
    console.reload()
    expect(console.locator("li.delivery tbody tr")).to_have_count(2)


# --- the sandbox -----------------------------------------------------------------------------


def _sandbox_now(page: Page) -> datetime:
    text = page.locator("#sandbox-now").inner_text()
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC")


def test_sandbox_clock_and_keypad_play_a_stay(console: Page, stay: Stay,
                                              screenshots: Path) -> None:
    lock = stay.locks["Front Door"]
    console.get_by_role("link", name="Sandbox", exact=True).click()
    console.get_by_role("button", name="Freeze the clock").click()
    expect(console.get_by_role("status")).to_have_text("Sandbox clock changed.")
    frozen = _sandbox_now(console)

    # Check-in: a code from one hour from now, for two days.
    starts = frozen + timedelta(hours=1)
    code = stay.seam.access_codes.create(
        device_id=lock.device_id, code="4567", name="Stay",
        starts_at=starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ends_at=(starts + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    console.get_by_label("Advance by").fill("2")
    console.get_by_label("Unit").select_option("hours")
    console.get_by_role("button", name="Advance").click()
    expect(console.get_by_role("status")).to_have_text("Sandbox clock changed.")
    assert _sandbox_now(console) - frozen == timedelta(hours=2)
    wait_until(lambda: stay.seam.access_codes.get(access_code_id=code.access_code_id).status
               == "set", message="the code set at check-in")

    # The guest types the PIN: the door unlocks.
    console.reload()
    section = console.locator("section.sandbox-device", has_text="Front Door")
    expect(section.locator(".pins")).to_contain_text("4567")
    console.screenshot(path=screenshots / "console-sandbox.png", full_page=True)
    section.get_by_label("PIN to enter on Front Door").fill("4567")
    section.get_by_role("button", name="Enter PIN").click()
    expect(console.get_by_role("status").first).to_have_text("PIN entered on the keypad.")
    expect(console.locator("#lock-state")).to_have_text("Unlocked")

    # Check-out: past the end, the code leaves the lock.
    console.get_by_role("link", name="Sandbox", exact=True).click()
    console.get_by_label("Advance by").fill("3")
    console.get_by_label("Unit").select_option("days")
    console.get_by_role("button", name="Advance").click()
    expect(console.get_by_role("status")).to_have_text("Sandbox clock changed.")
    wait_until(lambda: not stay.seam.access_codes.list(device_id=lock.device_id),
               message="the code removed at check-out")
    console.reload()
    expect(console.locator("section.sandbox-device", has_text="Front Door").locator(
        ".pins")).to_have_count(0)


def test_sandbox_clock_set_and_unfreeze(console: Page, stay: Stay) -> None:
    console.get_by_role("link", name="Sandbox", exact=True).click()
    console.get_by_role("button", name="Freeze the clock").click()
    console.get_by_label("Set to (UTC)").fill("2031-05-01T12:00")
    console.get_by_role("button", name="Set the clock").click()
    expect(console.get_by_role("status")).to_have_text("Sandbox clock changed.")
    assert _sandbox_now(console) == datetime(2031, 5, 1, 12, 0)  # still frozen: exactly then
    expect(console.locator(".tag", has_text="Frozen")).to_be_visible()
    console.get_by_role("button", name="Unfreeze the clock").click()
    expect(console.locator(".tag", has_text="Running")).to_be_visible()
    assert _sandbox_now(console) >= datetime(2031, 5, 1, 12, 0)


def test_sandbox_refuses_a_bad_value_with_a_message(console: Page) -> None:
    console.get_by_role("link", name="Sandbox", exact=True).click()
    console.get_by_label("Advance by").fill("-5")
    console.evaluate("document.querySelector('#advance-amount').removeAttribute('min')")
    console.get_by_role("button", name="Advance").click()
    expect(console.get_by_role("alert")).to_be_visible()
    expect(console.get_by_role("heading", level=1)).to_have_text("Sandbox")


# --- API keys and workspace walls ------------------------------------------------------------


def test_api_keys_are_shown_once_and_work_until_revoked(console: Page,
                                                        lockhub: LockhubServer,
                                                        stay: Stay) -> None:
    console.get_by_role("link", name="API keys", exact=True).click()
    console.get_by_label("Name").fill("Backend")
    console.get_by_role("button", name="Create API key").click()
    key = console.locator("#new-key").inner_text()
    assert re.fullmatch(r"seam_test\w+_\w+", key)
    client = Seam(api_key=key, endpoint=lockhub.url)
    assert {d.display_name for d in client.devices.list()} == set(stay.locks)
    # Listed by name and id only; the key itself is not on the page again.
    console.get_by_role("link", name="API keys", exact=True).click()
    expect(console.locator("table.list")).to_contain_text("Backend")
    assert key not in console.content()

    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_role("button", name="Revoke Backend").click()
    expect(console.get_by_role("status")).to_have_text("API key revoked.")
    with pytest.raises(SeamHttpUnauthorizedError):
        client.devices.list()


def test_another_workspace_stays_out_of_sight(page: Page, contexts: Contexts,
                                              lockhub: LockhubServer, stay: Stay) -> None:
    # A key of a second workspace of john's: it signs in to that workspace only.
    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=lockhub.url)
    other = john.workspaces.create(name=f"Other {next(_numbers)}", company_name="Other",
                                   is_sandbox=True)
    sign_in(page, lockhub, workspace=other.name)
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_label("Name").fill("Other")
    page.get_by_role("button", name="Create API key").click()
    key = page.locator("#new-key").inner_text()

    visitor = contexts.new().new_page()
    sign_in(visitor, lockhub, token=key)
    expect(visitor.locator("table.list")).to_have_count(0)  # no devices in that workspace
    lock = stay.locks["Front Door"]
    # The stay's device, code and webhook pages by URL: not found.
    code = stay.seam.access_codes.create(device_id=lock.device_id, code="4545")
    for path in (f"/devices/{lock.device_id}", f"/access_codes/{code.access_code_id}"):
        visitor.goto(f"{lockhub.url}/console{path}")
        expect(visitor.get_by_role("heading", level=1)).to_have_text("Not found")
    # No switching into it, even with a valid form token.
    answer = visitor.context.request.post(
        f"{lockhub.url}/console/workspaces/switch", max_redirects=0,
        form={"form_token": form_token(visitor), "workspace_id": stay.workspace_id})
    assert answer.status == 404
    # Nor unlocking it with a forged post.
    answer = visitor.context.request.post(
        f"{lockhub.url}/console/devices/{lock.device_id}/unlock", max_redirects=0,
        form={"form_token": form_token(visitor)})
    assert answer.status == 404
    assert not [e for e in stay.seam.events.list(device_id=lock.device_id,
                                                   since="2000-01-01T00:00:00Z")
                if e.event_type == "lock.unlocked"]
    visitor.goto(f"{lockhub.url}/console/workspaces")
    expect(visitor.locator("ul.rows li")).to_have_count(1)
    expect(visitor.locator("ul.rows")).not_to_contain_text(stay.name)


# --- layout ----------------------------------------------------------------------------------


def test_phone_layout(contexts: Contexts, lockhub: LockhubServer, stay: Stay,
                      screenshots: Path) -> None:
    phone: BrowserContext = contexts.new(PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    sign_in(page, lockhub, workspace=stay.name)
    no_horizontal_scroll(page)
    # Table cells are labelled by their column when stacked.
    expect(page.locator("td[data-label=State]").first).to_be_visible()
    page.screenshot(path=screenshots / "console-phone-devices.png", full_page=True)
    open_device(page, "Front Door")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="New access code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New access code")
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Sandbox", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox")
    no_horizontal_scroll(page)


def test_every_field_has_a_label_and_assets_are_local(console: Page, lockhub: LockhubServer,
                                                      stay: Stay) -> None:
    for path in ("/devices", "/access_codes/new", "/webhooks", "/sandbox", "/keys", "/events"):
        console.goto(f"{lockhub.url}/console{path}")
        unlabelled = console.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select')].filter(el => !el.labels.length
            && !el.getAttribute('aria-label')).map(el => el.name)""")
        assert unlabelled == [], f"{path}: fields without a label: {unlabelled}"
        sources = console.evaluate("""() => [...document.querySelectorAll(
            'script[src], link[href], img[src]')].map(el => el.src || el.href)""")
        assert all(s.startswith(lockhub.url + "/") for s in sources), sources
    # Keyboard: the skip link comes first.
    console.keyboard.press("Tab")
    assert console.evaluate("document.activeElement.textContent") == "Skip to content"


def test_a_workspace_outage_is_a_page_and_passes(console: Page, lockhub: LockhubServer,
                                                 stay: Stay) -> None:
    outage = {"workspace_id": stay.workspace_id, "routes": ["/workspaces/get"]}
    httpx.post(f"{lockhub.url}/_fake/simulate_workspace_outage", json=outage).raise_for_status()
    console.reload()
    expect(console.get_by_role("heading", level=1)).to_have_text("Workspace unavailable")
    httpx.post(f"{lockhub.url}/_fake/simulate_workspace_outage_recovery",
               json={"workspace_id": stay.workspace_id}).raise_for_status()
    console.reload()  # still signed in
    expect(console.get_by_role("heading", level=1)).to_have_text("Devices")


def test_a_generated_time_bound_code_waits_for_its_start(console: Page, lockhub: LockhubServer,
                                                         stay: Stay) -> None:
    lock = stay.locks["Storage Room"]  # 4 to 9 digits
    console.goto(f"{lockhub.url}/console/access_codes/new?device_id={lock.device_id}")
    console.get_by_label("Name", exact=True).fill("Next week")
    console.get_by_label("Between two times").check()
    console.get_by_label("Starts (UTC)").fill("2031-01-10T15:00")
    console.get_by_label("Ends (UTC)").fill("2031-01-12T11:00")
    console.get_by_role("button", name="Create access code").click()

    expect(console.get_by_role("heading", level=1)).to_have_text("Next week")
    expect(console.locator("#code-status .status")).to_have_text("Unset")
    expect(console.locator("#code-status")).to_contain_text("scheduled")
    code = stay.seam.access_codes.list(device_id=lock.device_id)[0]
    assert code.code and len(code.code) in range(4, 10)  # generated within the lock's rules
    expect(console.locator("dl.facts")).to_contain_text(code.code)
    assert (code.status, code.starts_at[:16]) == ("unset", "2031-01-10T15:00")


def test_a_code_the_lock_refuses_shows_why(console: Page, lockhub: LockhubServer,
                                           stay: Stay) -> None:
    lock = stay.locks["Storage Room"]
    httpx.post(f"{lockhub.url}/_lockhub/sandbox/devices/inject_failure",
               headers={"Authorization": f"Bearer {PAT}", "Seam-Workspace": stay.workspace_id},
               json={"device_id": lock.device_id, "error_type": "device_offline",
                     "count": 1000, "operations": ["set_code"],
                     "message": "The lock did not answer."}).raise_for_status()
    code = stay.seam.access_codes.create(device_id=lock.device_id, code="2580", name="Guest")
    console.goto(f"{lockhub.url}/console/access_codes/{code.access_code_id}")
    # The page follows the code until the lock's refusal shows, with the reason.
    problem = console.locator("#code-status .error, #code-status .warning")
    expect(problem.first).to_be_visible()
    shown = console.locator("#code-status").inner_text()
    current = stay.seam.access_codes.get(access_code_id=code.access_code_id)
    reasons = [p.message for p in (*current.errors, *current.warnings)]
    assert reasons and any(reason in shown for reason in reasons), (shown, reasons)


AXE = Path(__file__).parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (scripts/test-deps.sh)")
def test_pages_pass_axe_accessibility_checks(contexts: Contexts, lockhub: LockhubServer,
                                             stay: Stay) -> None:
    """axe-core's WCAG 2 A and AA rules (labels, contrast, roles, names, landmarks) on every
    kind of page, on a desktop and a phone screen. (The context lets the test inject axe past
    the pages' CSP, which allows no script but lockhub's.)"""
    console = contexts.new(bypass_csp=True).new_page()
    sign_in(console, lockhub, workspace=stay.name)
    lock = stay.locks["Front Door"]
    code = stay.seam.access_codes.create(device_id=lock.device_id, code="4567", name="Guest")
    paths = ["/devices", f"/devices/{lock.device_id}", "/access_codes",
             f"/access_codes/{code.access_code_id}", f"/access_codes/new?device_id="
             f"{lock.device_id}", "/accounts", "/events", "/webhooks", "/sandbox", "/keys",
             "/workspaces"]
    found: dict[str, list[str]] = {}
    for viewport in ({"width": 900, "height": 1000}, PHONE):
        console.set_viewport_size(viewport)
        for path in paths:
            console.goto(f"{lockhub.url}/console{path}")
            console.add_script_tag(path=str(AXE))
            violations = console.evaluate("""async () => (await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
            })).violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)""")
            if violations:
                found[f"{path} at {viewport['width']}px"] = violations
    # The sign-in page, signed out.
    signed_out = contexts.new(bypass_csp=True).new_page()
    signed_out.goto(f"{lockhub.url}/console/sign_in")
    signed_out.add_script_tag(path=str(AXE))
    violations = signed_out.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
    })).violations.map(v => v.id)""")
    if violations:
        found["/sign_in"] = violations
    assert not found, found
