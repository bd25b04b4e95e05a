"""Workspaces are walls: another workspace's credential can neither read nor change the first
workspace's resources, through any route that takes a workspace.

The cases are driven from the route table: every served route with `auth != "none"` (test hooks
aside) must have an entry in `ISOLATION`, so a newly added route fails here until someone says
how another workspace would try to reach workspace 1 through it. Each case calls the route with
the intruder's credential and workspace 1's ids, through the official SDK (where it has the
route) and then raw through every verb the route accepts, and expects:

- `Hidden`: 404 `<resource>_not_found`, the same answer as for an id that exists nowhere (so the
  answer does not reveal that the id exists in another workspace);
- `OwnOnly`: 200 with the intruder's own items only, nothing of workspace 1;
- `Refused`: the route's refusal for this credential (401 for creating a workspace with an API
  key, 400 `workspace_not_sandbox` for sandbox routes called from a production workspace).

The intruder is workspace 2's API key (`seed_workspace_2`, not a sandbox). Sandbox-only routes
refuse it before looking at any id, so they are also tried by a sandbox intruder: a sandbox
workspace john creates, reached with his personal access token (john is a member of workspace 1
too: the `seam-workspace` header, not the user, decides what is reachable).

Around every route, a witness (workspace 1's own key) checks that nothing changed in workspace 1:
devices (name, managed flag, custom metadata, bolt, online), access codes, the PINs in the
virtual lock, webhooks, action attempts, Connect Webviews, spaces (names, keys, customer data,
device counts), events (every write records one in its own transaction), the sandbox clock and
the workspaces john can reach.

The module uses a server of its own: it changes seeded devices and lists the whole event
history, which must not depend on what other test files did.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from seam import Seam, SeamHttpApiError, SeamHttpUnauthorizedError, SeamWithoutWorkspace

from lockhub.api import app  # noqa: F401  (importing registers every route)
from lockhub.api.routing import ROUTES, Route
from lockhub.domain.devicedb import device_model_id, manufacturer_id
from tests.conformance.helpers import (
    EPOCH,
    OTHER_KEY,
    OTHER_WORKSPACE,
    PAT,
    SANDBOX_KEY,
    SANDBOX_WORKSPACE,
    raw,
    seed_ids,
    wait_until,
)
from tests.server import LockhubServer, start_server

WORKSPACE_ROUTES = [r for r in ROUTES if r.auth != "none" and not r.test_hook]
_QUERY_VERBS = ("GET", "DELETE")
PIN = "4821"  # workspace 1's managed code on its device
UNMANAGED_PIN = "7310"  # a code someone set at the lock itself
COMMON_CODE_KEY = "ws1-cleaning-crew"
# Closed ports: deliveries fail at once and are retried later, nothing leaves the machine.
# Workspace 2 is a production workspace: a loopback address is refused when the webhook is
# created, a name only when a delivery would connect.
WS1_HOOK = "http://127.0.0.1:9/workspace-1-hook"
WS2_HOOK = "http://localhost:9/workspace-2-hook"
WEBVIEW_CUSTOMER = "ws1-customer-12b"  # the customer key of workspace 1's Connect Webview
WEBVIEW_TENANT = "ws1-tenant-12b"  # a custom metadata value of that webview
WS1_USER_IDENTITY_KEY = "ws1-guest-7c"
WS1_GRANT_KEY = "ws1-grant-7c"
WS1_RESERVATION_KEY = "ws1-reservation-7c"
WS1_USER_KEY = "ws1-app-user-7c"  # the user identifier key of workspace 1's client session
WS1_SPACE_KEY = "ws1-unit-4d"
WS1_SPACE_NAME = "Workspace One Unit 4D"


# --------------------------------------------------------------------------- the two sides


@dataclass(frozen=True)
class Ws1:
    """Ids of workspace 1's resources that another workspace will try to reach."""

    device_id: str
    device_name: str
    unmanaged_device_id: str
    unmanaged_device_name: str
    access_code_id: str
    unmanaged_access_code_id: str
    action_attempt_id: str
    event_id: str
    connected_account_id: str
    webhook_id: str
    delivery_id: str
    page_cursor: str  # of workspace 1's `/devices/list?limit=1`
    connect_webview_id: str  # authorized: it reconnected the seeded TTLock account
    pending_connect_webview_id: str
    webview_page_cursor: str  # of workspace 1's `/connect_webviews/list?limit=1`
    user_identity_id: str  # granted the device
    user_identity_key: str
    client_session_id: str  # holds the user identity and the device's account
    user_identifier_key: str  # the client session's
    space_id: str  # holds the device and its account
    space_key: str
    access_grant_id: str  # the user identity's, on the space, with one PIN method
    access_grant_key: str
    reservation_key: str
    access_method_id: str
    thermostat_id: str  # an ecobee with its presets
    noise_sensor_id: str  # a Minut with its default thresholds
    noise_threshold_id: str  # the sensor's first threshold
    thermostat_schedule_id: str  # the thermostat's, a day from now
    # Every id and name of workspace 1, to spot any of them in an answer.
    every_id: frozenset[str] = dataclasses.field(repr=False)


@dataclass(frozen=True)
class Intruder:
    """A credential of another workspace: the SDK client and the raw headers for it."""

    workspace_id: str
    seam: Seam = dataclasses.field(repr=False)
    headers: dict[str, str] = dataclasses.field(repr=False)


@dataclass
class Walls:
    server: LockhubServer
    owner: Seam  # workspace 1's own key: the witness
    key: Intruder  # workspace 2's API key
    sandbox: Intruder  # john's PAT on a sandbox workspace of his own
    ws1: Ws1
    seen: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def raw_as(self, intruder: Intruder, headers: dict[str, str] | None = None) -> httpx.Client:
        return raw(self.server, None, {**intruder.headers, **(headers or {})})

    def witness(self) -> dict[str, Any]:
        """What workspace 1 looks like to its owner (and which workspaces john can reach)."""
        owner, ws1 = self.owner, self.ws1
        devices = [*owner.devices.list(), *owner.devices.unmanaged.list()]
        john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=self.server.url)
        with raw(self.server, SANDBOX_KEY) as http:
            clock = http.get("/_lockhub/sandbox/clock/get").json()["clock"]
            on_lock = http.get("/_lockhub/sandbox/devices/list_codes_on_lock",
                               params={"device_id": ws1.device_id}).json()["codes_on_lock"]
        return {
            "workspace": owner.workspaces.get(),
            "devices": {
                d.device_id: (d.display_name, d.is_managed, dict(d.custom_metadata),
                              getattr(d.properties, "locked", None), d.properties.online)
                for d in devices
            },
            "webhooks": sorted((w.webhook_id, w.url, tuple(w.event_types))
                               for w in owner.webhooks.list()),
            "access codes": sorted(
                (c.access_code_id, c.name, c.code, c.status, c.is_managed)
                for c in [*owner.access_codes.list(device_id=ws1.device_id),
                          *owner.access_codes.unmanaged.list(device_id=ws1.device_id)]),
            "codes on the lock": on_lock,
            "action attempts": sorted((a.action_attempt_id, a.status)
                                      for a in owner.action_attempts.list()),
            "connect webviews": sorted(
                (w.connect_webview_id, w.status, w.connected_account_id, w.customer_key,
                 sorted(w.custom_metadata.items()), w.url)
                for w in owner.connect_webviews.list()),
            "events": sorted(e.event_id for e in owner.events.list(since=EPOCH, limit=10_000)),
            "user identities": sorted(
                (u.user_identity_id, u.user_identity_key, u.full_name,
                 tuple(d.device_id for d in owner.user_identities.list_accessible_devices(
                     user_identity_id=u.user_identity_id)))
                for u in owner.user_identities.list()),
            "client sessions": sorted(
                (c.client_session_id, c.user_identifier_key, c.expires_at,
                 tuple(c.connected_account_ids), tuple(c.connect_webview_ids),
                 tuple(c.user_identity_ids), c.device_count)
                for c in owner.client_sessions.list()),
            "spaces": sorted(
                (s.space_id, s.name, s.space_key, s.customer_key, s.device_count,
                 s.customer_data) for s in owner.spaces.list()),
            "access grants": sorted(
                (g.access_grant_id, g.name, g.starts_at, g.ends_at, tuple(g.access_method_ids))
                for g in owner.access_grants.list()),
            "access methods": sorted(
                (m.access_method_id, m.code, m.is_issued) for g in owner.access_grants.list()
                for m in owner.access_methods.list(access_grant_id=g.access_grant_id)),
            "thermostat": _climate(owner.devices.get(device_id=ws1.thermostat_id)),
            "thermostat schedules": sorted(
                (t.thermostat_schedule_id, t.name, t.starts_at, t.ends_at, t.climate_preset_key)
                for t in owner.thermostats.schedules.list(device_id=ws1.thermostat_id)),
            "noise thresholds": sorted(
                (t.noise_threshold_id, t.name, t.noise_threshold_decibels)
                for t in owner.noise_sensors.noise_thresholds.list(
                    device_id=ws1.noise_sensor_id)),
            "clock": (clock["is_frozen"], clock["offset_seconds"]),
            "john's workspaces": sorted(w.workspace_id for w in john.workspaces.list()),
        }


