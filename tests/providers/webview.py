"""What the SDK tests of real providers share: the seeded production workspace's client, the
Connect Webview form POST a user's browser makes, and event look-ups."""

from __future__ import annotations

from typing import Any

import httpx
from seam import Seam

from tests.conformance.helpers import EPOCH, OTHER_KEY
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
