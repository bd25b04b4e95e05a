"""Connect Webviews through the official SDK, and the pages behind their `url` driven the way a
browser would (httpx GET of the page, form-urlencoded POST of the sign-in form).

What an integrator relies on: the webview offers the brands asked for, the end user signs in
at its URL (one step, or two with a verification code), and afterwards the SDK shows the webview
authorized, the connected account (with the webview's metadata, customer key and settings), its
devices and the events. Wrong credentials store nothing; too many fail the webview; signing in
again through a new webview reconnects the same account; a production workspace connects
nothing with sandbox test credentials.

The module uses a server of its own. Tests that connect accounts do so in a sandbox workspace of
their own (created with john's personal access token), so "first connection" means what it says.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from seam import Seam, SeamHttpApiError, SeamHttpInvalidInputError, SeamWithoutWorkspace

from tests.conformance.helpers import EPOCH, PAT, SANDBOX_KEY, SANDBOX_WORKSPACE, raw
from tests.server import LockhubServer, start_server

TTLOCK_JANE = {"email": "jane@example.com", "password": "1234"}
TTLOCK_JANE_DEVICES = {"Office Lock", "Front Door", "Storage Room"}
AUGUST_JANE = {"email": "jane@example.com", "password": "1234", "region": "North America"}
TWO_FACTOR_CODE = "123456"
VIEW_PATH = "/connect_webviews/view"
MAX_FAILED_ATTEMPTS = 5


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def seam(own_server: LockhubServer) -> Seam:
    """The seeded sandbox workspace (workspace 1)."""
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def _new_workspace(server: LockhubServer, *, is_sandbox: bool) -> Seam:
    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=server.url)
    workspace = john.workspaces.create(name=f"Webviews {uuid.uuid4().hex[:8]}",
                                       is_sandbox=is_sandbox)
    assert workspace.is_sandbox is is_sandbox
    return Seam.from_personal_access_token(PAT, workspace.workspace_id, endpoint=server.url)


@pytest.fixture
def fresh(own_server: LockhubServer) -> Seam:
    """A new, empty sandbox workspace: nothing connected yet."""
    return _new_workspace(own_server, is_sandbox=True)


@pytest.fixture
def production(own_server: LockhubServer) -> Seam:
    """A new production workspace (is_sandbox false)."""
    return _new_workspace(own_server, is_sandbox=False)


# --------------------------------------------------------------------------- the end user's side


def token_of(webview: Any) -> str:
    return parse_qs(urlsplit(webview.url).query)["auth_token"][0]


def open_page(webview: Any, provider: str | None = None) -> httpx.Response:
    """GET the webview's URL as a browser opening it (and, given a brand, clicking its tile)."""
    url = webview.url if provider is None else f"{webview.url}&provider={provider}"
    return httpx.get(url, timeout=30)


def submit(server: LockhubServer, webview: Any, provider: str,
           auth_token: str | None = None, headers: dict[str, str] | None = None,
           **fields: str) -> httpx.Response:
    """POST the sign-in form (its hidden fields plus what the user typed)."""
    form = {"connect_webview_id": webview.connect_webview_id,
            "auth_token": token_of(webview) if auth_token is None else auth_token,
            "provider": provider, **fields}
    return httpx.post(f"{server.url}{VIEW_PATH}", data=form, headers=headers, timeout=30)


def brands_on(page: httpx.Response) -> list[str]:
    """The brand tiles the picker shows (their provider keys, in order)."""
    return re.findall(r'data-provider="([a-z0-9_]+)"', page.text)


def inputs_on(page: httpx.Response) -> set[str]:
    """Names of the visible inputs and choices of a form page (not the hidden ones)."""
    visible = re.findall(r'<(?:input|select)\b(?![^>]*type="hidden")[^>]*\bname="([a-z0-9_]+)"',
                         page.text)
    return set(visible)


def alert_on(page: httpx.Response) -> str | None:
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', page.text, re.S)
    return " ".join(found.group(1).split()) if found else None


def sign_in_ttlock(server: LockhubServer, webview: Any) -> httpx.Response:
    page = submit(server, webview, "ttlock", **TTLOCK_JANE)
    assert page.status_code == 200, page.text
    assert alert_on(page) is None, alert_on(page)
    return page


def event_types(seam: Seam, **filters: Any) -> list[str]:
    """Event types oldest first."""
    return [e.event_type for e in reversed(seam.events.list(since=EPOCH, **filters))]