def _climate(thermostat: Any) -> Any:
    """A thermostat's settings: what it is set to, its presets and fallback, its threshold."""
    props = thermostat.properties
    return (str(props.current_climate_setting), str(props.available_climate_presets),
            props.fallback_climate_preset_key, str(props.temperature_threshold))


@pytest.fixture(scope="module")
def walls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path_factory.mktemp("isolation"), name="isolation")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def walls(walls_server: LockhubServer) -> Walls:
    url = walls_server.url
    owner = Seam(api_key=SANDBOX_KEY, endpoint=url)
    seeded = seed_ids(walls_server)
    device = owner.devices.get(device_id=seeded["august_device_1"])
    key = Intruder(OTHER_WORKSPACE, Seam(api_key=OTHER_KEY, endpoint=url),
                   {"authorization": f"Bearer {OTHER_KEY}"})
    # Before anything happens in workspace 1: workspace 2 subscribes to every event.
    key.seam.webhooks.create(url=WS2_HOOK, event_types=["*"])
    webhook = owner.webhooks.create(url=WS1_HOOK,
                                    event_types=["action_attempt.lock_door.succeeded"])
    unmanaged_id = seeded["august_device_2"]
    owner.devices.update(device_id=unmanaged_id, is_managed=False)
    unmanaged = owner.devices.unmanaged.get(device_id=unmanaged_id)
    attempt = owner.locks.lock_door(device_id=device.device_id)  # the SDK waits until it settles
    assert attempt.status == "success"
    with raw(walls_server, SANDBOX_KEY) as http:
        deliveries = http.get("/_lockhub/webhooks/deliveries/list").json()["deliveries"]
    assert [d["webhook_id"] for d in deliveries] == [webhook.webhook_id]
    code = owner.access_codes.create(device_id=device.device_id, code=PIN, name="Cleaner",
                                     common_code_key=COMMON_CODE_KEY)
    found = owner.access_codes.simulate.create_unmanaged_access_code(
        device_id=device.device_id, code=UNMANAGED_PIN, name="Set at the keypad")
    wait_until(lambda: owner.access_codes.get(access_code_id=code.access_code_id).status == "set",
               message="workspace 1's access code to be set on the lock")
    event = owner.events.list(since=EPOCH, device_id=device.device_id)[0]
    # Two Connect Webviews: one signed in (through the test hook, which needs no credential:
    # TTLock's test account is seeded, so the account is reconnected, not added), one pending.
    webview = owner.connect_webviews.create(accepted_providers=["ttlock"],
                                            customer_key=WEBVIEW_CUSTOMER,
                                            custom_metadata={"tenant": WEBVIEW_TENANT})
    with raw(walls_server, None) as http:
        completed = http.post("/_fake/complete_connect_webview",
                              json={"connect_webview_id": webview.connect_webview_id})
    assert completed.status_code == 200, completed.text
    webview = owner.connect_webviews.get(connect_webview_id=webview.connect_webview_id)
    assert webview.status == "authorized" and webview.connected_account_id
    pending_webview = owner.connect_webviews.create(accepted_providers=["august"])
    _, webview_pages = owner.create_paginator(owner.connect_webviews.list,
                                              {"limit": 1}).first_page()
    assert webview_pages is not None and webview_pages.next_page_cursor
    _, pagination = owner.create_paginator(owner.devices.list, {"limit": 1}).first_page()
    assert pagination is not None and pagination.next_page_cursor

    person = owner.user_identities.create(user_identity_key=WS1_USER_IDENTITY_KEY,
                                          full_name="Workspace One Guest")
    owner.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                 device_id=device.device_id)
    session = owner.client_sessions.create(user_identifier_key=WS1_USER_KEY,
                                           user_identity_ids=[person.user_identity_id],
                                           connected_account_ids=[device.connected_account_id])

    space = owner.spaces.create(name=WS1_SPACE_NAME, space_key=WS1_SPACE_KEY,
                                customer_data={"address": "4D Workspace One Street"},
                                device_ids=[device.device_id],
                                connected_account_ids=[device.connected_account_id])
    grant = owner.access_grants.create(
        user_identity_id=person.user_identity_id, space_ids=[space.space_id],
        requested_access_methods=[{"mode": "code"}], name="Workspace one stay",
        access_grant_key=WS1_GRANT_KEY, reservation_key=WS1_RESERVATION_KEY)
    [method_id] = grant.access_method_ids
    wait_until(lambda: owner.access_methods.get(access_method_id=method_id).is_issued,
               message="workspace 1's access method to be issued")

    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=url)
    sandbox_id = john.workspaces.create(name="John's other sandbox",
                                        is_sandbox=True).workspace_id

    every_id = {SANDBOX_WORKSPACE, seeded["john_connected_account_id"],
                seeded["jane_connected_account_id"], COMMON_CODE_KEY, device.display_name,
                unmanaged.display_name, webhook.webhook_id, WS1_HOOK,
                deliveries[0]["delivery_id"]}
    every_id |= {d.device_id for d in [*owner.devices.list(), *owner.devices.unmanaged.list()]}
    every_id |= {code.access_code_id, found.access_code_id}
    every_id |= {a.action_attempt_id for a in owner.action_attempts.list()}
    every_id |= {e.event_id for e in owner.events.list(since=EPOCH, limit=10_000)}
    # The webviews, their links (the auth token in them is what opens the sign-in page), and
    # what they carried to the connected account.
    every_id |= {WEBVIEW_CUSTOMER, WEBVIEW_TENANT, webview.connected_account_id}
    every_id |= {w.connect_webview_id for w in (webview, pending_webview)}
    every_id |= {person.user_identity_id, WS1_USER_IDENTITY_KEY, session.client_session_id,
                 session.token, WS1_USER_KEY}
    every_id |= {s.client_session_id for s in owner.client_sessions.list()}
    every_id |= {s.token for s in owner.client_sessions.list()}
    every_id |= {u.user_identity_id for u in owner.user_identities.list()}
    every_id |= {w.url for w in (webview, pending_webview)}
    every_id |= {space.space_id, WS1_SPACE_KEY, WS1_SPACE_NAME, "4D Workspace One Street"}
    every_id |= {grant.access_grant_id, WS1_GRANT_KEY, WS1_RESERVATION_KEY, method_id,
                 "Workspace one stay"}
    every_id |= {c.access_code_id for c in owner.access_codes.list(device_id=device.device_id)}
    every_id |= {parse_qs(urlsplit(w.url).query)["auth_token"][0]
                 for w in (webview, pending_webview)}
    thresholds = owner.noise_sensors.noise_thresholds.list(device_id=seeded["minut_device_1"])
    every_id |= {t.noise_threshold_id for t in thresholds}
    schedule = owner.thermostats.schedules.create(
        device_id=seeded["ecobee_device_1"], climate_preset_key="away", name="ws1 holiday",
        starts_at="2099-01-01T00:00:00Z", ends_at="2099-01-08T00:00:00Z")
    every_id |= {schedule.thermostat_schedule_id, "ws1 holiday"}
    ws1 = Ws1(
        device_id=device.device_id,
        device_name=device.display_name,
        unmanaged_device_id=unmanaged.device_id,
        unmanaged_device_name=unmanaged.display_name,
        access_code_id=code.access_code_id,
        unmanaged_access_code_id=found.access_code_id,
        action_attempt_id=attempt.action_attempt_id,
        event_id=event.event_id,
        connected_account_id=device.connected_account_id,
        webhook_id=webhook.webhook_id,
        delivery_id=deliveries[0]["delivery_id"],
        page_cursor=pagination.next_page_cursor,
        connect_webview_id=webview.connect_webview_id,
        pending_connect_webview_id=pending_webview.connect_webview_id,
        webview_page_cursor=webview_pages.next_page_cursor,
        user_identity_id=person.user_identity_id,
        user_identity_key=WS1_USER_IDENTITY_KEY,
        client_session_id=session.client_session_id,
        user_identifier_key=WS1_USER_KEY,
        space_id=space.space_id,
        space_key=WS1_SPACE_KEY,
        access_grant_id=grant.access_grant_id,
        access_grant_key=WS1_GRANT_KEY,
        reservation_key=WS1_RESERVATION_KEY,
        access_method_id=method_id,
        thermostat_id=seeded["ecobee_device_1"],
        noise_sensor_id=seeded["minut_device_1"],
        noise_threshold_id=thresholds[0].noise_threshold_id,
        thermostat_schedule_id=schedule.thermostat_schedule_id,
        every_id=frozenset(every_id),
    )
    sandbox = Intruder(sandbox_id, Seam.from_personal_access_token(PAT, sandbox_id, endpoint=url),
                       {"authorization": f"Bearer {PAT}", "seam-workspace": sandbox_id})
    walls = Walls(server=walls_server, owner=owner, key=key, sandbox=sandbox, ws1=ws1)
    walls.seen = walls.witness()
    return walls


