"""Seam Components (`@seamapi/react` 4.14.2, its framework-free elements build) in Chromium
against lockhub, unchanged: a page of the integrator's app (its own origin) loads
`dist/elements.js` and the stylesheet from its own server (tests/seam_components/node_modules,
installed by scripts/test-deps.sh) and points the elements at lockhub with `endpoint` and a
client session token the backend created with the official `seam` SDK.

The device table lists the session's locks, the access code table a lock's codes, the create
form creates a code, the device details lock and unlock the door, the supported-devices table
lists lockhub's catalogue, and the connect-account button signs an account in through lockhub's
Connect Webview and back. What the elements send besides Seam's API is answered too: every
telemetry message (`/internal/tlmtry`) gets a 200, and no request lockhub answers is an error.
The contexts let CORS preflights reach lockhub (no interception) and fail the test on any
request to another origin (the stylesheet and fonts the elements would inject from
react.seam.co and Google Fonts are switched off; the page links the package's own).
Screenshots go to docs/screenshots/seam-components-*.png.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, App, Contexts

SEAM_COMPONENTS = Path(__file__).resolve().parents[1] / "seam_components" / "node_modules"
ELEMENTS = SEAM_COMPONENTS / "@seamapi" / "react" / "dist" / "elements.js"

if not CHROMIUM.exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (scripts/system-deps.sh installs it)",
                allow_module_level=True)
if not ELEMENTS.exists():
    pytest.skip(f"Seam Components are not installed at {ELEMENTS} (scripts/test-deps.sh)",
                allow_module_level=True)

import httpx  # noqa: E402
from playwright.sync_api import Page, Response, expect  # noqa: E402
from seam import Seam  # noqa: E402

from lockhub.catalogue import brands  # noqa: E402
from lockhub.providers.sandbox.provider import test_accounts as sandbox_accounts  # noqa: E402
from tests.conformance.helpers import wait_until  # noqa: E402
from tests.server import LockhubServer  # noqa: E402

# The app's page: the package's stylesheet and elements build from the app's own server.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Acme Rentals: your doors</title>
<link rel="stylesheet" href="/seam/@seamapi/react/dist/index.min.css">
<script>
  globalThis.disableSeamCssInjection = true
  globalThis.disableSeamFontInjection = true
</script>
<script type="module" src="/seam/@seamapi/react/dist/elements.js"></script>
<style>body { font-family: system-ui, sans-serif; margin: 24px; }</style>
</head>
<body>
<h1>Acme Rentals</h1>
%s
</body>
</html>
"""


@dataclass
class Traffic:
    """What lockhub answered the page: every response, and the telemetry ones."""

    lockhub: str
    answers: list[tuple[int, str, str]] = field(default_factory=list)  # status, method, path
    bodies: dict[str, Any] = field(default_factory=dict)  # path -> the last JSON body sent

    def record(self, response: Response) -> None:
        if response.url.startswith(self.lockhub + "/"):
            path = response.url.removeprefix(self.lockhub).split("?")[0]
            self.answers.append((response.status, response.request.method, path))
            if response.request.method == "POST" and response.request.post_data:
                with contextlib.suppress(ValueError):
                    self.bodies[path] = json.loads(response.request.post_data)

    def telemetry(self) -> list[int]:
        return [status for status, method, path in self.answers
                if path == "/internal/tlmtry" and method == "POST"]

    def errors(self) -> list[tuple[int, str, str]]:
        return [answer for answer in self.answers if answer[0] >= 400]


@dataclass
class Doors:
    """A sandbox workspace with the August test account's locks, and a client session for
    them (as the integrator's backend makes one)."""

    seam: Seam
    account_id: str
    token: str
    devices: dict[str, str]  # display name -> device id


@pytest.fixture
def doors(sandbox: Seam, lockhub: LockhubServer) -> Doors:
    webview = sandbox.connect_webviews.create(accepted_providers=["august"])
    # The fake's hook signs the webview in with the documented test account.
    completed = httpx.post(f"{lockhub.url}/_fake/complete_connect_webview",
                           json={"connect_webview_id": webview.connect_webview_id})
    assert completed.status_code == 200, completed.text
    account_id = completed.json()["connect_webview"]["connected_account_id"]
    expected = {d["name"] for d in sandbox_accounts()["august"][0]["devices"]}
    found = wait_until(lambda: (locks := sandbox.locks.list()) and len(locks) == len(expected)
                       and locks, message="the August test account's locks")
    session = sandbox.client_sessions.create(user_identifier_key=f"guest-{uuid.uuid4()}",
                                             connected_account_ids=[account_id])
    return Doors(seam=sandbox, account_id=account_id, token=session.token,
                 devices={d.display_name: d.device_id for d in found})