def webview_ids(webviews: list[Any]) -> list[str]:
    return [w.connect_webview_id for w in webviews]


# --------------------------------------------------------------------------- create and the page


def test_create_with_defaults_offers_every_brand_the_workspace_can_connect(
    seam: Seam, own_server: LockhubServer,
) -> None:
    webview = seam.connect_webviews.create()
    assert webview.workspace_id == SANDBOX_WORKSPACE
    assert (webview.status, webview.login_successful) == ("pending", False)
    assert webview.connected_account_id is None and webview.authorized_at is None
    assert webview.selected_provider is None
    assert webview.any_provider_allowed is True
    assert webview.custom_metadata == {} and webview.customer_key is None
    assert webview.custom_redirect_url is None and webview.custom_redirect_failure_url is None
    assert webview.automatically_manage_new_devices is True
    assert webview.wait_for_device_creation is False
    assert webview.device_selection_mode == "none"
    assert "lock" in webview.accepted_capabilities
    providers = {p.device_provider_name for p in seam.devices.list_device_providers()}
    assert {"ttlock", "august", "yale", "schlage"} <= providers
    assert set(webview.accepted_providers) == providers

    url = urlsplit(webview.url)
    assert f"{url.scheme}://{url.netloc}" == own_server.url and url.path == VIEW_PATH
    assert parse_qs(url.query)["connect_webview_id"] == [webview.connect_webview_id]
    page = open_page(webview)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert set(brands_on(page)) == providers
    assert seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id) == webview


def test_accepted_providers_category_exclusions_and_capabilities_choose_the_brands(
    seam: Seam,
) -> None:
    chosen = seam.connect_webviews.create(accepted_providers=["ttlock", "august"])
    assert chosen.accepted_providers == ["ttlock", "august"]
    assert chosen.any_provider_allowed is False
    assert brands_on(open_page(chosen)) == ["ttlock", "august"]

    category = seam.connect_webviews.create(provider_category="access_control_systems")
    in_category = {p.device_provider_name for p in seam.devices.list_device_providers(
        provider_category="access_control_systems")}
    assert in_category and "ttlock" not in in_category
    assert set(category.accepted_providers) == in_category
    assert set(brands_on(open_page(category))) == in_category

    excluded = seam.connect_webviews.create(excluded_providers=["august", "yale"])
    assert not {"august", "yale"} & set(excluded.accepted_providers)
    assert "ttlock" in excluded.accepted_providers
    shown = brands_on(open_page(excluded))
    assert "ttlock" in shown and not {"august", "yale"} & set(shown)
    # A brand left out cannot be reached by naming it in the URL either.
    assert 'name="password"' not in open_page(excluded, provider="august").text

    access_control = seam.connect_webviews.create(accepted_capabilities=["access_control"])
    assert access_control.accepted_capabilities == ["access_control"]
    offered = set(brands_on(open_page(access_control)))
    assert offered == in_category, "only brands with an access-control capability"


def test_thermostat_and_noise_sensor_brands_are_offered_by_capability(seam: Seam) -> None:
    thermostats = seam.connect_webviews.create(accepted_capabilities=["thermostat"])
    assert set(brands_on(open_page(thermostats))) == {"ecobee", "nest", "honeywell_resideo",
                                                       "sensi"}
    sensors = seam.connect_webviews.create(accepted_capabilities=["noise_sensor"])
    assert set(brands_on(open_page(sensors))) == {"minut", "noiseaware"}
    # Seam's other name for Google Nest opens the Nest sign-in.
    nest = seam.connect_webviews.create(accepted_providers=["google_nest"],
                                        accepted_capabilities=["thermostat"])
    assert nest.accepted_providers == ["google_nest"]
    assert brands_on(open_page(nest)) == ["nest"]


def test_redirect_urls_are_kept_and_an_invalid_one_is_invalid_input(seam: Seam) -> None:
    webview = seam.connect_webviews.create(
        custom_redirect_url="https://app.example.com/connected?unit=12",
        custom_redirect_failure_url="https://app.example.com/failed")
    again = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert again.custom_redirect_url == "https://app.example.com/connected?unit=12"
    assert again.custom_redirect_failure_url == "https://app.example.com/failed"

    before = webview_ids(seam.connect_webviews.list())
    for field, value in (("custom_redirect_url", "not a url"),
                         ("custom_redirect_url", "/relative/path"),
                         ("custom_redirect_failure_url", "javascript:alert(1)")):
        with pytest.raises(SeamHttpInvalidInputError) as invalid:
            seam.connect_webviews.create(**{field: value})
        assert (invalid.value.status_code, invalid.value.code) == (400, "invalid_input")
        named = {e.parameter_name: e.error_messages for e in invalid.value.validation_errors}
        assert list(named) == [field] and named[field], (field, value)
    assert webview_ids(seam.connect_webviews.list()) == before, "nothing was created"


