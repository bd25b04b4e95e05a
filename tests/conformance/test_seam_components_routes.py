"""The side routes Seam Components call besides Seam's public API, as a browser on the
integrator's origin calls them: telemetry (`POST /internal/tlmtry`, no credential, dropped) and
the device database (`GET /internal/devicedb/v1/...` with the client session token, answered
from lockhub's catalogue in the shapes of `@seamapi/types/devicedb`, filtered the way the
supported-devices table asks).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from seam import Seam

from lockhub.catalogue import brands
from lockhub.domain.devicedb import device_model_id, manufacturer_id
from tests.conformance.helpers import OTHER_KEY, PUBLISHABLE_KEY, SANDBOX_KEY, raw
from tests.server import LockhubServer

DEVICEDB = "/internal/devicedb/v1"
APP_ORIGIN = "https://app.example.test"
SEAM_COMPONENTS = Path(__file__).resolve().parents[1] / "seam_components"
MODEL_COUNT = sum(len(b.models) for b in brands().values())
AUGUST = manufacturer_id("august")
YALE = manufacturer_id("yale")


@pytest.fixture(scope="module")
def token(own_server: LockhubServer) -> str:
    """A client session of the demo sandbox workspace, as the integrator's backend makes it."""
    seam = Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)
    return seam.client_sessions.create(user_identifier_key="components-user").token


def component(server: LockhubServer, token: str) -> httpx.Client:
    """Requests as Seam Components' client sends them from the app's page."""
    return raw(server, None, {"authorization": f"Bearer {token}", "client-session-token": token,
                              "origin": APP_ORIGIN})


