"""The Connect Webview pages in Chromium: an end user picks a brand, signs in with a documented
sandbox account, and lands back on the integrator's redirect URL; the SDK then sees the
authorized webview, the new connected account and its locks.

Also: wrong credentials, the brand search, a phone-sized screen, labels on every field, the
message to an embedding page, and the pages without JavaScript. The tests write the
screenshots in docs/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, PHONE, App, Contexts, no_horizontal_scroll

if not CHROMIUM.exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (scripts/system-deps.sh installs it)",
                allow_module_level=True)

from playwright.sync_api import FrameLocator, Page, expect  # noqa: E402
from seam import Seam  # noqa: E402

from lockhub.catalogue import brands, credential_kinds  # noqa: E402
from lockhub.providers.sandbox.provider import test_accounts as sandbox_accounts  # noqa: E402
from tests.conformance.helpers import wait_until  # noqa: E402
from tests.server import LockhubServer  # noqa: E402

ACCEPTED = ["ttlock", "wyze", "august", "yale", "schlage", "nuki", "kwikset", "igloohome"]
WRONG_CREDENTIALS = "These are not valid sandbox credentials for this provider."


# --- helpers ---------------------------------------------------------------------------------


def create_webview(seam: Seam, app: App) -> Any:
    webview = seam.connect_webviews.create(accepted_providers=ACCEPTED,
                                           custom_redirect_url=app.redirect_url)
    assert webview.status == "pending"
    return webview


def open_brand(page: Page, url: str, provider: str) -> None:
    """Open the webview's picker and choose a brand."""
    page.goto(url)
    page.locator(f"a[data-provider={provider}]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Sign in to {brands()[provider].display_name}")


def fill_fields(page: Page, values: dict[str, str]) -> None:
    """Fill the form by each field's label, as a person (or a screen reader user) finds it."""
    # The sandbox's forms (production sign-in forms label their fields for their brand).
    sandbox_kinds = [credential_kinds()[b.credentials] for b in brands().values()]
    fields = {f.name: f for kind in sandbox_kinds for f in [*kind.fields, *kind.second_factor]}
    for name, value in values.items():
        page.get_by_label(fields[name].label, exact=True).fill(value)



def assert_connected(seam: Seam, webview_id: str, provider: str) -> Any:
    """What the integrator's backend sees once the user is back: the webview authorized, one
    connected account of the brand, and exactly that test account's locks."""
    webview = seam.connect_webviews.get(connect_webview_id=webview_id)
    assert (webview.status, webview.login_successful) == ("authorized", True)
    assert webview.selected_provider == provider
    assert webview.authorized_at
    account = seam.connected_accounts.get(connected_account_id=webview.connected_account_id)
    assert account.account_type == provider
    assert [a.connected_account_id for a in seam.connected_accounts.list()] == [
        account.connected_account_id]
    expected = sorted(d["name"] for d in sandbox_accounts()[provider][0]["devices"])
    locks = wait_until(
        lambda: (found := seam.locks.list(connected_account_id=account.connected_account_id))
        and len(found) == len(expected) and found,
        message=f"the {provider} test account's locks")
    assert {lock.device_type for lock in locks} == {brands()[provider].device_type}
    assert sorted(lock.display_name for lock in locks) == expected
    assert {lock.connected_account_id for lock in locks} == {account.connected_account_id}
    return webview


# --- signing in ------------------------------------------------------------------------------


