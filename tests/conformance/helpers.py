"""Small helpers shared by the conformance tests: waiting on the engine, finding seeded devices,
and a raw HTTP client for the wire details the SDK hides."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from seam import Seam

from tests.server import LockhubServer

T = TypeVar("T")

# lockhub's demo workspace: every sandbox brand's test locks (services/seed.py).
SANDBOX_KEY = "seam_demokey1_token"
SANDBOX_WORKSPACE = "demo_workspace"
PUBLISHABLE_KEY = "seam_pkdemo_token"
# The fake's seed, exactly: seed_workspace_1 and its key (fake_seed_ids() has every id).
FAKE_KEY = "seam_apikey1_token"
FAKE_WORKSPACE = "seed_workspace_1"
OTHER_KEY = "seam_apikey2_token"
PAT = "seam_at1_shorttoken_longtoken"
OTHER_WORKSPACE = "seed_workspace_2"
# Far enough in the past to include every event of the session.
EPOCH = "2000-01-01T00:00:00.000Z"


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def seed_ids(server: LockhubServer) -> dict[str, str]:
    """Ids of the demo workspace (SANDBOX_KEY's): its locks by brand (`yale_device_3`), its
    accounts by brand and email, and john's and jane's accounts under the fake's names."""
    response = httpx.get(f"{server.url}/_lockhub/demo_seed")
    response.raise_for_status()
    return response.json()


def fake_seed_ids(server: LockhubServer) -> dict[str, str]:
    """The map Seam's fake publishes (`/_fake/default_seed`): ids of seed_workspace_1."""
    response = httpx.get(f"{server.url}/_fake/default_seed")
    response.raise_for_status()
    return response.json()


def find_device(seam: Seam, *, model: str | None = None, manufacturer: str | None = None,
                online: bool | None = None, error_code: str | None = None) -> Any:
    """The first seeded device matching every given condition (fails the test if none)."""
    for device in seam.devices.list():
        props = device.properties
        if model is not None and props.model.display_name != model:
            continue
        if manufacturer is not None and props.manufacturer != manufacturer:
            continue
        if online is not None and props.online is not online:
            continue
        if error_code is not None and error_code not in {e.error_code for e in device.errors}:
            continue
        return device
    raise AssertionError(f"no seeded device with model={model!r} manufacturer={manufacturer!r} "
                         f"online={online!r} error_code={error_code!r}")


def sandbox(server: LockhubServer, path: str, **body: Any) -> dict[str, Any]:
    """Call a lockhub-only sandbox control (not part of Seam's API, so not in the SDK) as
    the demo workspace."""
    with raw(server) as client:
        response = client.post(f"/_lockhub/sandbox/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def raw(server: LockhubServer, token: str | None = SANDBOX_KEY,
        headers: dict[str, str] | None = None) -> httpx.Client:
    """An httpx client for hand-written requests (only for what the SDK cannot express)."""
    all_headers = {"authorization": f"Bearer {token}"} if token else {}
    all_headers.update(headers or {})
    return httpx.Client(base_url=server.url, headers=all_headers, timeout=30)
