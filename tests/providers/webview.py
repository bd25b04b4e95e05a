"""What the SDK tests of real providers share: the seeded production workspace's client, the
Connect Webview form POST a user's browser makes, and event look-ups."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from seam import Seam

from lockhub.config import Settings
from lockhub.secret_box import open_credentials
from tests.conformance.helpers import EPOCH, OTHER_KEY, wait_until
from tests.databases import json_text, sql
from tests.server import LockhubServer


def production_seam(server: LockhubServer) -> Seam:
    """The seeded production workspace (no sandbox): only real providers are offered."""
    return Seam(api_key=OTHER_KEY, endpoint=server.url)


def submit(server: LockhubServer, webview: Any, provider: str,
           form: dict[str, str]) -> httpx.Response:
    """POST a brand's sign-in form as the user's browser does (the page's hidden fields too)."""
    token = httpx.URL(webview.url).params["auth_token"]
    return httpx.post(f"{server.url}/connect_webviews/view", timeout=60, data={
        "connect_webview_id": webview.connect_webview_id, "auth_token": token,
        "provider": provider, **form})


def events_of(seam: Seam, device_id: str, event_type: str) -> list[Any]:
    return seam.events.list(since=EPOCH, device_id=device_id, event_type=event_type)


def lock_named(seam: Seam, account: str, name: str) -> Any:
    """The account's one lock of that name."""
    found = [d for d in seam.locks.list(connected_account_id=account) if d.display_name == name]
    assert len(found) == 1, name
    return found[0]


def account_errors(seam: Seam, account: str) -> set[str]:
    return {e["error_code"] for e in seam.connected_accounts.get(
        connected_account_id=account).errors}


@contextlib.contextmanager
def disconnected_by_outage(seam: Seam, account: str,
                           outage: Callable[[bool], None]) -> Iterator[None]:
    """The brand's fake cloud is down (`outage(True)`) until the block ends; inside it, the
    account shows account_disconnected."""
    outage(True)
    try:
        wait_until(lambda: "account_disconnected" in account_errors(seam, account),
                   timeout=30, message="account_disconnected")
        yield
    finally:
        outage(False)


def stored_credentials(server: LockhubServer, account: str, secret_key: str) -> dict[str, Any]:
    """What the server stored for the account, opened with its secret key (the test's own)."""
    [(raw,)] = sql(server.database_url, "select credentials from connected_accounts where "
                   "connected_account_id = :id", {"id": account})
    return open_credentials(Settings(secret_key=secret_key), json.loads(json_text(raw)))


def production_clock(server: LockhubServer) -> httpx.Client:
    """The production workspace's clock routes (the server runs with
    LOCKHUB_TEST_PRODUCTION_CLOCK=1)."""
    return httpx.Client(base_url=f"{server.url}/_lockhub/sandbox/clock",
                        headers={"Authorization": f"Bearer {OTHER_KEY}"}, timeout=30)