def element(name: str, lockhub: LockhubServer, token: str, **attributes: str) -> str:
    attrs = " ".join(f'{key.replace("_", "-")}="{value}"' for key, value in
                     {"endpoint": lockhub.url, "client_session_token": token,
                      **attributes}.items())
    return f"<{name} {attrs}></{name}>"


def open_app(contexts: Contexts, app: App, traffic: Traffic, body: str,
             path: str = "/doors") -> Page:
    """The app's page with `body`, in a context whose preflights reach lockhub."""
    app.static["/seam/"] = SEAM_COMPONENTS
    app.pages[path] = PAGE % body
    page = contexts.new(intercept=False).new_page()
    page.on("response", traffic.record)
    page.goto(f"{app.origin}{path}")
    return page


@pytest.fixture
def traffic(lockhub: LockhubServer) -> Any:
    """Checked after each test: telemetry was sent and answered 200, and lockhub answered
    nothing the page asked with an error."""
    seen = Traffic(lockhub.url)
    yield seen
    assert seen.telemetry() and set(seen.telemetry()) == {200}, seen.answers
    assert seen.errors() == [], seen.errors()


# --- the tests -------------------------------------------------------------------------------


def test_device_table_lists_the_sessions_locks(contexts: Contexts, app: App, doors: Doors,
                                               lockhub: LockhubServer, traffic: Traffic,
                                               screenshots: Path) -> None:
    page = open_app(contexts, app, traffic,
                    element("seam-device-table", lockhub, doors.token))
    for name, device_id in doors.devices.items():
        device = doors.seam.devices.get(device_id=device_id)
        row = page.locator(".seam-table-row").filter(has_text=name)
        expect(row).to_be_visible()
        expect(row).to_contain_text(device.properties.model.display_name)
        expect(row).to_contain_text("Locked" if device.properties.locked else "Unlocked")
        # The lock's image is lockhub's own brand tile.
        expect(row.locator("img").first).to_have_attribute(
            "src", f"{lockhub.url}/_lockhub/images/brands/august.svg")
    expect(page.get_by_text(f"Devices ({len(doors.devices)})")).to_be_visible()
    # Every image on the page loaded (the tiles come from lockhub).
    expect(page.locator("img")).not_to_have_count(0)
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    expect(page.get_by_text("Loading devices")).to_be_hidden()
    page.screenshot(path=screenshots / "seam-components-device-table.png", full_page=True)


def test_access_code_table_lists_a_locks_codes(contexts: Contexts, app: App, doors: Doors,
                                               lockhub: LockhubServer,
                                               traffic: Traffic) -> None:
    device_id = doors.devices["FRONT DOOR"]
    created = [doors.seam.access_codes.create(device_id=device_id, name=name, code=code)
               for name, code in (("Cleaning crew", "4821"), ("Dog walker", "7310"))]
    page = open_app(contexts, app, traffic, element(
        "seam-access-code-table", lockhub, doors.token, device_id=device_id))
    for code in created:
        expect(page.locator(".seam-table-row").filter(has_text=code.name)).to_be_visible()
    expect(page.get_by_text(f"Access Codes ({len(created)})")).to_be_visible()


def test_create_access_code_form_creates_a_code(contexts: Contexts, app: App, doors: Doors,
                                                lockhub: LockhubServer, traffic: Traffic,
                                                screenshots: Path) -> None:
    device_id = doors.devices["BACK DOOR"]
    page = open_app(contexts, app, traffic, element(
        "seam-create-access-code-form", lockhub, doors.token, device_id=device_id))
    # The form's labels are not tied to its inputs (the package's markup); its inputs are
    # named after the parameters.
    expect(page.get_by_text("Name the new code")).to_be_visible()
    page.locator("input[name=name]").fill("Plumber")
    code = page.locator("input[name=code]")
    code.fill("2468")
    # "Generate code" asks lockhub for a PIN this lock accepts.
    page.get_by_role("button", name="Generate code").click()
    expect(code).not_to_have_value("2468")
    expect(code).to_have_value(re.compile(r"^[0-9]{4,8}$"))
    pin = code.input_value()
    page.screenshot(path=screenshots / "seam-components-create-access-code.png",
                    full_page=True)
    page.get_by_role("button", name="Save").click()

    codes = wait_until(lambda: [c for c in doors.seam.access_codes.list(device_id=device_id)
                                if c.name == "Plumber"], message="the form's access code")
    assert [(c.code, c.type) for c in codes] == [(pin, "ongoing")]
    wait_until(lambda: doors.seam.access_codes.get(
        access_code_id=codes[0].access_code_id).status == "set",
        message="the code to be set on the lock")