# --------------------------------------------------------------------------- helpers


def send(client: httpx.Client, method: str, path: str, params: dict[str, Any]) -> httpx.Response:
    """Query string for GET/DELETE, JSON body for the other verbs (as the route table reads).
    An object parameter goes in the query string as `name.key=value` (as the SDK sends it)."""
    if method in _QUERY_VERBS:
        query: dict[str, Any] = {}
        for name, value in params.items():
            if isinstance(value, dict):
                query.update({f"{name}.{key}": str(v).lower() if isinstance(v, bool) else v
                              for key, v in value.items()})
            else:
                query[name] = value
        return client.request(method, path, params=query)
    return client.request(method, path, json=params)


def strings_in(value: Any) -> set[str]:
    """Every string inside an answer (JSON, or an SDK resource), to look for foreign ids."""
    if isinstance(value, str):
        return {value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return set().union(*(strings_in(v) for v in value.values()), set())
    if isinstance(value, (list, tuple)):
        return set().union(*(strings_in(v) for v in value), set())
    return set()


def assert_nothing_of_workspace_1(items: list[Any], walls: Walls, intruder: Intruder,
                                  where: str) -> None:
    leaked = strings_in(items) & walls.ws1.every_id
    assert not leaked, f"{where} shows workspace 1's {sorted(leaked)}"
    for item in items:
        workspace_id = (item.get("workspace_id") if isinstance(item, dict)
                        else getattr(item, "workspace_id", None))
        assert workspace_id in (None, intruder.workspace_id), f"{where}: {workspace_id}'s item"


def replace_ids(params: dict[str, Any], ws1: Ws1) -> tuple[dict[str, Any], dict[str, str]]:
    """The same request naming ids that exist nowhere, and the substitutions made."""
    swaps: dict[str, str] = {}

    def swap(value: Any) -> Any:
        if isinstance(value, str) and value in ws1.every_id:
            return swaps.setdefault(value, f"unknown-{uuid.uuid4()}")
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return {k: swap(v) for k, v in params.items()}, swaps


def comparable(response: httpx.Response, names: set[str]) -> tuple[int, Any]:
    """Status and body without the request id, the named ids replaced by a placeholder."""
    body = response.json()
    body.get("error", {}).pop("request_id", None)
    text = json.dumps(body, sort_keys=True)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(json.dumps(name)[1:-1], "<id>")
    return response.status_code, json.loads(text)


# --------------------------------------------------------------------------- kinds of case

Params = Callable[[Ws1], dict[str, Any]]
SdkCall = Callable[[Seam, dict[str, Any]], Any]
KEY, SANDBOX = "key", "sandbox"


@dataclass(frozen=True)
class Hidden:
    """The intruder names workspace 1's resource: 404 `error_type`, as for an unknown id."""

    error_type: str
    params: Params
    sdk: SdkCall | None
    intruder: str = KEY

    def check(self, walls: Walls, route: Route) -> None:
        intruder: Intruder = getattr(walls, self.intruder)
        params = self.params(walls.ws1)
        if self.sdk is not None:
            with pytest.raises(SeamHttpApiError) as refused:
                self.sdk(intruder.seam, params)
            assert (refused.value.status_code, refused.value.code) == (404, self.error_type)
        unknown, swaps = replace_ids(params, walls.ws1)
        assert swaps, "a Hidden case must name something of workspace 1"
        names = {*swaps, *swaps.values()}
        with walls.raw_as(intruder) as http:
            for method in route.methods:
                foreign = send(http, method, route.path, params)
                assert foreign.status_code == 404, (method, foreign.text)
                assert foreign.json()["error"]["type"] == self.error_type, (method, foreign.text)
                nowhere = send(http, method, route.path, unknown)
                assert comparable(foreign, names) == comparable(nowhere, names), (
                    f"{method} {route.path}: workspace 1's id is answered differently from an "
                    f"unknown id, which tells the intruder that it exists")


@dataclass(frozen=True)
class OwnOnly:
    """The intruder asks about workspace 1's resources: 200 with its own items only."""

    key: str
    params: Params
    sdk: SdkCall | None
    intruder: str = KEY
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def check(self, walls: Walls, route: Route) -> None:
        intruder: Intruder = getattr(walls, self.intruder)
        params = self.params(walls.ws1)
        if self.sdk is not None:
            answer = self.sdk(intruder.seam, params)
            items = answer if isinstance(answer, list) else [answer]
            assert_nothing_of_workspace_1(items, walls, intruder, f"SDK {route.path}")
        with walls.raw_as(intruder, self.headers) as http:
            for method in route.methods:
                response = send(http, method, route.path, params)
                assert response.status_code == 200, (method, response.text)
                found = response.json()[self.key]
                items = found if isinstance(found, list) else [found]
                assert_nothing_of_workspace_1(items, walls, intruder, f"{method} {route.path}")


@dataclass(frozen=True)
class OwnChange:
    """The intruder changes something of its own (its workspace): 200, nothing of workspace 1
    in the answer, and (the witness checks) nothing of workspace 1 changed."""

    params: Params
    sdk: SdkCall | None
    intruder: str = KEY

    def check(self, walls: Walls, route: Route) -> None:
        intruder: Intruder = getattr(walls, self.intruder)
        params = self.params(walls.ws1)
        if self.sdk is not None:
            self.sdk(intruder.seam, params)
        with walls.raw_as(intruder) as http:
            for method in route.methods:
                response = send(http, method, route.path, params)
                assert response.status_code == 200, (method, response.text)
                assert_nothing_of_workspace_1([response.json()], walls, intruder,
                                              f"{method} {route.path}")


@dataclass(frozen=True)
class Refused:
    """A route the intruder may not use the way asked: its refusal, and nothing done."""

    status: int
    error_type: str
    params: Params
    sdk: SdkCall | None
    intruder: str = KEY

    def check(self, walls: Walls, route: Route) -> None:
        intruder: Intruder = getattr(walls, self.intruder)
        params = self.params(walls.ws1)
        if self.sdk is not None:
            with pytest.raises(SeamHttpApiError) as refused:
                self.sdk(intruder.seam, params)
            assert (refused.value.status_code, refused.value.code) == (self.status,
                                                                       self.error_type)
        with walls.raw_as(intruder) as http:
            for method in route.methods:
                response = send(http, method, route.path, params)
                assert response.status_code == self.status, (method, response.text)
                assert response.json()["error"]["type"] == self.error_type, response.text


Case = Hidden | OwnOnly | OwnChange | Refused
SEAM_WORKSPACE_1 = {"seam-workspace": SANDBOX_WORKSPACE}


def sandbox_route(error_type: str, params: Params, sdk: SdkCall | None = None) -> list[Case]:
    """A sandbox-only route naming workspace 1's resource: workspace 2 (production) is turned
    away, another sandbox gets the resource's 404."""
    return [Refused(400, "workspace_not_sandbox", params, sdk),
            Hidden(error_type, params, sdk, intruder=SANDBOX)]


def sandbox_clock(params: Params) -> list[Case]:
    """A clock route: workspace 2 has no clock; another sandbox gets (and moves) its own."""
    return [Refused(400, "workspace_not_sandbox", params, None),
            OwnOnly("clock", params, None, intruder=SANDBOX)]


# How another workspace tries to reach workspace 1 through each route, and what it must get.
def _thermostat(**extra: Any) -> Params:
    return lambda w: {"device_id": w.thermostat_id, **extra}


def _sensor(**extra: Any) -> Params:
    return lambda w: {"device_id": w.noise_sensor_id, **extra}


ISOLATION: dict[str, list[Case]] = {
    "/thermostats/list": [
        OwnOnly("devices", lambda w: {}, lambda s, p: s.thermostats.list(**p)),
        OwnOnly("thermostats", lambda w: {"manufacturer": "ecobee"}, None),
    ],
    "/thermostats/get": [Hidden("device_not_found", _thermostat(), None)],
    "/thermostats/heat": [
        Hidden("device_not_found", _thermostat(heating_set_point_fahrenheit=70),
               lambda s, p: s.thermostats.heat(**p))],
    "/thermostats/cool": [
        Hidden("device_not_found", _thermostat(cooling_set_point_fahrenheit=74),
               lambda s, p: s.thermostats.cool(**p))],
    "/thermostats/heat_cool": [
        Hidden("device_not_found", _thermostat(heating_set_point_fahrenheit=66,
                                               cooling_set_point_fahrenheit=76),
               lambda s, p: s.thermostats.heat_cool(**p))],
    "/thermostats/off": [
        Hidden("device_not_found", _thermostat(), lambda s, p: s.thermostats.off(**p))],
    "/thermostats/set_hvac_mode": [
        Hidden("device_not_found", _thermostat(hvac_mode_setting="off"),
               lambda s, p: s.thermostats.set_hvac_mode(**p))],
    "/thermostats/set_fan_mode": [
        Hidden("device_not_found", _thermostat(fan_mode_setting="on"),
               lambda s, p: s.thermostats.set_fan_mode(**p))],
    "/thermostats/activate_climate_preset": [
        Hidden("device_not_found", _thermostat(climate_preset_key="away"),
               lambda s, p: s.thermostats.activate_climate_preset(**p))],
    "/thermostats/create_climate_preset": [
        Hidden("device_not_found", _thermostat(climate_preset_key="intruder",
                                               hvac_mode_setting="off"),
               lambda s, p: s.thermostats.create_climate_preset(**p))],
    "/thermostats/update_climate_preset": [
        Hidden("device_not_found", _thermostat(climate_preset_key="home", name="Mine"),
               lambda s, p: s.thermostats.update_climate_preset(**p))],
    "/thermostats/delete_climate_preset": [
        Hidden("device_not_found", _thermostat(climate_preset_key="home"),
               lambda s, p: s.thermostats.delete_climate_preset(**p))],
    "/thermostats/set_fallback_climate_preset": [
        Hidden("device_not_found", _thermostat(climate_preset_key="away"),
               lambda s, p: s.thermostats.set_fallback_climate_preset(**p))],
    "/thermostats/set_temperature_threshold": [
        Hidden("device_not_found", _thermostat(lower_limit_celsius=10, upper_limit_celsius=12),
               lambda s, p: s.thermostats.set_temperature_threshold(**p))],
    "/thermostats/simulate/hvac_mode_adjusted": sandbox_route(
        "device_not_found", _thermostat(hvac_mode="off"),
        lambda s, p: s.thermostats.simulate.hvac_mode_adjusted(**p)),
    "/thermostats/simulate/temperature_reached": sandbox_route(
        "device_not_found", _thermostat(temperature_celsius=35),
        lambda s, p: s.thermostats.simulate.temperature_reached(**p)),
    "/thermostats/schedules/create": [
        Hidden("device_not_found", _thermostat(climate_preset_key="home",
                                               starts_at="2099-02-01T00:00:00Z",
                                               ends_at="2099-02-02T00:00:00Z"),
               lambda s, p: s.thermostats.schedules.create(**p))],
    "/thermostats/schedules/get": [
        Hidden("thermostat_schedule_not_found",
               lambda w: {"thermostat_schedule_id": w.thermostat_schedule_id},
               lambda s, p: s.thermostats.schedules.get(**p))],
    "/thermostats/schedules/list": [
        Hidden("device_not_found", _thermostat(), lambda s, p: s.thermostats.schedules.list(**p))],
    "/thermostats/schedules/update": [
        Hidden("thermostat_schedule_not_found",
               lambda w: {"thermostat_schedule_id": w.thermostat_schedule_id, "name": "Mine"},
               lambda s, p: s.thermostats.schedules.update(**p))],
    "/thermostats/schedules/delete": [
        Hidden("thermostat_schedule_not_found",
               lambda w: {"thermostat_schedule_id": w.thermostat_schedule_id},
               lambda s, p: s.thermostats.schedules.delete(**p))],
    "/noise_sensors/list": [
        OwnOnly("devices", lambda w: {}, lambda s, p: s.noise_sensors.list(**p)),
        OwnOnly("noise_sensors", lambda w: {"manufacturer": "minut"}, None),
    ],
    "/noise_sensors/noise_thresholds/create": [
        Hidden("device_not_found", _sensor(starts_daily_at="20:00:00", ends_daily_at="08:00:00",
                                           noise_threshold_decibels=90),
               lambda s, p: s.noise_sensors.noise_thresholds.create(**p))],
    "/noise_sensors/noise_thresholds/update": [
        Hidden("device_not_found",
               lambda w: {"device_id": w.noise_sensor_id,
                          "noise_threshold_id": w.noise_threshold_id,
                          "noise_threshold_decibels": 95},
               lambda s, p: s.noise_sensors.noise_thresholds.update(**p))],
    "/noise_sensors/noise_thresholds/delete": [
        Hidden("device_not_found",
               lambda w: {"device_id": w.noise_sensor_id,
                          "noise_threshold_id": w.noise_threshold_id},
               lambda s, p: s.noise_sensors.noise_thresholds.delete(**p))],
    "/noise_sensors/noise_thresholds/get": [
        Hidden("noise_threshold_not_found", lambda w: {"noise_threshold_id": w.noise_threshold_id},
               lambda s, p: s.noise_sensors.noise_thresholds.get(**p))],
    "/noise_sensors/noise_thresholds/list": [
        Hidden("device_not_found", _sensor(),
               lambda s, p: s.noise_sensors.noise_thresholds.list(**p))],
    "/noise_sensors/simulate/trigger_noise_threshold": sandbox_route(
        "device_not_found", _sensor(),
        lambda s, p: s.noise_sensors.simulate.trigger_noise_threshold(**p)),
    "/devices/get": [
        Hidden("device_not_found", lambda w: {"device_id": w.device_id},
               lambda s, p: s.devices.get(**p)),
        Hidden("device_not_found", lambda w: {"name": w.device_name},
               lambda s, p: s.devices.get(**p)),
    ],
    "/locks/get": [
        Hidden("device_not_found", lambda w: {"device_id": w.device_id},
               lambda s, p: s.locks.get(**p)),
        Hidden("device_not_found", lambda w: {"name": w.device_name},
               lambda s, p: s.locks.get(**p)),
    ],
    "/devices/unmanaged/get": [
        Hidden("device_not_found", lambda w: {"device_id": w.unmanaged_device_id},
               lambda s, p: s.devices.unmanaged.get(**p)),
        Hidden("device_not_found", lambda w: {"name": w.unmanaged_device_name},
               lambda s, p: s.devices.unmanaged.get(**p)),
    ],
    "/devices/delete": [
        Hidden("device_not_found", lambda w: {"device_id": w.device_id}, None),
    ],
    "/devices/update": [
        Hidden("device_not_found",
               lambda w: {"device_id": w.device_id, "name": "Taken over",
                          "custom_metadata": {"owner": "intruder"}, "is_managed": False},
               lambda s, p: s.devices.update(**p)),
    ],
    "/devices/unmanaged/update": [
        Hidden("device_not_found",
               lambda w: {"device_id": w.unmanaged_device_id, "is_managed": True,
                          "custom_metadata": {"owner": "intruder"}},
               lambda s, p: s.devices.unmanaged.update(**p)),
    ],
    "/locks/lock_door": [
        Hidden("device_not_found", lambda w: {"device_id": w.device_id},
               lambda s, p: s.locks.lock_door(**p)),
    ],
    "/locks/configure_auto_lock": [
        Hidden("device_not_found", lambda w: {"device_id": w.device_id,
                                              "auto_lock_enabled": True},
               lambda s, p: s.locks.configure_auto_lock(**p)),
    ],
    "/locks/unlock_door": [
        Hidden("device_not_found", lambda w: {"device_id": w.device_id},
               lambda s, p: s.locks.unlock_door(**p)),
    ],
    "/locks/simulate/keypad_code_entry": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id, "code": PIN},
        lambda s, p: s.locks.simulate.keypad_code_entry(**p)),
    "/locks/simulate/manual_lock_via_keypad": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id},
        lambda s, p: s.locks.simulate.manual_lock_via_keypad(**p)),
    "/devices/simulate/connect": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id},
        lambda s, p: s.devices.simulate.connect(**p)),
    "/devices/simulate/disconnect": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id},
        lambda s, p: s.devices.simulate.disconnect(**p)),
    "/devices/simulate/connect_to_hub": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id},
        lambda s, p: s.devices.simulate.connect_to_hub(**p)),
    "/devices/simulate/disconnect_from_hub": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id},
        lambda s, p: s.devices.simulate.disconnect_from_hub(**p)),
    "/devices/simulate/remove": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id},
        lambda s, p: s.devices.simulate.remove(**p)),
    "/devices/simulate/paid_subscription": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id, "is_expired": True},
        lambda s, p: s.devices.simulate.paid_subscription(**p)),
    "/connected_accounts/get": [
        Hidden("connected_account_not_found",
               lambda w: {"connected_account_id": w.connected_account_id},
               lambda s, p: s.connected_accounts.get(**p)),
    ],
    "/connected_accounts/list": [
        OwnOnly("connected_accounts", lambda w: {}, lambda s, p: s.connected_accounts.list(**p)),
        # The customer key workspace 1's webview gave its connected account.
        OwnOnly("connected_accounts", lambda w: {"customer_key": WEBVIEW_CUSTOMER},
                lambda s, p: s.connected_accounts.list(**p)),
    ],
    "/connect_webviews/create": [
        # Allowed, in workspace 2's own name: its webview, and whatever it connects, are its own.
        OwnOnly("connect_webview",
                lambda w: {"accepted_providers": ["ttlock"], "customer_key": "ws2-customer",
                           "custom_metadata": {"tenant": "ws2-tenant"}},
                lambda s, p: s.connect_webviews.create(**p)),
    ],
    "/connect_webviews/get": [
        Hidden("connect_webview_not_found",
               lambda w: {"connect_webview_id": w.connect_webview_id},
               lambda s, p: s.connect_webviews.get(**p)),
        Hidden("connect_webview_not_found",
               lambda w: {"connect_webview_id": w.pending_connect_webview_id},
               lambda s, p: s.connect_webviews.get(**p)),
    ],
    "/connect_webviews/list": [
        OwnOnly("connect_webviews", lambda w: {}, lambda s, p: s.connect_webviews.list(**p)),
        OwnOnly("connect_webviews", lambda w: {"customer_key": WEBVIEW_CUSTOMER},
                lambda s, p: s.connect_webviews.list(**p)),
        OwnOnly("connect_webviews", lambda w: {"custom_metadata_has": {"tenant": WEBVIEW_TENANT}},
                lambda s, p: s.connect_webviews.list(**p)),
        OwnOnly("connect_webviews", lambda w: {"search": w.connect_webview_id},
                lambda s, p: s.connect_webviews.list(**p)),
        OwnOnly("connect_webviews", lambda w: {"search": WEBVIEW_CUSTOMER},
                lambda s, p: s.connect_webviews.list(**p)),
        # Workspace 1's cursor is signed for workspace 1: elsewhere it is no cursor at all.
        Refused(400, "invalid_input", lambda w: {"limit": 1, "page_cursor": w.webview_page_cursor},
                lambda s, p: s.connect_webviews.list(**p)),
    ],
    "/connect_webviews/delete": [
        Hidden("connect_webview_not_found",
               lambda w: {"connect_webview_id": w.connect_webview_id},
               lambda s, p: s.connect_webviews.delete(**p)),
        Hidden("connect_webview_not_found",
               lambda w: {"connect_webview_id": w.pending_connect_webview_id},
               lambda s, p: s.connect_webviews.delete(**p)),
    ],
    "/connected_accounts/update": [
        Hidden("connected_account_not_found",
               lambda w: {"connected_account_id": w.connected_account_id,
                          "display_name": "Taken over", "custom_metadata": {"owner": "x"}},
               lambda s, p: s.connected_accounts.update(**p)),
    ],
    "/connected_accounts/delete": [
        Hidden("connected_account_not_found",
               lambda w: {"connected_account_id": w.connected_account_id},
               lambda s, p: s.connected_accounts.delete(**p)),
    ],
    "/connected_accounts/sync": [
        Hidden("connected_account_not_found",
               lambda w: {"connected_account_id": w.connected_account_id},
               lambda s, p: s.connected_accounts.sync(**p)),
    ],
    "/connected_accounts/simulate/disconnect": sandbox_route(
        "connected_account_not_found", lambda w: {"connected_account_id": w.connected_account_id},
        lambda s, p: s.connected_accounts.simulate.disconnect(**p)),
    "/action_attempts/get": [
        Hidden("action_attempt_not_found", lambda w: {"action_attempt_id": w.action_attempt_id},
               lambda s, p: s.action_attempts.get(**p)),
    ],
    "/events/get": [
        Hidden("event_not_found", lambda w: {"event_id": w.event_id},
               lambda s, p: s.events.get(**p)),
        Hidden("event_not_found", lambda w: {"device_id": w.device_id},
               lambda s, p: s.events.get(**p)),
    ],
    "/devices/list": [
        OwnOnly("devices", lambda w: {}, lambda s, p: s.devices.list(**p)),
        OwnOnly("devices", lambda w: {"device_ids": [w.device_id]},
                lambda s, p: s.devices.list(**p)),
        OwnOnly("devices", lambda w: {"connected_account_id": w.connected_account_id},
                lambda s, p: s.devices.list(**p)),
        OwnOnly("devices", lambda w: {"search": w.device_name},
                lambda s, p: s.devices.list(**p)),
        OwnOnly("devices", lambda w: {"space_id": w.space_id},
                lambda s, p: s.devices.list(**p)),
        # Workspace 1's cursor is signed for workspace 1: elsewhere it is no cursor at all.
        Refused(400, "invalid_input", lambda w: {"limit": 1, "page_cursor": w.page_cursor},
                lambda s, p: s.devices.list(**p)),
    ],
    "/devices/unmanaged/list": [
        OwnOnly("devices", lambda w: {}, lambda s, p: s.devices.unmanaged.list(**p)),
        OwnOnly("devices", lambda w: {"device_ids": [w.unmanaged_device_id]},
                lambda s, p: s.devices.unmanaged.list(**p)),
    ],
    "/locks/list": [
        OwnOnly("devices", lambda w: {}, lambda s, p: s.locks.list(**p)),
        OwnOnly("devices", lambda w: {"connected_account_id": w.connected_account_id},
                lambda s, p: s.locks.list(**p)),
    ],
    "/devices/list_device_providers": [
        OwnOnly("device_providers", lambda w: {},
                lambda s, p: s.devices.list_device_providers(**p)),
    ],
    "/action_attempts/list": [
        OwnOnly("action_attempts", lambda w: {}, lambda s, p: s.action_attempts.list(**p)),
        OwnOnly("action_attempts", lambda w: {"action_attempt_ids": [w.action_attempt_id]},
                lambda s, p: s.action_attempts.list(**p)),
        OwnOnly("action_attempts", lambda w: {"device_id": w.device_id},
                lambda s, p: s.action_attempts.list(**p)),
    ],
    "/events/list": [
        OwnOnly("events", lambda w: {"since": EPOCH}, lambda s, p: s.events.list(**p)),
        OwnOnly("events", lambda w: {"since": EPOCH, "device_id": w.device_id},
                lambda s, p: s.events.list(**p)),
        OwnOnly("events", lambda w: {"since": EPOCH, "event_ids": [w.event_id]},
                lambda s, p: s.events.list(**p)),
        OwnOnly("events", lambda w: {"since": EPOCH,
                                     "connected_account_id": w.connected_account_id},
                lambda s, p: s.events.list(**p)),
        OwnOnly("events", lambda w: {"since": EPOCH,
                                     "connect_webview_id": w.connect_webview_id},
                lambda s, p: s.events.list(**p)),
    ],
    "/access_codes/create": [
        Hidden("device_not_found",
               lambda w: {"device_id": w.device_id, "code": "5555", "name": "Intruder"},
               lambda s, p: s.access_codes.create(**p)),
    ],
    "/access_codes/create_multiple": [
        Hidden("device_not_found",
               lambda w: {"device_ids": [w.device_id], "code": "5555", "name": "Intruder"},
               lambda s, p: s.access_codes.create_multiple(**p)),
    ],
    "/access_codes/get": [
        Hidden("access_code_not_found", lambda w: {"access_code_id": w.access_code_id},
               lambda s, p: s.access_codes.get(**p)),
        Hidden("access_code_not_found", lambda w: {"device_id": w.device_id, "code": PIN},
               lambda s, p: s.access_codes.get(**p)),
    ],
    "/access_codes/list": [
        OwnOnly("access_codes", lambda w: {"device_id": w.device_id},
                lambda s, p: s.access_codes.list(**p)),
        OwnOnly("access_codes", lambda w: {"access_code_ids": [w.access_code_id]},
                lambda s, p: s.access_codes.list(**p)),
        OwnOnly("access_codes", lambda w: {"search": "Cleaner"},
                lambda s, p: s.access_codes.list(**p)),
    ],
    "/access_codes/update": [
        Hidden("access_code_not_found",
               lambda w: {"access_code_id": w.access_code_id, "name": "Intruder", "code": "5555"},
               lambda s, p: s.access_codes.update(**p)),
    ],
    "/access_codes/update_multiple": [
        Hidden("access_code_not_found",
               lambda w: {"common_code_key": COMMON_CODE_KEY, "name": "Intruder"},
               lambda s, p: s.access_codes.update_multiple(**p)),
    ],
    "/access_codes/get_timeline": [
        Hidden("access_code_not_found", lambda w: {"access_code_id": w.access_code_id}, None),
    ],
    "/access_codes/delete": [
        Hidden("access_code_not_found", lambda w: {"access_code_id": w.access_code_id},
               lambda s, p: s.access_codes.delete(**p)),
    ],
    "/access_codes/generate_code": [
        Hidden("device_not_found", lambda w: {"device_id": w.device_id},
               lambda s, p: s.access_codes.generate_code(**p)),
    ],
    "/access_codes/pull_backup_access_code": [
        Hidden("access_code_not_found", lambda w: {"access_code_id": w.access_code_id},
               lambda s, p: s.access_codes.pull_backup_access_code(**p)),
    ],
    "/access_codes/report_device_constraints": [
        Hidden("device_not_found",
               lambda w: {"device_id": w.device_id, "supported_code_lengths": [4]},
               lambda s, p: s.access_codes.report_device_constraints(**p)),
    ],
    "/access_codes/unmanaged/list": [
        OwnOnly("access_codes", lambda w: {"device_id": w.device_id},
                lambda s, p: s.access_codes.unmanaged.list(**p)),
    ],
    "/access_codes/unmanaged/get": [
        Hidden("access_code_not_found",
               lambda w: {"access_code_id": w.unmanaged_access_code_id},
               lambda s, p: s.access_codes.unmanaged.get(**p)),
        Hidden("access_code_not_found",
               lambda w: {"device_id": w.device_id, "code": UNMANAGED_PIN},
               lambda s, p: s.access_codes.unmanaged.get(**p)),
    ],
    "/access_codes/unmanaged/convert_to_managed": [
        Hidden("access_code_not_found",
               lambda w: {"access_code_id": w.unmanaged_access_code_id},
               lambda s, p: s.access_codes.unmanaged.convert_to_managed(**p)),
    ],
    "/access_codes/unmanaged/update": [
        Hidden("access_code_not_found",
               lambda w: {"access_code_id": w.unmanaged_access_code_id, "is_managed": True},
               lambda s, p: s.access_codes.unmanaged.update(**p)),
    ],
    "/access_codes/unmanaged/delete": [
        Hidden("access_code_not_found",
               lambda w: {"access_code_id": w.unmanaged_access_code_id},
               lambda s, p: s.access_codes.unmanaged.delete(**p)),
    ],
    "/access_codes/simulate/create_unmanaged_access_code": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id, "code": "2468", "name": "x"},
        lambda s, p: s.access_codes.simulate.create_unmanaged_access_code(**p)),
    "/webhooks/create": [
        # Allowed, in workspace 2's own name (see the test on deliveries below).
        OwnOnly("webhook", lambda w: {"url": WS2_HOOK, "event_types": ["device.added"]},
                lambda s, p: s.webhooks.create(**p)),
    ],
    "/webhooks/get": [
        Hidden("webhook_not_found", lambda w: {"webhook_id": w.webhook_id},
               lambda s, p: s.webhooks.get(**p)),
    ],
    "/webhooks/list": [
        OwnOnly("webhooks", lambda w: {}, lambda s, p: s.webhooks.list(**p)),
    ],
    "/webhooks/update": [
        Hidden("webhook_not_found",
               lambda w: {"webhook_id": w.webhook_id, "event_types": ["device.added"]},
               lambda s, p: s.webhooks.update(**p)),
    ],
    "/webhooks/delete": [
        Hidden("webhook_not_found", lambda w: {"webhook_id": w.webhook_id},
               lambda s, p: s.webhooks.delete(**p)),
    ],
    # Seam's device database (Seam Components' supported-devices table), answered from the
    # catalogue: the same for every workspace, nothing of any workspace in it.
    "/internal/devicedb/v1/manufacturers/list": [
        OwnOnly("manufacturers", lambda w: {}, None),
    ],
    "/internal/devicedb/v1/manufacturers/get": [
        OwnOnly("manufacturer", lambda w: {"manufacturer_id": manufacturer_id("august")}, None),
    ],
    "/internal/devicedb/v1/device_models/list": [
        OwnOnly("device_models", lambda w: {}, None),
    ],
    "/internal/devicedb/v1/device_models/get": [
        OwnOnly("device_model", lambda w: {
            "device_model_id": device_model_id("august", "wifi_smart_lock")}, None),
    ],
    # lockhub's own delivery log and sandbox controls (no SDK methods).
    "/_lockhub/webhooks/deliveries/list": [
        OwnOnly("deliveries", lambda w: {}, None),
        OwnOnly("deliveries", lambda w: {"webhook_id": w.webhook_id}, None),
        OwnOnly("deliveries", lambda w: {"event_id": w.event_id}, None),
    ],
    "/_lockhub/webhooks/deliveries/replay": [
        Hidden("webhook_delivery_not_found", lambda w: {"delivery_id": w.delivery_id}, None),
    ],
    "/_lockhub/sandbox/clock/get": sandbox_clock(lambda w: {}),
    "/_lockhub/sandbox/clock/freeze": sandbox_clock(lambda w: {}),
    "/_lockhub/sandbox/clock/unfreeze": sandbox_clock(lambda w: {}),
    "/_lockhub/sandbox/clock/advance": sandbox_clock(lambda w: {"seconds": 3600}),
    "/_lockhub/sandbox/clock/set": sandbox_clock(
        lambda w: {"now": "2031-01-01T00:00:00Z", "frozen": True}),
    "/_lockhub/sandbox/devices/inject_failure": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id, "error_type": "device_offline",
                                       "count": 5}),
    "/_lockhub/sandbox/devices/clear_faults": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id}),
    "/_lockhub/sandbox/devices/set_conditions": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id, "online": False}),
    "/_lockhub/sandbox/devices/set_climate": sandbox_route(
        "device_not_found", _thermostat(ambient_celsius=-20)),
    "/_lockhub/sandbox/devices/list_codes_on_lock": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id}),
    "/_lockhub/sandbox/devices/edit_code_on_lock": sandbox_route(
        "device_not_found", lambda w: {"device_id": w.device_id, "slot": 0, "remove": True}),
    "/client_sessions/create": [
        # The intruder's own session cannot be granted workspace 1's account or identity.
        Hidden("connected_account_not_found",
               lambda w: {"connected_account_ids": [w.connected_account_id]},
               lambda s, p: s.client_sessions.create(**p)),
        Hidden("user_identity_not_found", lambda w: {"user_identity_ids": [w.user_identity_id]},
               lambda s, p: s.client_sessions.create(**p)),
    ],
    "/client_sessions/get_or_create": [
        Hidden("connect_webview_not_found", lambda w: {
            "user_identifier_key": w.user_identifier_key,
            "connect_webview_ids": [w.connect_webview_id]},
            lambda s, p: s.client_sessions.get_or_create(**p)),
    ],
    "/client_sessions/get": [
        Hidden("client_session_not_found", lambda w: {"client_session_id": w.client_session_id},
               lambda s, p: s.client_sessions.get(**p)),
        Hidden("client_session_not_found",
               lambda w: {"user_identifier_key": w.user_identifier_key},
               lambda s, p: s.client_sessions.get(**p)),
    ],
    "/client_sessions/list": [
        OwnOnly("client_sessions", lambda w: {}, lambda s, p: s.client_sessions.list(**p)),
        OwnOnly("client_sessions", lambda w: {"user_identifier_key": w.user_identifier_key},
                lambda s, p: s.client_sessions.list(**p)),
    ],
    "/client_sessions/grant_access": [
        Hidden("client_session_not_found", lambda w: {"client_session_id": w.client_session_id,
                                                      "connected_account_ids": []},
               lambda s, p: s.client_sessions.grant_access(**p)),
    ],
    "/client_sessions/revoke": [
        Hidden("client_session_not_found", lambda w: {"client_session_id": w.client_session_id},
               lambda s, p: s.client_sessions.revoke(**p)),
    ],
    "/client_sessions/delete": [
        Hidden("client_session_not_found", lambda w: {"client_session_id": w.client_session_id},
               lambda s, p: s.client_sessions.delete(**p)),
    ],
    "/user_identities/create": [
        # Keys are unique per workspace: workspace 1's key is free in another one.
        OwnChange(lambda w: {"full_name": "Intruder's guest"},
                  lambda s, p: s.user_identities.create(**p)),
    ],
    "/user_identities/get": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id},
               lambda s, p: s.user_identities.get(**p)),
        Hidden("user_identity_not_found", lambda w: {"user_identity_key": w.user_identity_key},
               lambda s, p: s.user_identities.get(**p)),
    ],
    "/user_identities/list": [
        OwnOnly("user_identities", lambda w: {}, lambda s, p: s.user_identities.list(**p)),
        OwnOnly("user_identities", lambda w: {"user_identity_ids": [w.user_identity_id]},
                lambda s, p: s.user_identities.list(**p)),
    ],
    "/user_identities/update": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id,
                                                     "full_name": "Renamed by workspace 2"},
               lambda s, p: s.user_identities.update(**p)),
    ],
    "/user_identities/delete": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id},
               lambda s, p: s.user_identities.delete(**p)),
    ],
    "/user_identities/grant_access_to_device": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id,
                                                     "device_id": w.device_id},
               lambda s, p: s.user_identities.grant_access_to_device(**p)),
    ],
    "/user_identities/revoke_access_to_device": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id,
                                                     "device_id": w.device_id},
               lambda s, p: s.user_identities.revoke_access_to_device(**p)),
    ],
    "/user_identities/list_accessible_devices": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id},
               lambda s, p: s.user_identities.list_accessible_devices(**p)),
    ],
    "/user_identities/list_acs_systems": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id},
               lambda s, p: s.user_identities.list_acs_systems(**p)),
    ],
    "/user_identities/list_acs_users": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id},
               lambda s, p: s.user_identities.list_acs_users(**p)),
    ],
    "/user_identities/list_accessible_entrances": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id},
               lambda s, p: s.user_identities.list_accessible_entrances(**p)),
    ],
    "/user_identities/add_acs_user": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id,
                                                     "acs_user_id": str(uuid.uuid4())},
               lambda s, p: s.user_identities.add_acs_user(**p)),
    ],
    "/user_identities/remove_acs_user": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.user_identity_id,
                                                     "acs_user_id": str(uuid.uuid4())},
               lambda s, p: s.user_identities.remove_acs_user(**p)),
    ],
    "/spaces/create": [
        # The intruder's own space cannot hold workspace 1's device or account.
        Hidden("device_not_found", lambda w: {"name": "Intruder's unit",
                                              "device_ids": [w.device_id]},
               lambda s, p: s.spaces.create(**p)),
        Hidden("connected_account_not_found",
               lambda w: {"name": "Intruder's unit",
                          "connected_account_ids": [w.connected_account_id]},
               lambda s, p: s.spaces.create(**p)),
        OwnChange(lambda w: {"name": "Intruder's unit"}, lambda s, p: s.spaces.create(**p)),
    ],
    "/spaces/get": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id},
               lambda s, p: s.spaces.get(**p)),
        Hidden("space_not_found", lambda w: {"space_key": w.space_key},
               lambda s, p: s.spaces.get(**p)),
    ],
    "/spaces/list": [
        OwnOnly("spaces", lambda w: {}, lambda s, p: s.spaces.list(**p)),
        OwnOnly("spaces", lambda w: {"space_key": w.space_key},
                lambda s, p: s.spaces.list(**p)),
        OwnOnly("spaces", lambda w: {"search": WS1_SPACE_NAME},
                lambda s, p: s.spaces.list(**p)),
        # Filters the SDK leaves out.
        OwnOnly("spaces", lambda w: {"connected_account_id": w.connected_account_id}, None),
        OwnOnly("spaces", lambda w: {"parent_space_id": w.space_id}, None),
    ],
    "/spaces/update": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id, "name": "Taken over",
                                             "device_ids": []},
               lambda s, p: s.spaces.update(**p)),
        Hidden("space_not_found", lambda w: {"space_key": w.space_key, "name": "Taken over"},
               lambda s, p: s.spaces.update(**p)),
    ],
    "/spaces/delete": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id},
               lambda s, p: s.spaces.delete(**p)),
    ],
    "/spaces/add_devices": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id,
                                             "device_ids": [w.unmanaged_device_id]},
               lambda s, p: s.spaces.add_devices(**p)),
    ],
    "/spaces/remove_devices": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id,
                                             "device_ids": [w.device_id]},
               lambda s, p: s.spaces.remove_devices(**p)),
    ],
    "/spaces/add_connected_account": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id,
                                             "connected_account_id": w.connected_account_id},
               lambda s, p: s.spaces.add_connected_account(**p)),
    ],
    "/spaces/remove_connected_account": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id,
                                             "connected_account_id": w.connected_account_id},
               lambda s, p: s.spaces.remove_connected_account(**p)),
    ],
    "/spaces/add_acs_entrances": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id,
                                             "acs_entrance_ids": [str(uuid.uuid4())]},
               lambda s, p: s.spaces.add_acs_entrances(**p)),
    ],
    "/spaces/remove_acs_entrances": [
        Hidden("space_not_found", lambda w: {"space_id": w.space_id,
                                             "acs_entrance_ids": [str(uuid.uuid4())]},
               lambda s, p: s.spaces.remove_acs_entrances(**p)),
    ],
    "/spaces/get_related": [
        Hidden("space_not_found", lambda w: {"space_ids": [w.space_id]},
               lambda s, p: s.spaces.get_related(**p)),
        Hidden("space_not_found", lambda w: {"space_keys": [w.space_key]},
               lambda s, p: s.spaces.get_related(**p)),
    ],
    "/access_grants/create": [
        Hidden("user_identity_not_found", lambda w: {
            "user_identity_id": w.user_identity_id, "device_ids": [],
            "requested_access_methods": [{"mode": "code"}]},
            lambda s, p: s.access_grants.create(**p)),
        Hidden("device_not_found", lambda w: {
            "user_identity": {"full_name": "Intruder"}, "device_ids": [w.device_id],
            "requested_access_methods": [{"mode": "code"}]},
            lambda s, p: s.access_grants.create(**p)),
        Hidden("space_not_found", lambda w: {
            "user_identity": {"full_name": "Intruder"}, "space_ids": [w.space_id],
            "requested_access_methods": [{"mode": "code"}]},
            lambda s, p: s.access_grants.create(**p)),
    ],
    "/access_grants/get": [
        Hidden("access_grant_not_found", lambda w: {"access_grant_id": w.access_grant_id},
               lambda s, p: s.access_grants.get(**p)),
        Hidden("access_grant_not_found", lambda w: {"access_grant_key": w.access_grant_key},
               lambda s, p: s.access_grants.get(**p)),
    ],
    "/access_grants/list": [
        OwnOnly("access_grants", lambda w: {}, lambda s, p: s.access_grants.list(**p)),
        OwnOnly("access_grants", lambda w: {"user_identity_id": w.user_identity_id},
                lambda s, p: s.access_grants.list(**p)),
        OwnOnly("access_grants", lambda w: {"device_id": w.device_id}, None),
    ],
    "/access_grants/update": [
        Hidden("access_grant_not_found", lambda w: {"access_grant_id": w.access_grant_id,
                                                    "name": "Renamed by workspace 2"},
               lambda s, p: s.access_grants.update(**p)),
    ],
    "/access_grants/delete": [
        Hidden("access_grant_not_found", lambda w: {"access_grant_id": w.access_grant_id},
               lambda s, p: s.access_grants.delete(**p)),
    ],
    "/access_grants/get_related": [
        Hidden("access_grant_not_found", lambda w: {"access_grant_ids": [w.access_grant_id]},
               lambda s, p: s.access_grants.get_related(**p)),
    ],
    "/access_grants/request_access_methods": [
        Hidden("access_grant_not_found", lambda w: {
            "access_grant_id": w.access_grant_id,
            "requested_access_methods": [{"mode": "code"}]},
            lambda s, p: s.access_grants.request_access_methods(**p)),
    ],
    "/access_methods/get": [
        Hidden("access_method_not_found", lambda w: {"access_method_id": w.access_method_id},
               lambda s, p: s.access_methods.get(**p)),
    ],
    "/access_methods/list": [
        OwnOnly("access_methods", lambda w: {"access_grant_id": w.access_grant_id},
                lambda s, p: s.access_methods.list(**p)),
    ],
    "/access_methods/delete": [
        Hidden("access_method_not_found", lambda w: {"access_method_id": w.access_method_id},
               lambda s, p: s.access_methods.delete(**p)),
        Hidden("access_grant_not_found", lambda w: {"reservation_key": w.reservation_key},
               lambda s, p: s.access_methods.delete(**p)),
    ],
    "/access_methods/get_related": [
        Hidden("access_method_not_found", lambda w: {"access_method_ids": [w.access_method_id]},
               lambda s, p: s.access_methods.get_related(**p)),
    ],
    "/access_methods/unlock_door": [
        Hidden("access_method_not_found", lambda w: {"access_method_id": w.access_method_id,
                                                     "acs_entrance_id": str(uuid.uuid4())},
               lambda s, p: s.access_methods.unlock_door(**p)),
    ],
    "/access_methods/encode": [
        Hidden("access_method_not_found", lambda w: {"access_method_id": w.access_method_id,
                                                     "acs_encoder_id": str(uuid.uuid4())},
               lambda s, p: s.access_methods.encode(**p)),
    ],
    "/access_methods/assign_card": [
        Hidden("access_method_not_found", lambda w: {"access_method_id": w.access_method_id,
                                                     "card_number": "1234"},
               lambda s, p: s.access_methods.assign_card(**p)),
    ],
    "/workspaces/get": [
        OwnOnly("workspace", lambda w: {}, lambda s, p: s.workspaces.get(**p)),
        # An API key belongs to one workspace: the seam-workspace header cannot switch it.
        OwnOnly("workspace", lambda w: {}, None, headers=SEAM_WORKSPACE_1),
    ],
    "/workspaces/list": [
        OwnOnly("workspaces", lambda w: {}, lambda s, p: s.workspaces.list(**p)),
        OwnOnly("workspaces", lambda w: {}, None, headers=SEAM_WORKSPACE_1),
    ],
    "/workspaces/create": [
        # Only a personal access token creates workspaces.
        Refused(401, "unauthorized", lambda w: {"name": "Intruder's workspace"},
                lambda s, p: s.workspaces.create(**p)),
    ],
    "/workspaces/update": [
        # Always the caller's own workspace: there is no workspace_id to name another.
        OwnChange(lambda w: {"name": "Renamed by workspace 2",
                             "connect_webview_customization": {"success_message": "ws2"}},
                  lambda s, p: s.workspaces.update(**p)),
        OwnChange(lambda w: {"name": "Renamed by john"}, lambda s, p: s.workspaces.update(**p),
                  intruder="sandbox"),
    ],
    "/workspaces/reset_sandbox": [
        # Workspace 2 is not a sandbox; any reset acts on the caller's own workspace only.
        Refused(400, "workspace_not_sandbox", lambda w: {},
                lambda s, p: s.workspaces.reset_sandbox(**p)),
    ],
}


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("route", WORKSPACE_ROUTES, ids=lambda r: r.path)
def test_another_workspace_can_neither_read_nor_change_the_first_through(
    route: Route, walls: Walls
) -> None:
    cases = ISOLATION.get(route.path)
    if not cases:
        pytest.fail(f"{route.path} takes a workspace but has no isolation case: add to ISOLATION "
                    f"how another workspace would try to reach workspace 1 through it")
    # The witness last saw workspace 1 after the previous route (nothing else acts meanwhile).
    before = walls.seen
    for case in cases:
        case.check(walls, route)
    walls.seen = walls.witness()
    assert walls.seen == before, f"{route.path} changed workspace 1"
    for intruder in (walls.key, walls.sandbox):
        assert intruder.seam.action_attempts.list() == [], "an action started elsewhere"