def test_metadata_customer_key_and_behaviour_settings_are_kept(
    seam: Seam, own_server: LockhubServer,
) -> None:
    webview = seam.connect_webviews.create(
        custom_metadata={"unit": "12B", "vip": True}, customer_key="customer-12b",
        automatically_manage_new_devices=False, wait_for_device_creation=True)
    got = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert got.custom_metadata == {"unit": "12B", "vip": True}
    assert got.customer_key == "customer-12b"
    assert got.automatically_manage_new_devices is False
    assert got.wait_for_device_creation is True

    # The SDK has no device_selection_mode parameter; the API takes it.
    with raw(own_server) as http:
        created = http.post("/connect_webviews/create", json={"device_selection_mode": "single"})
        assert created.status_code == 200, created.text
        webview_id = created.json()["connect_webview"]["connect_webview_id"]
        refused = http.post("/connect_webviews/create", json={"device_selection_mode": "all"})
    assert seam.connect_webviews.get(connect_webview_id=webview_id).device_selection_mode == (
        "single")
    assert refused.status_code == 400
    assert "device_selection_mode" in refused.json()["error"]["validation_errors"]


# --------------------------------------------------------------------------- get, list, delete


def test_list_filters_and_pages(seam: Seam, own_server: LockhubServer) -> None:
    batch = f"batch-{uuid.uuid4().hex[:10]}"
    created = [
        seam.connect_webviews.create(custom_metadata={"batch": batch, "n": "0"}),
        seam.connect_webviews.create(custom_metadata={"batch": batch, "n": "1", "vip": True},
                                     customer_key=f"customer-{batch}"),
        seam.connect_webviews.create(custom_metadata={"batch": batch, "n": "2", "vip": False}),
    ]
    ids = webview_ids(created)
    assert webview_ids(seam.connect_webviews.list(custom_metadata_has={"batch": batch})) == ids
    assert webview_ids(seam.connect_webviews.list(
        custom_metadata_has={"batch": batch, "n": "1"})) == [ids[1]]
    assert webview_ids(seam.connect_webviews.list(
        custom_metadata_has={"batch": batch, "vip": False})) == [ids[2]]
    # A key set to null matches the webviews without that key (the SDK drops nulls: raw).
    with raw(own_server) as http:
        unset = http.post("/connect_webviews/list",
                          json={"custom_metadata_has": {"batch": batch, "vip": None}})
    assert [w["connect_webview_id"] for w in unset.json()["connect_webviews"]] == [ids[0]]
    assert webview_ids(seam.connect_webviews.list(customer_key=f"customer-{batch}")) == [ids[1]]
    assert seam.connect_webviews.list(customer_key=f"nobody-{batch}") == []
    assert webview_ids(seam.connect_webviews.list(search=batch)) == ids
    assert webview_ids(seam.connect_webviews.list(search=ids[2])) == [ids[2]]
    assert seam.connect_webviews.list(search=f"nothing-{uuid.uuid4()}") == []
    # The search text is literal: `_` and `%` are not wildcards.
    assert webview_ids(seam.connect_webviews.list(search=f"customer-{batch}")) == [ids[1]]
    assert seam.connect_webviews.list(search=f"customer_{batch}") == []
    assert seam.connect_webviews.list(search="%") == []
    assert ids[0] in webview_ids(seam.connect_webviews.list())

    # Pages of 2 follow each other without gaps or repeats, oldest first.
    first, pagination = seam.create_paginator(
        seam.connect_webviews.list, {"limit": 2, "custom_metadata_has": {"batch": batch}},
    ).first_page()
    assert webview_ids(first) == ids[:2]
    assert pagination is not None and pagination.has_next_page
    rest = seam.connect_webviews.list(limit=2, custom_metadata_has={"batch": batch},
                                      page_cursor=pagination.next_page_cursor)
    assert webview_ids(rest) == ids[2:]
    everything = seam.connect_webviews.list()
    paged = seam.create_paginator(seam.connect_webviews.list, {"limit": 2}).flatten_to_list()
    assert webview_ids(paged) == webview_ids(everything)


