"""CORS in Chromium: a page of the integrator's app (its own origin, not lockhub's) calls
lockhub with `fetch`, as Seam's JavaScript SDK does in a browser.

With a client session token the page reads the devices it was granted and the request id
header; the Authorization header makes each call preflighted, so lockhub's preflight answer is
what lets it through. With an API key the browser refuses the answer (the fetch rejects): API
keys must not live in a page. A publishable key gets or creates the user's session from the
page. The contexts here do not intercept requests (Playwright would answer the preflights
itself), so every preflight reaches lockhub.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, App, Contexts

if not CHROMIUM.exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (scripts/system-deps.sh installs it)",
                allow_module_level=True)

from playwright.sync_api import Page, Response  # noqa: E402
from seam import Seam  # noqa: E402

from tests.server import LockhubServer  # noqa: E402

# The seeded seed_workspace_1 (Seam's fake's seed): its API key, its publishable key and
# john's two August locks.
API_KEY = "seam_apikey1_token"
PUBLISHABLE_KEY = "seam_pk1_token"
FRONT_DOOR = "august_device_1"
BACK_DOOR = "august_device_2"
JANE_ACCOUNT = "jane_connected_account_id"

# The app's page: `call(path, headers, body)` POSTs JSON to lockhub and answers what the page
# could read ({status, request_id, body}), or {rejected} when fetch rejects.
APP_PAGE = """<!doctype html>
<title>Acme app</title>
<h1>Your doors</h1>
<script>
const LOCKHUB = %s;
async function call(path, headers, body) {
  try {
    const response = await fetch(LOCKHUB + path, {
      method: "POST",
      headers: {"content-type": "application/json", ...headers},
      body: JSON.stringify(body || {}),
    });
    return {status: response.status, request_id: response.headers.get("seam-request-id"),
            body: await response.json()};
  } catch (error) {
    return {rejected: `${error.name}: ${error.message}`};
  }
}
</script>
"""


@pytest.fixture
def seam(lockhub: LockhubServer) -> Seam:
    """The integrator's backend, on the seeded workspace (whose publishable key the page
    uses)."""
    return Seam(api_key=API_KEY, endpoint=lockhub.url)


@pytest.fixture
def app_page(contexts: Contexts, app: App, lockhub: LockhubServer) -> Page:
    """The app's page, loaded from the app's origin, in a context that lets preflights reach
    lockhub."""
    assert app.origin != lockhub.url
    app.pages["/doors"] = APP_PAGE % json.dumps(lockhub.url)
    page = contexts.new(intercept=False).new_page()
    page.goto(f"{app.origin}/doors")
    return page


def call(page: Page, path: str, headers: dict[str, str],
         body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate("([p, h, b]) => call(p, h, b)", [path, headers, body])
    return answer


def as_sdk(token: str) -> dict[str, str]:
    """The headers Seam's JavaScript SDK sends with a client session token."""
    return {"authorization": f"Bearer {token}", "client-session-token": token,
            "seam-sdk-name": "seamapi/javascript-http", "seam-sdk-version": "1.102.0",
            "seam-lts-version": "1.0.0"}


def granted_session(seam: Seam, *device_ids: str) -> Any:
    person = seam.user_identities.create(user_identity_key=f"user-{uuid.uuid4().hex}")
    for device_id in device_ids:
        seam.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                    device_id=device_id)
    return seam.client_sessions.create(user_identity_ids=[person.user_identity_id],
                                       user_identifier_key=f"user-{uuid.uuid4().hex}")


def test_a_page_reads_its_devices_with_a_client_session_token(
        app_page: Page, app: App, seam: Seam, lockhub: LockhubServer) -> None:
    jane_lock = seam.devices.list(connected_account_id=JANE_ACCOUNT)[0].device_id
    granted = {FRONT_DOOR, jane_lock}
    session = granted_session(seam, *granted)
    with app_page.expect_response(f"{lockhub.url}/devices/list") as seen:
        answer = call(app_page, "/devices/list", as_sdk(session.token))
    assert answer["status"] == 200, answer
    assert {d["device_id"] for d in answer["body"]["devices"]} == granted
    assert answer["request_id"].startswith("request_")  # exposed to the page
    response: Response = seen.value
    assert response.request.all_headers()["origin"] == app.origin
    headers = response.all_headers()
    assert headers["access-control-allow-origin"] == app.origin
    assert headers["access-control-allow-credentials"] == "true"
    assert "origin" in headers["vary"].lower()

    refused = call(app_page, "/devices/get", as_sdk(session.token),
                   {"device_id": BACK_DOOR})
    assert (refused["status"], refused["body"]["error"]["type"]) == (404, "device_not_found")
    assert refused["request_id"].startswith("request_")


def test_a_page_may_not_use_an_api_key(app_page: Page, seam: Seam) -> None:
    session = granted_session(seam, BACK_DOOR)
    # The same fetch succeeds with a session token, so the refusal below is CORS's.
    assert call(app_page, "/devices/list", as_sdk(session.token))["status"] == 200
    answer = call(app_page, "/devices/list", {"authorization": f"Bearer {API_KEY}"})
    assert answer == {"rejected": "TypeError: Failed to fetch"}


def test_lockhubs_preflight_decides_what_a_page_may_send(app_page: Page, seam: Seam) -> None:
    session = granted_session(seam, BACK_DOOR)
    # No preflight answer of lockhub's allows /webhooks/list: the page cannot even send it.
    assert call(app_page, "/webhooks/list", as_sdk(session.token)) == {
        "rejected": "TypeError: Failed to fetch"}
    # Nor a header it does not list (a preflight answered by anyone else would let it pass).
    assert call(app_page, "/devices/list", {**as_sdk(session.token), "x-acme-tenant": "7"}) == {
        "rejected": "TypeError: Failed to fetch"}


def test_a_page_gets_or_creates_its_session_with_the_publishable_key(
        app_page: Page, seam: Seam) -> None:
    key = f"user-{uuid.uuid4().hex}"
    answer = call(app_page, "/client_sessions/get_or_create",
                  {"seam-publishable-key": PUBLISHABLE_KEY}, {"user_identifier_key": key})
    assert answer["status"] == 200, answer
    session = answer["body"]["client_session"]
    assert session["user_identifier_key"] == key and session["device_count"] == 0
    assert seam.client_sessions.get(user_identifier_key=key).client_session_id == (
        session["client_session_id"])
    devices = call(app_page, "/devices/list", as_sdk(session["token"]))
    assert (devices["status"], devices["body"]["devices"]) == (200, [])
    again = call(app_page, "/client_sessions/get_or_create",
                 {"seam-publishable-key": PUBLISHABLE_KEY}, {"user_identifier_key": key})
    assert again["body"]["client_session"]["client_session_id"] == session["client_session_id"]