def test_isolation_cases_are_exactly_the_served_workspace_routes(
    walls_server: LockhubServer,
) -> None:
    served = httpx.get(f"{walls_server.url}/openapi.json").json()["paths"]
    secured = {path for path, item in served.items()
               if any("security" in operation for operation in item.values())}
    table = {r.path for r in WORKSPACE_ROUTES}
    assert secured == table, "the served API and the route table disagree on workspace routes"
    assert set(ISOLATION) <= table, f"cases for routes not served: {set(ISOLATION) - table}"


def test_personal_access_token_reaches_its_users_workspace_only(
    walls_server: LockhubServer,
) -> None:
    url = walls_server.url
    own = Seam.from_personal_access_token(PAT, SANDBOX_WORKSPACE, endpoint=url)
    assert own.workspaces.get().workspace_id == SANDBOX_WORKSPACE
    for workspace_id in (OTHER_WORKSPACE, f"unknown-{uuid.uuid4()}"):
        elsewhere = Seam.from_personal_access_token(PAT, workspace_id, endpoint=url)
        with pytest.raises(SeamHttpUnauthorizedError):
            elsewhere.devices.list()
        with pytest.raises(SeamHttpUnauthorizedError):
            elsewhere.workspaces.get()


@pytest.mark.parametrize("route", WORKSPACE_ROUTES, ids=lambda r: r.path)
def test_personal_access_token_is_refused_alike_for_a_foreign_or_unknown_workspace(
    route: Route, walls_server: LockhubServer
) -> None:
    """401 for a workspace john is not a member of, exactly as for one that does not exist."""
    unknown = f"unknown-{uuid.uuid4()}"
    answers = []
    for workspace_id in (OTHER_WORKSPACE, unknown):
        with raw(walls_server, PAT, {"seam-workspace": workspace_id}) as http:
            response = http.post(route.path, json={})
        assert response.status_code == 401, (workspace_id, response.text)
        answers.append(comparable(response, {OTHER_WORKSPACE, unknown}))
    assert answers[0] == answers[1]


def test_a_webhook_of_another_workspace_is_sent_none_of_the_first_ones_events(
    walls: Walls,
) -> None:
    """Workspace 2 subscribed to every event before workspace 1 locked a door, created codes
    and changed devices: its outbox holds none of that."""
    with walls.raw_as(walls.key) as http:
        deliveries = http.get("/_lockhub/webhooks/deliveries/list").json()["deliveries"]
    assert_nothing_of_workspace_1(deliveries, walls, walls.key, "workspace 2's deliveries")
    own_events = {e.event_id for e in walls.key.seam.events.list(since=EPOCH)}
    assert {d["event_id"] for d in deliveries} <= own_events