def test_delete_removes_the_webview_and_closes_its_page(seam: Seam) -> None:
    webview = seam.connect_webviews.create()
    seam.connect_webviews.delete(connect_webview_id=webview.connect_webview_id)
    with pytest.raises(SeamHttpApiError) as missing:
        seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (missing.value.status_code, missing.value.code) == (404, "connect_webview_not_found")
    assert webview.connect_webview_id not in webview_ids(seam.connect_webviews.list())
    with pytest.raises(SeamHttpApiError) as again:
        seam.connect_webviews.delete(connect_webview_id=webview.connect_webview_id)
    assert again.value.code == "connect_webview_not_found"
    page = open_page(webview)
    assert page.status_code == 404 and brands_on(page) == []


# --------------------------------------------------------------------------- signing in


def test_ttlock_sign_in_on_the_page_connects_the_account_and_its_devices(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    webview = fresh.connect_webviews.create(
        accepted_providers=["ttlock"], custom_metadata={"unit": "4A"}, customer_key="tenant-4a",
        custom_redirect_url="https://app.example.com/connected")
    form = open_page(webview, provider="ttlock")
    assert form.status_code == 200
    assert inputs_on(form) == {"email", "password"}
    assert token_of(webview) in form.text, "the form posts the webview's token back"

    done = sign_in_ttlock(own_server, webview)
    assert "https://app.example.com/connected" in done.text, "the page continues to the app"

    webview = fresh.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (webview.status, webview.login_successful) == ("authorized", True)
    assert webview.selected_provider == "ttlock"
    assert webview.authorized_at is not None and webview.authorized_at >= webview.created_at
    account_id = webview.connected_account_id
    assert account_id is not None

    account = fresh.connected_accounts.get(connected_account_id=account_id)
    assert account.account_type == "ttlock" and account.errors == []
    assert account.custom_metadata == {"unit": "4A"}
    assert account.customer_key == "tenant-4a"
    assert account.accepted_capabilities == webview.accepted_capabilities
    assert account.automatically_manage_new_devices is True
    assert [a.connected_account_id for a in fresh.connected_accounts.list()] == [account_id]
    # The devices are there as soon as the webview is authorized (no waiting).
    devices = fresh.devices.list(connected_account_id=account_id)
    assert {d.display_name for d in devices} == TTLOCK_JANE_DEVICES
    assert all(d.is_managed for d in devices)

    assert event_types(fresh, connect_webview_id=webview.connect_webview_id) == [
        "connected_account.created", "connected_account.connected",
        "connected_account.successful_login", "connect_webview.login_succeeded"]
    succeeded = fresh.events.list(since=EPOCH, event_type="connect_webview.login_succeeded")
    assert [(e.connect_webview_id, e.connected_account_id) for e in succeeded] == [
        (webview.connect_webview_id, account_id)]
    assert "connected_account.completed_first_sync" in event_types(
        fresh, connected_account_id=account_id)
    assert "connected_account.completed_first_sync_after_reconnection" not in event_types(
        fresh, connected_account_id=account_id)

    # The link works once: the page and a replayed sign-in answer 409, nothing more is made.
    assert open_page(webview).status_code == 409
    assert submit(own_server, webview, "ttlock", **TTLOCK_JANE).status_code == 409
    assert [a.connected_account_id for a in fresh.connected_accounts.list()] == [account_id]
    # Deleting the webview leaves the account it connected.
    fresh.connect_webviews.delete(connect_webview_id=webview.connect_webview_id)
    assert fresh.connected_accounts.get(connected_account_id=account_id).errors == []
    assert len(fresh.devices.list(connected_account_id=account_id)) == len(devices)


def test_august_asks_for_a_verification_code_before_connecting(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    webview = fresh.connect_webviews.create(accepted_providers=["august"])
    assert inputs_on(open_page(webview, provider="august")) == {"email", "password", "region"}

    second_step = submit(own_server, webview, "august", **AUGUST_JANE)
    assert second_step.status_code == 200
    assert inputs_on(second_step) == {"two_factor_code"}
    assert "1234" not in re.findall(r'value="([^"]*)"', second_step.text), "no password echoed"
    pending = fresh.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (pending.status, pending.login_successful) == ("pending", False)
    assert fresh.connected_accounts.list() == []

    wrong = submit(own_server, webview, "august", two_factor_code="000000")
    assert wrong.status_code == 200 and alert_on(wrong)
    assert inputs_on(wrong) == {"two_factor_code"}, "asks for the code again"
    assert fresh.connected_accounts.list() == []

    done = submit(own_server, webview, "august", two_factor_code=TWO_FACTOR_CODE)
    assert done.status_code == 200 and alert_on(done) is None, alert_on(done)
    webview = fresh.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (webview.status, webview.selected_provider) == ("authorized", "august")
    account = fresh.connected_accounts.get(connected_account_id=webview.connected_account_id)
    assert account.account_type == "august"
    assert fresh.devices.list(connected_account_id=account.connected_account_id)


def test_a_wrong_password_stores_nothing_and_can_be_corrected(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    webview = fresh.connect_webviews.create(accepted_providers=["ttlock"])
    wrong = submit(own_server, webview, "ttlock", email="jane@example.com",
                   password="not-the-password")
    assert wrong.status_code == 200
    assert alert_on(wrong), "the page says what went wrong"
    assert inputs_on(wrong) == {"email", "password"}, "and asks again"
    assert "not-the-password" not in wrong.text
    got = fresh.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (got.status, got.login_successful, got.connected_account_id) == (
        "pending", False, None)
    assert fresh.connected_accounts.list() == [] and fresh.devices.list() == []
    assert fresh.events.list(since=EPOCH) == []

    sign_in_ttlock(own_server, webview)
    assert fresh.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "authorized"


def test_the_page_needs_the_webviews_own_token(fresh: Seam, own_server: LockhubServer) -> None:
    webview = fresh.connect_webviews.create(accepted_providers=["ttlock"])
    forged = token_of(webview)[:-4] + "AAAA"
    assert httpx.get(f"{own_server.url}{VIEW_PATH}", params={
        "connect_webview_id": webview.connect_webview_id, "auth_token": forged}).status_code == 404
    posted = submit(own_server, webview, "ttlock", auth_token=forged, **TTLOCK_JANE)
    assert posted.status_code == 404
    assert fresh.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"
    assert fresh.connected_accounts.list() == []


def still_pending(seam: Seam, webview: Any) -> bool:
    got = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    return (got.status, got.connected_account_id) == ("pending", None) and not (
        seam.connected_accounts.list())


def test_a_sign_in_form_sent_from_another_site_is_refused(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    webview = fresh.connect_webviews.create(accepted_providers=["ttlock"])
    for headers in ({"Origin": "https://evil.example"},
                    {"Origin": "null"},  # a sandboxed frame, or a page sending no referrer
                    {"Origin": own_server.url.replace("127.0.0.1", "localhost")},
                    {"Origin": f"{own_server.url}.evil.example"},
                    {"Referer": "https://evil.example/win-a-lock"}):
        refused = submit(own_server, webview, "ttlock", headers=headers, **TTLOCK_JANE)
        assert refused.status_code == 403, headers
        assert "another site" in refused.text
        assert "<form" not in refused.text
        assert still_pending(fresh, webview), headers

    # lockhub's own page (Origin, or a Referer without one) signs in.
    own_page = f"{webview.url}&provider=ttlock"
    assert submit(own_server, webview, "ttlock", headers={"Referer": own_page},
                  email="jane@example.com", password="wrong").status_code == 200
    done = submit(own_server, webview, "ttlock", headers={"Origin": own_server.url},
                  **TTLOCK_JANE)
    assert done.status_code == 200 and alert_on(done) is None, alert_on(done)
    assert fresh.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "authorized"


def test_a_sign_in_from_the_public_url_is_accepted_behind_a_proxy(
    tmp_path: Path,
) -> None:
    """Behind a proxy the browser's Origin is LOCKHUB_PUBLIC_URL, not the Host lockhub sees."""
    server = start_server(tmp_path, env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0",
                                         "LOCKHUB_PUBLIC_URL": "https://locks.example.com"})
    try:
        seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
        webview = seam.connect_webviews.create(accepted_providers=["ttlock"])
        assert webview.url.startswith("https://locks.example.com/")
        evil = submit(server, webview, "ttlock", headers={"Origin": "https://example.com"},
                      **TTLOCK_JANE)
        assert evil.status_code == 403
        done = submit(server, webview, "ttlock", headers={"Origin": "https://locks.example.com"},
                      **TTLOCK_JANE)
        assert done.status_code == 200 and alert_on(done) is None, alert_on(done)
    finally:
        server.stop()


@pytest.mark.parametrize("body", ["text/plain", "multipart/form-data", "application/json"])
def test_a_sign_in_that_is_not_a_url_encoded_form_is_refused(
    fresh: Seam, own_server: LockhubServer, body: str,
) -> None:
    webview = fresh.connect_webviews.create(accepted_providers=["ttlock"])
    fields = {"connect_webview_id": webview.connect_webview_id, "auth_token": token_of(webview),
              "provider": "ttlock", **TTLOCK_JANE}
    url = f"{own_server.url}{VIEW_PATH}"
    if body == "text/plain":  # what a forged <form enctype="text/plain"> sends
        sent = httpx.post(url, content="&".join(f"{k}={v}" for k, v in fields.items()),
                          headers={"Content-Type": "text/plain"})
    elif body == "multipart/form-data":
        sent = httpx.post(url, data=fields, files={"file": ("x.txt", b"x")})
    else:
        sent = httpx.post(url, json=fields)
    assert sent.status_code == 415
    assert "application/x-www-form-urlencoded" in sent.text
    assert still_pending(fresh, webview)


def post_message_target(page: httpx.Response) -> str:
    found = re.search(r"var targetOrigin = (.*?);", page.text)
    assert found, "the result page posts to its parent"
    return json.loads(found.group(1))


def test_the_result_is_posted_to_the_redirect_urls_origin_only(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    to_app = fresh.connect_webviews.create(
        accepted_providers=["ttlock"], custom_redirect_url="https://App.example.com:443/done?x=1")
    assert post_message_target(sign_in_ttlock(own_server, to_app)) == "https://app.example.com"
    on_a_port = fresh.connect_webviews.create(
        accepted_providers=["ttlock"], custom_redirect_url="http://[::1]:8080/done")
    assert post_message_target(sign_in_ttlock(own_server, on_a_port)) == "http://[::1]:8080"
    # No redirect URL: no known app, so any embedding page may hear it (ids only).
    anywhere = fresh.connect_webviews.create(accepted_providers=["ttlock"])
    assert post_message_target(sign_in_ttlock(own_server, anywhere)) == "*"


def test_five_wrong_passwords_fail_the_webview(fresh: Seam, own_server: LockhubServer) -> None:
    webview = fresh.connect_webviews.create(
        accepted_providers=["ttlock"], custom_redirect_url="https://app.example.com/connected",
        custom_redirect_failure_url="https://app.example.com/failed")
    for attempt in range(1, MAX_FAILED_ATTEMPTS):
        page = submit(own_server, webview, "ttlock", email="jane@example.com", password="0000")
        assert page.status_code == 200 and inputs_on(page) == {"email", "password"}, attempt
        assert fresh.connect_webviews.get(
            connect_webview_id=webview.connect_webview_id).status == "pending", attempt
    assert fresh.events.list(since=EPOCH) == []

    last = submit(own_server, webview, "ttlock", email="jane@example.com", password="0000")
    assert last.status_code == 200 and alert_on(last)
    assert 'name="password"' not in last.text, "no form: the link is spent"
    assert "https://app.example.com/failed" in last.text
    assert "https://app.example.com/connected" not in last.text
    failed = fresh.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (failed.status, failed.login_successful, failed.connected_account_id) == (
        "failed", False, None)
    events = fresh.events.list(since=EPOCH, connect_webview_id=webview.connect_webview_id)
    assert [e.event_type for e in events] == ["connect_webview.login_failed"]

    # Even the right password is refused now.
    assert submit(own_server, webview, "ttlock", **TTLOCK_JANE).status_code == 409
    assert open_page(webview).status_code == 409
    assert fresh.connected_accounts.list() == []


def test_sign_ins_submitted_at_once_complete_the_webview_once(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    """Two tabs, a double click: several correct sign-ins of one webview reach the server
    together. One connects its account; the others are told the link was used, and connect
    nothing."""
    emails = ["jane@example.com", "john@example.com", "andrew@example.com"]  # Schlage accounts
    for _ in range(3):
        webview = fresh.connect_webviews.create(accepted_providers=["schlage"])
        start = threading.Barrier(len(emails))

        def sign_in(email: str, webview: Any = webview, start: threading.Barrier = start
                    ) -> int:
            start.wait()
            return submit(own_server, webview, "schlage", email=email,
                          password="1234").status_code

        with ThreadPoolExecutor(len(emails)) as pool:
            statuses = sorted(pool.map(sign_in, emails))
        assert statuses == [200, 409, 409]
        got = fresh.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
        assert got.status == "authorized"
        assert event_types(fresh, connect_webview_id=webview.connect_webview_id) in (
            ["connected_account.created", "connected_account.connected",
             "connected_account.successful_login", "connect_webview.login_succeeded"],
            ["connected_account.connected", "connected_account.successful_login",
             "connect_webview.login_succeeded"])
    accounts = fresh.connected_accounts.list()
    won = {fresh.connect_webviews.get(connect_webview_id=w.connect_webview_id)
           .connected_account_id for w in fresh.connect_webviews.list()}
    assert {a.connected_account_id for a in accounts} == won, "no account without its webview"


def test_automatically_manage_new_devices_false_imports_the_devices_unmanaged(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    webview = fresh.connect_webviews.create(accepted_providers=["ttlock"],
                                            automatically_manage_new_devices=False)
    sign_in_ttlock(own_server, webview)
    account_id = fresh.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).connected_account_id
    assert account_id is not None
    account = fresh.connected_accounts.get(connected_account_id=account_id)
    assert account.automatically_manage_new_devices is False
    assert fresh.devices.list(connected_account_id=account_id) == []
    unmanaged = fresh.devices.unmanaged.list(connected_account_id=account_id)
    assert {d.display_name for d in unmanaged} == TTLOCK_JANE_DEVICES
    assert not any(d.is_managed for d in unmanaged)


def test_signing_in_through_a_new_webview_reconnects_the_same_account(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    first = fresh.connect_webviews.create(accepted_providers=["ttlock"],
                                          custom_metadata={"unit": "7"})
    sign_in_ttlock(own_server, first)
    account_id = fresh.connect_webviews.get(
        connect_webview_id=first.connect_webview_id).connected_account_id
    assert account_id is not None
    device_ids = sorted(d.device_id for d in fresh.devices.list(connected_account_id=account_id))

    fresh.connected_accounts.simulate.disconnect(connected_account_id=account_id)
    account = fresh.connected_accounts.get(connected_account_id=account_id)
    assert [e.error_code for e in account.errors] == ["account_disconnected"]
    for device_id in device_ids:
        assert "account_disconnected" in {
            e.error_code for e in fresh.devices.get(device_id=device_id).errors}

    second = fresh.connect_webviews.create(accepted_providers=["ttlock"],
                                           custom_metadata={"floor": "2"})
    sign_in_ttlock(own_server, second)
    second = fresh.connect_webviews.get(connect_webview_id=second.connect_webview_id)
    assert (second.status, second.connected_account_id) == ("authorized", account_id)
    account = fresh.connected_accounts.get(connected_account_id=account_id)
    assert account.errors == []
    assert account.custom_metadata == {"unit": "7", "floor": "2"}
    assert [a.connected_account_id for a in fresh.connected_accounts.list()] == [account_id]
    devices = fresh.devices.list(connected_account_id=account_id)
    assert sorted(d.device_id for d in devices) == device_ids, "the same devices, not copies"
    for device in devices:
        assert "account_disconnected" not in {e.error_code for e in device.errors}

    assert event_types(fresh, connect_webview_id=second.connect_webview_id) == [
        "connected_account.connected", "connected_account.successful_login",
        "connect_webview.login_succeeded"]
    for_account = event_types(fresh, connected_account_id=account_id)
    assert for_account.count("connected_account.created") == 1
    assert for_account.count("connected_account.completed_first_sync") == 1
    after_disconnection = for_account[for_account.index("connected_account.disconnected"):]
    assert "connected_account.completed_first_sync_after_reconnection" in after_disconnection
    assert fresh.connect_webviews.get(
        connect_webview_id=first.connect_webview_id).status == "authorized"


def test_an_account_of_another_customer_is_not_taken_over_through_a_webview(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    first = fresh.connect_webviews.create(accepted_providers=["ttlock"], customer_key="alice")
    sign_in_ttlock(own_server, first)
    account_id = fresh.connect_webviews.get(
        connect_webview_id=first.connect_webview_id).connected_account_id

    other = fresh.connect_webviews.create(accepted_providers=["ttlock"], customer_key="bob")
    page = submit(own_server, other, "ttlock", **TTLOCK_JANE)
    assert "another customer" in (page.text or "")
    other = fresh.connect_webviews.get(connect_webview_id=other.connect_webview_id)
    assert (other.status, other.login_successful, other.connected_account_id) == (
        "failed", False, None)
    assert fresh.connected_accounts.get(connected_account_id=account_id).customer_key == "alice"
    assert [a.connected_account_id for a in fresh.connected_accounts.list()] == [account_id]
    assert event_types(fresh, connect_webview_id=other.connect_webview_id) == [
        "connect_webview.login_failed"]


def test_signing_in_to_a_seeded_account_reconnects_it(
    seam: Seam, own_server: LockhubServer,
) -> None:
    seeded = [a for a in seam.connected_accounts.list() if a.account_type == "ttlock"]
    assert len(seeded) == 1
    accounts_before = len(seam.connected_accounts.list())
    webview = seam.connect_webviews.create(accepted_providers=["ttlock"])
    sign_in_ttlock(own_server, webview)
    webview = seam.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.connected_account_id == seeded[0].connected_account_id
    assert len(seam.connected_accounts.list()) == accounts_before
    assert seam.events.list(since=EPOCH, connected_account_id=webview.connected_account_id,
                            event_type="connected_account.completed_first_sync_after_reconnection")


# --------------------------------------------------------------------------- the test hook


def test_fake_complete_connect_webview_signs_in_with_a_test_account(
    fresh: Seam, own_server: LockhubServer,
) -> None:
    webview = fresh.connect_webviews.create(customer_key="hooked")
    completed = httpx.post(f"{own_server.url}/_fake/complete_connect_webview",
                           json={"connect_webview_id": webview.connect_webview_id})
    assert completed.status_code == 200, completed.text
    assert completed.json()["connect_webview"]["status"] == "authorized"
    webview = fresh.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (webview.status, webview.login_successful) == ("authorized", True)
    assert webview.selected_provider == "august"
    account = fresh.connected_accounts.get(connected_account_id=webview.connected_account_id)
    assert account.account_type == "august" and account.customer_key == "hooked"
    assert fresh.devices.list(connected_account_id=account.connected_account_id)
    assert "connect_webview.login_succeeded" in event_types(
        fresh, connect_webview_id=webview.connect_webview_id)

    only_ttlock = fresh.connect_webviews.create(accepted_providers=["ttlock"])
    hooked = httpx.post(f"{own_server.url}/_fake/complete_connect_webview",
                        json={"connect_webview_id": only_ttlock.connect_webview_id})
    assert hooked.status_code == 200, hooked.text
    assert fresh.connect_webviews.get(
        connect_webview_id=only_ttlock.connect_webview_id).selected_provider == "ttlock"

    unknown = httpx.post(f"{own_server.url}/_fake/complete_connect_webview",
                         json={"connect_webview_id": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "connect_webview_not_found"


# --------------------------------------------------------------------------- production


LOCAL_PROVIDERS = ["zigbee2mqtt", "zwave_js"]
RADIOS = set(LOCAL_PROVIDERS)
# Production workspaces offer the local radios and the brands with a real cloud provider.
PRODUCTION_PROVIDERS = ["igloohome", "nuki", "smartthings", "ttlock", "zigbee2mqtt", "zwave_js"]


def test_a_production_workspace_offers_only_real_providers_and_sandbox_credentials_connect_nothing(
    production: Seam, seam: Seam, own_server: LockhubServer,
) -> None:
    names = sorted(p.device_provider_name for p in production.devices.list_device_providers())
    assert names == PRODUCTION_PROVIDERS
    sandbox_names = {p.device_provider_name
                     for p in seam.devices.list_device_providers(provider_category="stable")}
    assert sandbox_names and not sandbox_names & RADIOS, (
        "a sandbox workspace lists its virtual brands, never the real radios")

    webview = production.connect_webviews.create()
    picker = open_page(webview)
    assert picker.status_code == 200 and sorted(brands_on(picker)) == PRODUCTION_PROVIDERS
    assert "Sandbox" not in picker.text
    assert 'name="password"' not in open_page(webview, provider="august").text

    refused = submit(own_server, webview, "august", **AUGUST_JANE)
    assert refused.status_code != 200 and 'name="password"' not in refused.text
    hooked = httpx.post(f"{own_server.url}/_fake/complete_connect_webview",
                        json={"connect_webview_id": webview.connect_webview_id})
    assert hooked.status_code == 404, "the test hooks act only on sandbox workspaces"
    got = production.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert (got.status, got.login_successful, got.connected_account_id) == (
        "pending", False, None)
    assert production.connected_accounts.list() == []
    assert production.devices.list() == [] and production.devices.unmanaged.list() == []
    assert production.events.list(since=EPOCH) == []