def get(http: httpx.Client, path: str, query: str = "") -> dict[str, Any]:
    response = http.get(f"{DEVICEDB}{path}?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    body: dict[str, Any] = response.json()
    assert body["ok"] is True
    return body


def get_plain(http: httpx.Client, path: str, query: str = "") -> dict[str, Any]:
    """As a backend asks (no origin, so no CORS headers to check)."""
    response = http.get(f"{DEVICEDB}{path}?{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(models: list[dict[str, Any]]) -> set[str]:
    return {m["display_name"] for m in models}


# --------------------------------------------------------------------------- telemetry


def test_telemetry_is_taken_from_any_origin_without_a_credential(
        own_server: LockhubServer) -> None:
    message = {"type": "screen", "name": "DeviceTable", "properties": {},
               "anonymousId": "3f0c", "messageId": "m-1", "timestamp": "2026-01-01T00:00:00Z",
               "context": {"library": {"name": "@seamapi/react/elements", "version": "4.14.2"}}}
    with raw(own_server, None, {"origin": APP_ORIGIN}) as http:
        preflight = http.options("/internal/tlmtry", headers={
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type"})
        sent = http.post("/internal/tlmtry", json=message)
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type"
    assert (sent.status_code, sent.json()) == (200, {"ok": True})
    assert sent.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in sent.headers


def test_telemetry_takes_any_message_and_keeps_none(own_server: LockhubServer) -> None:
    with raw(own_server, None) as http:
        for body in (b"{}", b'{"type": "identify", "traits": {"a": [1, 2]}}', b"[1]", b""):
            response = http.post("/internal/tlmtry", content=body,
                                 headers={"content-type": "application/json"})
            assert (response.status_code, response.json()) == (200, {"ok": True}), body
        # A credential, even a wrong one, is neither needed nor read.
        response = http.post("/internal/tlmtry", json={"type": "page"},
                             headers={"authorization": "Bearer seam_cst_not_a_session"})
        assert response.status_code == 200


# --------------------------------------------------------------------------- device database


def test_a_client_session_reads_the_catalogue(own_server: LockhubServer, token: str) -> None:
    with component(own_server, token) as http:
        manufacturers = get(http, "/manufacturers/list")["manufacturers"]
        models = get(http, "/device_models/list")["device_models"]
        preflight = http.options(f"{DEVICEDB}/device_models/list", headers={
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization,client-session-token"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    assert {m["display_name"] for m in manufacturers} == {
        b.display_name for b in brands().values()}
    assert sum(m["device_model_count"] for m in manufacturers) == len(models) == MODEL_COUNT
    august = next(m for m in manufacturers if m["manufacturer_id"] == AUGUST)
    assert august["logo"]["url"] == f"{own_server.url}/_lockhub/images/brands/august.svg"
    model = next(m for m in models
                 if m["device_model_id"] == device_model_id("august", "wifi_smart_lock"))
    assert model["display_name"] == brands()["august"].models["wifi_smart_lock"].display_name
    assert model["manufacturer"]["manufacturer_id"] == AUGUST
    assert model["main_category"] == "smartlock"
    assert model["aesthetic_variants"][0]["images"][0]["url"] == august["logo"]["url"]


def test_supported_is_what_the_workspace_can_connect(own_server: LockhubServer,
                                                     token: str) -> None:
    """A sandbox workspace connects every sandbox brand; a production one the brands lockhub
    has real providers for: the same set /devices/list_device_providers names."""
    production = Seam(api_key=OTHER_KEY, endpoint=own_server.url)
    connectable = {brands()[p.device_provider_name].display_name
                   for p in production.devices.list_device_providers()}
    with raw(own_server, OTHER_KEY) as http:
        manufacturers = get_plain(http, "/manufacturers/list")["manufacturers"]
    stable = {m["display_name"] for m in manufacturers
              if m["integration_support_level"] == "stable"}
    assert stable == connectable and stable < {m["display_name"] for m in manufacturers}
    for m in manufacturers:
        assert m["integration"] == m["integration_support_level"]
        assert m["is_connect_webview_supported"] == (m["display_name"] in connectable)

    sandbox = Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)
    connectable = {brands()[p.device_provider_name].display_name
                   for p in sandbox.devices.list_device_providers()}
    with component(own_server, token) as http:
        stable = {m["display_name"] for m in get(
            http, "/manufacturers/list", "integration_support_levels=stable&"
            "integration_support_levels=beta")["manufacturers"]}
    assert stable == connectable


def test_the_filters_of_the_supported_device_table(own_server: LockhubServer,
                                                   token: str) -> None:
    """The queries `<seam-supported-device-table>` builds (its manufacturers and
    excluded-manufacturers attributes become a Liqe query; the chosen manufacturer an id)."""
    with component(own_server, token) as http:
        def manufacturers(query: str) -> set[str]:
            return {m["display_name"] for m in get(
                http, "/manufacturers/list", query)["manufacturers"]}

        def models(query: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = get(http, "/device_models/list", query)[
                "device_models"]
            return found

        assert manufacturers('liqe_query=(display_name:"August" OR display_name:"Yale")') == {
            "August", "Yale"}
        assert "August" not in manufacturers('liqe_query=NOT (display_name:"August")')
        assert manufacturers(f'liqe_query=(manufacturer_id:"{AUGUST}") AND NOT '
                             f'(display_name:"Yale")') == {"August"}
        assert manufacturers("liqe_query=manufacturer_id:none") == set()

        august = models(f"manufacturer_id={AUGUST}")
        assert names(august) == {m.display_name for m in brands()["august"].models.values()}
        both = models(f"manufacturer_ids={AUGUST}&manufacturer_ids={YALE}")
        assert {m["manufacturer"]["display_name"] for m in both} == {"August", "Yale"}
        assert models("manufacturer_ids=") == []  # an empty array: no manufacturer
        assert names(models("text_search=nuki")) == {
            m.display_name for m in brands()["nuki"].models.values()}
        offline = models("include_if=software_features.can_program_access_codes_offline")
        assert offline and all(m["can_program_offline_access_codes"] for m in offline)
        online_only = models("exclude_if=software_features.can_program_access_codes_offline")
        assert len(offline) + len(online_only) == MODEL_COUNT
        assert len(models("main_category=smartlock")) == MODEL_COUNT
        assert models("main_category=thermostat") == []


def test_one_manufacturer_or_model_by_id(own_server: LockhubServer, token: str) -> None:
    model_id = device_model_id("nuki", "smart_lock_3_pro")
    with component(own_server, token) as http:
        assert get(http, "/manufacturers/get", f"manufacturer_id={AUGUST}")[
            "manufacturer"]["display_name"] == "August"
        assert get(http, "/device_models/get", f"device_model_id={model_id}")[
            "device_model"]["display_name"] == brands()["nuki"].models[
                "smart_lock_3_pro"].display_name
        unknown = "00000000-0000-4000-8000-000000000000"
        for path, name, error in (("/manufacturers/get", "manufacturer_id",
                                   "manufacturer_not_found"),
                                  ("/device_models/get", "device_model_id",
                                   "device_model_not_found")):
            response = http.get(f"{DEVICEDB}{path}", params={name: unknown})
            assert response.status_code == 404, response.text
            assert response.json()["error"]["type"] == error
            response = http.get(f"{DEVICEDB}{path}", params={name: "august"})
            assert response.status_code == 400
            assert response.json()["error"]["validation_errors"][name]["_errors"] == [
                "Invalid UUID"]


@pytest.mark.parametrize(("path", "query", "field"), [
    ("/manufacturers/list", "liqe_query=august", "liqe_query"),
    ("/manufacturers/list", "liqe_query=display_name:/aug/", "liqe_query"),
    ("/manufacturers/list", "integration_support_levels=great", "integration_support_levels"),
    ("/device_models/list", "include_if=Software.Features", "include_if"),
    ("/device_models/list", "main_category=toaster", "main_category"),
])
def test_parameters_it_cannot_read_are_invalid_input(own_server: LockhubServer, token: str,
                                                     path: str, query: str,
                                                     field: str) -> None:
    with component(own_server, token) as http:
        response = http.get(f"{DEVICEDB}{path}?{query}")
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_input" and field in error["validation_errors"]


def test_a_publishable_key_reads_it_too(own_server: LockhubServer) -> None:
    with raw(own_server, None, {"seam-publishable-key": PUBLISHABLE_KEY,
                                "origin": APP_ORIGIN}) as http:
        assert len(get(http, "/device_models/list")["device_models"]) == MODEL_COUNT


def test_answers_match_seams_device_database_schemas(own_server: LockhubServer,
                                                     token: str) -> None:
    """Checked by @seamapi/types' own zod schemas (tests/seam_components/devicedb_schema.mjs),
    strictly: no key Seam's schema lacks."""
    if not (SEAM_COMPONENTS / "node_modules" / "@seamapi" / "types").exists():
        pytest.skip("tests/seam_components is not installed (scripts/test-deps.sh)")
    model_id = device_model_id("ttlock", "keypad_deadbolt")
    with component(own_server, token) as http:
        answers = [
            {"route": "/v1/manufacturers/list", "body": get(http, "/manufacturers/list")},
            {"route": "/v1/manufacturers/get",
             "body": get(http, "/manufacturers/get", f"manufacturer_id={AUGUST}")},
            {"route": "/v1/device_models/list", "body": get(http, "/device_models/list")},
            {"route": "/v1/device_models/get",
             "body": get(http, "/device_models/get", f"device_model_id={model_id}")},
        ]
    checked = subprocess.run(["node", str(SEAM_COMPONENTS / "devicedb_schema.mjs")],
                             input=json.dumps(answers).encode(), capture_output=True,
                             check=True, timeout=60)
    results = json.loads(checked.stdout)
    assert [r for r in results if not r["ok"]] == []
    assert len(results) == 4