def test_device_details_unlock_and_lock_the_door(contexts: Contexts, app: App, doors: Doors,
                                                 lockhub: LockhubServer, traffic: Traffic,
                                                 screenshots: Path) -> None:
    device_id = doors.devices["FRONT DOOR"]
    assert doors.seam.devices.get(device_id=device_id).properties.locked is True
    page = open_app(contexts, app, traffic, element(
        "seam-device-details", lockhub, doors.token, device_id=device_id))
    status = page.locator(".seam-lock-status")
    expect(status).to_contain_text("Locked")

    status.get_by_role("button", name="Unlock").click()
    wait_until(lambda: doors.seam.devices.get(device_id=device_id).properties.locked is False,
               message="the door to be unlocked")
    expect(status).to_contain_text("Unlocked")
    expect(status.get_by_role("button", name="Lock")).to_be_visible()
    page.screenshot(path=screenshots / "seam-components-device-details.png", full_page=True)

    status.get_by_role("button", name="Lock").click()
    wait_until(lambda: doors.seam.devices.get(device_id=device_id).properties.locked is True,
               message="the door to be locked again")
    expect(status.get_by_role("button", name="Unlock")).to_be_visible()
    attempts = doors.seam.action_attempts.list(device_id=device_id)
    assert sorted((a.action_type, a.status) for a in attempts) == [
        ("LOCK_DOOR", "success"), ("UNLOCK_DOOR", "success")]


def test_supported_device_table_lists_the_catalogue(contexts: Contexts, app: App,
                                                    doors: Doors, lockhub: LockhubServer,
                                                    traffic: Traffic,
                                                    screenshots: Path) -> None:
    """Every brand this (sandbox) workspace can connect, with its models, marked LIVE;
    brands it cannot connect (the radio providers are production-only) are hidden, as
    the table hides unsupported manufacturers by default."""
    connectable = {p.device_provider_name for p in doors.seam.devices.list_device_providers()}
    page = open_app(contexts, app, traffic, element(
        "seam-supported-device-table", lockhub, doors.token))
    sections = page.locator(".seam-manufacturer-section")
    expect(sections).to_have_count(len(connectable))
    for key in connectable:
        brand = brands()[key]
        section = sections.filter(has_text=f"{brand.display_name} Devices")
        expect(section).to_have_count(1)
        shown = list(brand.models.values())[:3]  # the table folds sections after three
        for model in shown:
            expect(section.get_by_text(model.display_name, exact=True)).to_be_visible()
    for key in set(brands()) - connectable:
        expect(page.get_by_text(f"{brands()[key].display_name} Devices")).to_have_count(0)
    expect(page.locator(".seam-status-pill").first).to_have_text("LIVE")

    # The search goes to lockhub (text_search) and narrows the table to one brand.
    page.get_by_placeholder("Search").fill("nuki")
    expect(sections).to_have_count(1)
    expect(sections).to_contain_text("Nuki Devices")
    page.get_by_placeholder("Search").fill("")
    expect(sections).to_have_count(len(connectable))
    page.screenshot(path=screenshots / "seam-components-supported-devices.png")


def test_connect_account_button_signs_in_through_lockhub_and_back(
        contexts: Contexts, app: App, sandbox: Seam, lockhub: LockhubServer,
        traffic: Traffic) -> None:
    """A user with no account yet: the button creates a Connect Webview with the session,
    the browser goes to lockhub's sign-in page and comes back to the app, whose device table
    then lists the new account's locks."""
    session = sandbox.client_sessions.create(user_identifier_key=f"new-{uuid.uuid4()}")
    body = (element("seam-connect-account-button", lockhub, session.token)
            + element("seam-device-table", lockhub, session.token))
    page = open_app(contexts, app, traffic, body)
    expect(page.get_by_text("Devices (0)")).to_be_visible()
    page.get_by_role("button", name="Connect Account").click()

    page.wait_for_url(f"{lockhub.url}/connect_webviews/view?**")
    page.locator("a[data-provider=ttlock]").click()
    login = sandbox_accounts()["ttlock"][0]["login"]
    page.get_by_label("Email", exact=True).fill(login["email"])
    page.get_by_label("Password", exact=True).fill(login["password"])
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{app.origin}/doors**")
    names = sorted(d["name"] for d in sandbox_accounts()["ttlock"][0]["devices"])
    for name in names:
        expect(page.locator(".seam-table-row").filter(has_text=name)).to_be_visible()
    [webview] = sandbox.connect_webviews.list()
    assert (webview.status, webview.selected_provider) == ("authorized", "ttlock")
    # The component tags the webview with its session, once it has read the session (a click
    # before that sends nulls, which Seam drops): lockhub keeps what it sent.
    sent = traffic.bodies["/connect_webviews/create"]["custom_metadata"]
    assert set(sent) == {"client_session_id", "user_identifier_key"}
    assert sent["client_session_id"] in (session.client_session_id, None)
    assert webview.custom_metadata == {k: v for k, v in sent.items() if v is not None}
    assert sorted(d.display_name for d in sandbox.devices.list()) == names