def test_ttlock_sign_in_returns_to_the_app_with_the_account_connected(
        page: Page, sandbox: Seam, app: App) -> None:
    webview = create_webview(sandbox, app)
    open_brand(page, webview.url, "ttlock")
    fill_fields(page, {"email": "jane@example.com", "password": "1234"})
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(app.redirect_url)
    expect(page.get_by_role("heading", name="Back in the app")).to_be_visible()
    assert_connected(sandbox, webview.connect_webview_id, "ttlock")

    # The link is spent: opening it again says so instead of offering another sign-in.
    page.goto(webview.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Already connected")
    expect(page.locator("form")).to_have_count(0)


def test_wyze_sign_in_with_the_api_key_form(page: Page, sandbox: Seam, app: App) -> None:
    webview = create_webview(sandbox, app)
    open_brand(page, webview.url, "wyze")
    expect(page.locator("form input:not([type=hidden])")).to_have_count(4)
    # Any @example.com address signs in to the Wyze test account.
    fill_fields(page, {"api_key_id": "ABC123ABC", "api_key": "ABC123ABC",
                       "email": "sam@example.com", "password": "1234"})
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(app.redirect_url)
    assert_connected(sandbox, webview.connect_webview_id, "wyze")


def test_august_sign_in_asks_for_the_verification_code(
        page: Page, sandbox: Seam, app: App, screenshots: Path) -> None:
    webview = create_webview(sandbox, app)
    open_brand(page, webview.url, "august")
    fill_fields(page, {"email": "jane@example.com", "password": "1234"})
    page.get_by_label("Region").select_option("North America")
    page.screenshot(path=screenshots / "connect-webview-sign-in.png", full_page=True)
    page.get_by_role("button", name="Sign in").click()

    code = page.get_by_label("Verification code", exact=True)
    expect(code).to_be_focused()
    expect(page.get_by_text("We sent a verification code to your phone.")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_count(0)
    page.screenshot(path=screenshots / "connect-webview-second-factor.png", full_page=True)
    pending = sandbox.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (pending.status, pending.connected_account_id) == ("pending", None)
    assert sandbox.connected_accounts.list() == []

    # A wrong code asks again on the same step; the right one then connects.
    code.fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("That verification code is not valid.")
    fill_fields(page, {"two_factor_code": "123456"})
    page.get_by_role("button", name="Verify").click()

    page.wait_for_url(app.redirect_url)
    assert_connected(sandbox, webview.connect_webview_id, "august")


def test_wrong_password_stays_on_the_form_and_stores_nothing(
        page: Page, sandbox: Seam, app: App) -> None:
    webview = create_webview(sandbox, app)
    open_brand(page, webview.url, "ttlock")
    fill_fields(page, {"email": "jane@example.com", "password": "9999"})
    page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(WRONG_CREDENTIALS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to TTLock")
    email, password = (page.get_by_label(label, exact=True) for label in ("Email", "Password"))
    expect(email).to_have_value("jane@example.com")
    expect(password).to_have_value("")
    expect(password).to_have_attribute("aria-describedby", "form-error")
    assert not page.url.startswith(app.origin)
    still = sandbox.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (still.status, still.login_successful, still.connected_account_id) == (
        "pending", False, None)
    assert sandbox.connected_accounts.list() == []
    assert sandbox.devices.list() == []

    # Fixing the typo on the same page still works.
    password.fill("1234")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(app.redirect_url)
    assert_connected(sandbox, webview.connect_webview_id, "ttlock")


# --- the picker and the layout ---------------------------------------------------------------


def test_a_webview_without_a_brand_list_offers_every_sandbox_brand_with_its_logo(
        page: Page, sandbox: Seam, app: App, screenshots: Path) -> None:
    webview = sandbox.connect_webviews.create(custom_redirect_url=app.redirect_url)
    page.goto(webview.url)
    tiles = page.locator("a[data-provider]")
    expect(tiles.first).to_be_visible()
    offered = tiles.evaluate_all("links => links.map(a => a.dataset.provider)")
    assert offered == [key for key in brands() if sandbox_accounts().get(key)]
    assert len(offered) >= 20
    # Every tile shows its brand's logo tile and name.
    for key in offered:
        tile = page.locator(f"a[data-provider={key}]")
        expect(tile.locator("svg.logo")).to_be_visible()
        expect(tile.locator("span")).to_have_text(brands()[key].display_name)
    page.screenshot(path=screenshots / "connect-webview-picker.png", full_page=True)


def test_picker_lists_the_accepted_brands_and_filters_them(
        page: Page, sandbox: Seam, app: App) -> None:
    webview = create_webview(sandbox, app)
    page.goto(webview.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect your account")
    expect(page.get_by_text("Acme Rentals")).to_be_visible()
    tiles = page.locator("a[data-provider]")
    expect(tiles).to_have_count(len(ACCEPTED))
    assert tiles.evaluate_all("links => links.map(a => a.dataset.provider)") == ACCEPTED

    search = page.get_by_label("Search brands")
    search.fill("wy")
    expect(tiles.filter(visible=True)).to_have_count(1)
    expect(page.locator("a[data-provider=wyze]")).to_be_visible()
    search.fill("LOCK")  # case-insensitive: TTLock
    expect(tiles.filter(visible=True)).to_have_count(1)
    expect(page.locator("a[data-provider=ttlock]")).to_be_visible()
    search.fill("no such brand")
    expect(tiles.filter(visible=True)).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("No brand matches your search.")
    search.fill("")
    expect(tiles.filter(visible=True)).to_have_count(len(ACCEPTED))
    expect(page.get_by_role("status")).to_have_text("")

    # A filtered tile is still a working link, named by its brand alone.
    search.fill("aug")
    page.get_by_role("link", name="August", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to August")


def test_pages_fit_a_phone_screen(contexts: Contexts, sandbox: Seam, app: App) -> None:
    page = contexts.new(viewport=PHONE, is_mobile=True, has_touch=True,
                        device_scale_factor=2).new_page()
    webview = create_webview(sandbox, app)
    page.goto(webview.url)
    no_horizontal_scroll(page)
    for tile in page.locator("a[data-provider]").all():
        box = tile.bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 44, "tiles are easy to tap"

    page.locator("a[data-provider=wyze]").tap()
    expect(page.get_by_label("API key ID", exact=True)).to_be_visible()
    no_horizontal_scroll(page)
    fill_fields(page, {"api_key_id": "ABC123ABC", "api_key": "nope",
                       "email": "sam@example.com", "password": "1234"})
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_role("alert")).to_have_text(WRONG_CREDENTIALS)
    no_horizontal_scroll(page)

    page.goto(webview.url)
    page.locator("a[data-provider=august]").tap()
    fill_fields(page, {"email": "jane@example.com", "password": "1234"})
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_label("Verification code", exact=True)).to_be_visible()
    no_horizontal_scroll(page)


def test_every_form_field_has_a_label(page: Page, lockhub: LockhubServer, sandbox: Seam,
                                      app: App) -> None:
    """One brand of each credential kind the sandbox offers: every control is labelled, and
    the label finds it."""
    webview = sandbox.connect_webviews.create(custom_redirect_url=app.redirect_url)
    kinds: dict[str, str] = {}
    for key in webview.accepted_providers:
        kinds.setdefault(brands()[key].credentials, key)
    assert {"email_password", "email_password_2fa", "api_key"} <= set(kinds)

    page.goto(webview.url)
    unlabelled = page.locator("input:not([type=hidden]), select").evaluate_all(
        "els => els.filter(e => !e.labels.length).map(e => e.outerHTML)")
    assert unlabelled == []
    for key in webview.accepted_providers:  # each tile's accessible name is the brand's name
        expect(page.get_by_role("link", name=brands()[key].display_name, exact=True)
               ).to_have_attribute("data-provider", key)
    for credentials, key in kinds.items():
        page.goto(f"{webview.url}&provider={key}")
        kind = credential_kinds()[credentials]
        unlabelled = page.locator("form input:not([type=hidden]), form select").evaluate_all(
            "els => els.filter(e => ![...e.labels].some(l => l.textContent.trim()))"
            ".map(e => e.name)")
        assert unlabelled == [], f"{key}: controls without a label"
        controls = [*kind.fields, *kind.choices]
        expect(page.locator("form input:not([type=hidden]), form select")).to_have_count(
            len(controls))
        for control in controls:
            expect(page.get_by_label(control.label, exact=True)).to_have_attribute(
                "name", control.name)


# --- embedding and no JavaScript -------------------------------------------------------------


def embedding(webview_url: str) -> str:
    """An app page that frames the webview and keeps every message it hears."""
    return f"""<!doctype html><title>Acme app</title>
<script>
  window.messages = [];
  addEventListener("message", e => window.messages.push({{origin: e.origin, data: e.data}}));
</script>
<iframe title="Connect your lock" src="{webview_url}" width="420" height="800"></iframe>"""


def sign_in_framed(page: Page) -> FrameLocator:
    frame = page.frame_locator("iframe")
    frame.locator("a[data-provider=ttlock]").click()
    frame.get_by_label("Email", exact=True).fill("jane@example.com")
    frame.get_by_label("Password", exact=True).fill("1234")
    frame.get_by_role("button", name="Sign in").click()
    return frame


def test_embedded_webview_tells_the_parent_page(page: Page, lockhub: LockhubServer,
                                                 sandbox: Seam, app: App) -> None:
    webview = create_webview(sandbox, app)
    app.pages["/embed"] = embedding(webview.url)
    page.goto(f"{app.origin}/embed")
    frame = sign_in_framed(page)

    page.wait_for_function("window.messages.length > 0")
    connected = assert_connected(sandbox, webview.connect_webview_id, "ttlock")
    assert page.evaluate("window.messages") == [{
        "origin": lockhub.url,
        "data": {"event": "connect_webview.login_succeeded",
                 "connect_webview_id": webview.connect_webview_id,
                 "connected_account_id": connected.connected_account_id}}]
    # The frame itself then follows the redirect URL.
    expect(frame.get_by_role("heading", name="Back in the app")).to_be_visible()
    assert [f.url for f in page.frames if f != page.main_frame] == [app.redirect_url]


def test_a_page_of_another_site_framing_the_webview_does_not_hear_the_result(
        contexts: Contexts, sandbox: Seam, app: App) -> None:
    """The result goes to the redirect URL's origin only: another site that frames the
    webview (made for the app) sees the sign-in happen but is told nothing."""
    other = App()
    try:
        contexts.origins.append(other.origin)
        page = contexts.new().new_page()
        webview = create_webview(sandbox, app)
        other.pages["/embed"] = embedding(webview.url)
        page.goto(f"{other.origin}/embed")
        frame = sign_in_framed(page)
        # The result page has run (it posts, then moves on to the app's redirect URL).
        expect(frame.get_by_role("heading", name="Back in the app")).to_be_visible()
        assert_connected(sandbox, webview.connect_webview_id, "ttlock")
        assert page.evaluate("window.messages") == []
    finally:
        other.stop()


def test_pages_work_without_javascript(contexts: Contexts, sandbox: Seam, app: App) -> None:
    page = contexts.new(java_script_enabled=False).new_page()
    webview = create_webview(sandbox, app)
    open_brand(page, webview.url, "ttlock")
    fill_fields(page, {"email": "jane@example.com", "password": "1234"})
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Connected")
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(app.redirect_url)
    assert_connected(sandbox, webview.connect_webview_id, "ttlock")
