"""A client session sees only what it was granted, on every route it may call.

The session holds one user identity, granted one lock (A). Its workspace has more: lock B on
the same account, B's codes, an action attempt and events of B, the account itself, a Connect
Webview and another session. Every route that accepts a session token has cases here (the
test fails when a route is added without one): naming something outside the grant answers the
same 404 as an id that exists nowhere, lists hold only what the session sees, and the owner
(the API key) sees nothing of B changed afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from seam import Seam

from lockhub.api import app  # noqa: F401  (importing registers every route)
from lockhub.api.routing import ROUTES
from lockhub.domain.devicedb import device_model_id, manufacturer_id
from tests.conformance.helpers import (
    EPOCH,
    SANDBOX_KEY,
    SANDBOX_WORKSPACE,
    raw,
    seed_ids,
    wait_until,
)
from tests.server import LockhubServer, start_server

SESSION_ROUTES = sorted(r.path for r in ROUTES if r.client_session)
COMMON_KEY = "scope-shared-pin"


@dataclass(frozen=True)
class World:
    server: LockhubServer
    owner: Seam
    token: str
    session_id: str
    identity_id: str
    a: str  # the granted lock
    b: str  # a lock of the same account, not granted
    b_name: str
    code_a: str
    code_b: str
    unmanaged_b: str
    attempt_b: str
    event_b: str
    account: str
    webview: str
    other_session: str
    other_identity: str
    thermostat: str  # not granted
    sensor: str  # not granted
    schedule: str  # of the thermostat

    def session(self) -> httpx.Client:
        return raw(self.server, self.token)

    def witness(self) -> Any:
        """What the owner sees of lock B."""
        device = self.owner.devices.get(device_id=self.b)
        codes = sorted((c.access_code_id, c.name, c.code)
                       for c in self.owner.access_codes.list(device_id=self.b))
        unmanaged = sorted(c.access_code_id
                           for c in self.owner.access_codes.unmanaged.list(device_id=self.b))
        climate = self.owner.devices.get(device_id=self.thermostat).properties
        thresholds = sorted((t.noise_threshold_id, t.noise_threshold_decibels) for t in
                            self.owner.noise_sensors.noise_thresholds.list(device_id=self.sensor))
        schedules = [str(s) for s in self.owner.thermostats.schedules.list(
            device_id=self.thermostat)]
        return (device.display_name, device.properties.locked, codes, unmanaged,
                str(climate.current_climate_setting), str(climate.available_climate_presets),
                thresholds, schedules)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = start_server(tmp_path_factory.mktemp("scope"), name="scope",
                          env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    owner = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
    ids = seed_ids(server)
    a, b = ids["august_device_1"], ids["august_device_2"]
    person = owner.user_identities.create(user_identity_key="scope-guest")
    owner.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                 device_id=a)
    session = owner.client_sessions.create(user_identity_ids=[person.user_identity_id])
    other_person = owner.user_identities.create(user_identity_key="scope-other")
    other_session = owner.client_sessions.create(user_identifier_key="scope-other")
    code_a = owner.access_codes.create(device_id=a, code="1357", common_code_key=COMMON_KEY)
    code_b = owner.access_codes.create(device_id=b, code="1357", common_code_key=COMMON_KEY)
    unmanaged = owner.access_codes.simulate.create_unmanaged_access_code(
        device_id=b, code="8642", name="Set at the lock")
    attempt = owner.locks.unlock_door(device_id=b)
    wait_until(lambda: owner.access_codes.get(access_code_id=code_b.access_code_id)
               .status == "set", message="B's code to be set")
    webview = owner.connect_webviews.create(accepted_providers=["august"])
    event = owner.events.list(since=EPOCH, device_id=b)[0]
    schedule = owner.thermostats.schedules.create(
        device_id=ids["ecobee_device_1"], climate_preset_key="away",
        starts_at="2099-01-01T00:00:00Z", ends_at="2099-01-08T00:00:00Z")
    yield World(server=server, owner=owner, token=session.token,
                session_id=session.client_session_id, identity_id=person.user_identity_id,
                a=a, b=b, b_name=owner.devices.get(device_id=b).display_name,
                code_a=code_a.access_code_id, code_b=code_b.access_code_id,
                unmanaged_b=unmanaged.access_code_id, attempt_b=attempt.action_attempt_id,
                event_b=event.event_id, account=ids["john_connected_account_id"],
                webview=webview.connect_webview_id,
                other_session=other_session.client_session_id,
                other_identity=other_person.user_identity_id,
                thermostat=ids["ecobee_device_1"], sensor=ids["minut_device_1"],
                schedule=schedule.thermostat_schedule_id)
    server.stop()


@dataclass(frozen=True)
class Hidden:
    """Naming something outside the grant: the 404 of an id that exists nowhere."""

    error_type: str
    body: Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Sees:
    """A call the session may make; `check` asserts it got only what it sees."""

    body: Callable[[World], dict[str, Any]]
    check: Callable[[World, dict[str, Any]], None]


def only(key: str, field: str, allowed: Callable[[World], set[str]]) -> Callable[..., None]:
    def check(w: World, answer: dict[str, Any]) -> None:
        assert {item[field] for item in answer[key]} <= allowed(w), answer[key]
    return check


def _shared_pin_renamed(w: World, answer: dict[str, Any]) -> None:
    assert w.owner.access_codes.get(access_code_id=w.code_a).name == "renamed by session"
    assert w.owner.access_codes.get(access_code_id=w.code_b).name != "renamed by session"


def _nothing_of_b(w: World, answer: dict[str, Any]) -> None:
    assert all(e.get("device_id") in (None, w.a) for e in answer["events"]), answer["events"]
    assert w.event_b not in {e["event_id"] for e in answer["events"]}


def _ok(w: World, answer: dict[str, Any]) -> None:
    assert answer["ok"] is True


def _thermostat(**extra: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"device_id": w.thermostat, **extra}


CASES: dict[str, list[Hidden | Sees]] = {
    "/thermostats/list": [Sees(lambda w: {}, only("thermostats", "device_id", lambda w: set()))],
    "/thermostats/get": [Hidden("device_not_found", _thermostat())],
    "/thermostats/heat": [Hidden("device_not_found", _thermostat(
        heating_set_point_fahrenheit=70))],
    "/thermostats/cool": [Hidden("device_not_found", _thermostat(
        cooling_set_point_fahrenheit=74))],
    "/thermostats/heat_cool": [Hidden("device_not_found", _thermostat(
        heating_set_point_fahrenheit=66, cooling_set_point_fahrenheit=76))],
    "/thermostats/off": [Hidden("device_not_found", _thermostat())],
    "/thermostats/set_hvac_mode": [Hidden("device_not_found", _thermostat(
        hvac_mode_setting="off"))],
    "/thermostats/set_fan_mode": [Hidden("device_not_found", _thermostat(fan_mode_setting="on"))],
    "/thermostats/create_climate_preset": [Hidden("device_not_found", _thermostat(
        climate_preset_key="session", hvac_mode_setting="off"))],
    "/thermostats/update_climate_preset": [Hidden("device_not_found", _thermostat(
        climate_preset_key="home", name="Session's"))],
    "/thermostats/delete_climate_preset": [Hidden("device_not_found", _thermostat(
        climate_preset_key="home"))],
    "/thermostats/schedules/create": [Hidden("device_not_found", _thermostat(
        climate_preset_key="home", starts_at="2099-02-01T00:00:00Z",
        ends_at="2099-02-02T00:00:00Z"))],
    "/thermostats/schedules/get": [Hidden("thermostat_schedule_not_found", lambda w: {
        "thermostat_schedule_id": w.schedule})],
    "/thermostats/schedules/list": [Hidden("device_not_found", _thermostat())],
    "/thermostats/schedules/update": [Hidden("thermostat_schedule_not_found", lambda w: {
        "thermostat_schedule_id": w.schedule, "name": "session's"})],
    "/thermostats/schedules/delete": [Hidden("thermostat_schedule_not_found", lambda w: {
        "thermostat_schedule_id": w.schedule})],
    "/noise_sensors/list": [Sees(lambda w: {}, only("noise_sensors", "device_id",
                                                    lambda w: set()))],
    "/noise_sensors/noise_thresholds/list": [
        Hidden("device_not_found", lambda w: {"device_id": w.sensor})],
    "/access_codes/create": [Hidden("device_not_found",
                                    lambda w: {"device_id": w.b, "code": "2468"})],
    "/access_codes/create_multiple": [Hidden("device_not_found",
                                             lambda w: {"device_ids": [w.a, w.b]})],
    "/access_codes/get": [Hidden("access_code_not_found",
                                 lambda w: {"access_code_id": w.code_b}),
                          Hidden("device_not_found", lambda w: {"device_id": w.b,
                                                                "code": "1357"})],
    "/access_codes/list": [Hidden("device_not_found", lambda w: {"device_id": w.b}),
                           Hidden("access_code_not_found",
                                  lambda w: {"access_code_ids": [w.code_a, w.code_b]})],
    "/access_codes/update": [Hidden("access_code_not_found",
                                    lambda w: {"access_code_id": w.code_b, "name": "x"})],
    "/access_codes/update_multiple": [Sees(lambda w: {"common_code_key": COMMON_KEY,
                                                      "name": "renamed by session"},
                                           _shared_pin_renamed)],
    "/access_codes/get_timeline": [Hidden("access_code_not_found",
                                          lambda w: {"access_code_id": w.code_b})],
    "/access_codes/delete": [Hidden("access_code_not_found",
                                    lambda w: {"access_code_id": w.code_b})],
    "/access_codes/generate_code": [Hidden("device_not_found", lambda w: {"device_id": w.b})],
    "/access_codes/unmanaged/list": [Hidden("device_not_found",
                                            lambda w: {"device_id": w.b})],
    "/access_codes/unmanaged/get": [Hidden("access_code_not_found",
                                           lambda w: {"access_code_id": w.unmanaged_b})],
    "/access_codes/unmanaged/convert_to_managed": [
        Hidden("access_code_not_found", lambda w: {"access_code_id": w.unmanaged_b})],
    "/access_codes/unmanaged/update": [
        Hidden("access_code_not_found", lambda w: {"access_code_id": w.unmanaged_b,
                                                   "is_managed": False})],
    "/access_codes/unmanaged/delete": [Hidden("access_code_not_found",
                                              lambda w: {"access_code_id": w.unmanaged_b})],
    "/access_codes/simulate/create_unmanaged_access_code": [
        Hidden("device_not_found", lambda w: {"device_id": w.b, "code": "9753", "name": "x"})],
    "/access_codes/pull_backup_access_code": [Hidden("access_code_not_found",
                                                     lambda w: {"access_code_id": w.code_b})],
    "/access_codes/report_device_constraints": [
        Hidden("device_not_found", lambda w: {"device_id": w.b, "supported_code_lengths": [4]})],
    "/action_attempts/get": [Hidden("action_attempt_not_found",
                                    lambda w: {"action_attempt_id": w.attempt_b})],
    "/client_sessions/get": [Hidden("client_session_not_found",
                                    lambda w: {"client_session_id": w.other_session})],
    "/connect_webviews/create": [Sees(lambda w: {"accepted_providers": ["august"]}, _ok)],
    "/connect_webviews/get": [Hidden("connect_webview_not_found",
                                     lambda w: {"connect_webview_id": w.webview})],
    "/connect_webviews/list": [Sees(lambda w: {}, lambda w, answer: (
        None if w.webview not in {c["connect_webview_id"] for c in answer["connect_webviews"]}
        else pytest.fail("another webview listed")))],
    "/connected_accounts/get": [
        Hidden("connected_account_not_found", lambda w: {"connected_account_id": w.account}),
        Hidden("connected_account_not_found", lambda w: {"email": "john@example.com"})],
    "/devices/get": [Hidden("device_not_found", lambda w: {"device_id": w.b}),
                     Hidden("device_not_found", lambda w: {"name": w.b_name})],
    "/locks/get": [Hidden("device_not_found", lambda w: {"device_id": w.b}),
                   Hidden("device_not_found", lambda w: {"name": w.b_name})],
    "/devices/unmanaged/get": [Hidden("device_not_found", lambda w: {"device_id": w.b})],
    "/devices/update": [Hidden("device_not_found", lambda w: {"device_id": w.b, "name": "x"})],
    "/devices/list": [Sees(lambda w: {}, only("devices", "device_id", lambda w: {w.a})),
                      Hidden("connected_account_not_found",
                             lambda w: {"connected_account_id": w.account}),
                      Hidden("device_not_found", lambda w: {"device_ids": [w.b]})],
    "/devices/list_device_providers": [Sees(lambda w: {}, _ok)],
    # Seam's device database: the catalogue, nothing of the workspace's devices.
    "/internal/devicedb/v1/manufacturers/list": [Sees(lambda w: {}, _ok)],
    "/internal/devicedb/v1/manufacturers/get": [
        Sees(lambda w: {"manufacturer_id": manufacturer_id("august")}, _ok)],
    "/internal/devicedb/v1/device_models/list": [Sees(lambda w: {}, _ok)],
    "/internal/devicedb/v1/device_models/get": [
        Sees(lambda w: {"device_model_id": device_model_id("august", "wifi_smart_lock")}, _ok)],
    "/locks/list": [Sees(lambda w: {}, only("devices", "device_id", lambda w: {w.a}))],
    "/events/list": [Sees(lambda w: {"since": EPOCH}, _nothing_of_b),
                     Hidden("device_not_found", lambda w: {"since": EPOCH, "device_id": w.b})],
    "/events/get": [Hidden("event_not_found", lambda w: {"event_id": w.event_b}),
                    Hidden("device_not_found", lambda w: {"device_id": w.b})],
    "/locks/lock_door": [Hidden("device_not_found", lambda w: {"device_id": w.b})],
    "/locks/unlock_door": [Hidden("device_not_found", lambda w: {"device_id": w.b})],
    "/locks/configure_auto_lock": [Hidden("device_not_found", lambda w: {
        "device_id": w.b, "auto_lock_enabled": True})],
    "/workspaces/get": [Sees(lambda w: {}, lambda w, answer: None)],
    "/workspaces/list": [Sees(lambda w: {}, only("workspaces", "workspace_id",
                                                 lambda w: {SANDBOX_WORKSPACE}))],
    "/user_identities/list": [Sees(lambda w: {}, only("user_identities", "user_identity_id",
                                                      lambda w: {w.identity_id}))],
    "/user_identities/list_acs_systems": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.other_identity})],
    "/user_identities/list_accessible_entrances": [
        Hidden("user_identity_not_found", lambda w: {"user_identity_id": w.other_identity})],
}


def test_every_route_a_session_may_call_has_cases() -> None:
    assert sorted(CASES) == SESSION_ROUTES


@pytest.mark.parametrize("path", SESSION_ROUTES)
def test_a_session_reaches_only_what_it_was_granted(world: World, path: str) -> None:
    for case in CASES.get(path, []):
        before = world.witness()
        body = case.body(world)
        with world.session() as http:
            response = http.post(path, json=body)
        if isinstance(case, Hidden):
            assert response.status_code == 404, (body, response.text)
            assert response.json()["error"]["type"] == case.error_type, body
        else:
            assert response.status_code == 200, (body, response.text)
            case.check(world, response.json())
        if path != "/access_codes/update_multiple":
            assert world.witness() == before, f"{path} changed lock B"
