"""Client sessions and publishable keys.

The integrator's backend manages sessions through the official SDK (API key); what a browser
does with the session token or the publishable key is sent raw here, because the Python SDK
has no such modes (tests/conformance/test_js_sdk.py drives the JS SDK that does).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from seam import Seam, SeamHttpApiError

from tests.conformance.helpers import EPOCH, PUBLISHABLE_KEY, SANDBOX_KEY, raw, seed_ids, wait_until
from tests.server import LockhubServer

APP_ORIGIN = "https://app.example.test"


@pytest.fixture(scope="module")
def seam(own_server: LockhubServer) -> Seam:
    return Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)


def as_session(server: LockhubServer, token: str, header: str = "authorization") -> httpx.Client:
    value = f"Bearer {token}" if header == "authorization" else token
    return raw(server, None, {header: value, "origin": APP_ORIGIN})


def device_ids(http: httpx.Client) -> list[str]:
    response = http.post("/devices/list", json={})
    assert response.status_code == 200, response.text
    return [d["device_id"] for d in response.json()["devices"]]


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["type"]


def user_key() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def test_a_session_sees_exactly_its_connected_accounts(seam: Seam,
                                                      own_server: LockhubServer) -> None:
    ids = seed_ids(own_server)
    session = seam.client_sessions.create(
        connected_account_ids=[ids["john_connected_account_id"]], user_identifier_key=user_key())
    john = {d.device_id for d in seam.devices.list(
        connected_account_id=ids["john_connected_account_id"])}
    assert session.token.startswith("seam_cst") and session.device_count == len(john)
    with as_session(own_server, session.token) as http:
        assert set(device_ids(http)) == john
        other = ids["schlage_device_1"]
        assert error_of(http.post("/devices/get", json={"device_id": other})) == (
            404, "device_not_found")
        assert error_of(http.post("/locks/unlock_door", json={"device_id": other})) == (
            404, "device_not_found")
        own = http.post("/client_sessions/get", json={}).json()["client_session"]
        assert own["client_session_id"] == session.client_session_id


@pytest.mark.parametrize("header", ["authorization", "client-session-token",
                                    "seam-client-session-token"])
def test_the_token_travels_in_any_of_seams_headers(seam: Seam, own_server: LockhubServer,
                                                   header: str) -> None:
    session = seam.client_sessions.create(user_identifier_key=user_key())
    with as_session(own_server, session.token, header) as http:
        assert http.post("/client_sessions/get", json={}).status_code == 200


def test_a_malformed_session_header_is_a_clear_error(own_server: LockhubServer) -> None:
    with raw(own_server, None, {"client-session-token": "not-a-token"}) as http:
        assert error_of(http.post("/devices/list", json={})) == (
            400, "invalid_client_session_token")
    with raw(own_server, f"seam_cst{uuid.uuid4().hex}_x") as http:
        assert error_of(http.post("/devices/list", json={})) == (
            401, "client_session_not_found")


def test_a_session_cannot_call_what_seam_keeps_for_api_keys(seam: Seam,
                                                           own_server: LockhubServer) -> None:
    session = seam.client_sessions.create(user_identifier_key=user_key())
    with as_session(own_server, session.token) as http:
        for path in ("/webhooks/list", "/client_sessions/list", "/user_identities/create",
                     "/action_attempts/list", "/workspaces/reset_sandbox"):
            assert error_of(http.post(path, json={})) == (401, "unauthorized"), path


def test_granting_access_shows_the_new_devices_at_once(seam: Seam,
                                                       own_server: LockhubServer) -> None:
    ids = seed_ids(own_server)
    key = user_key()
    session = seam.client_sessions.create(user_identifier_key=key)
    with as_session(own_server, session.token) as http:
        assert device_ids(http) == []
        person = seam.user_identities.create(user_identity_key=key)
        seam.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                    device_id=ids["august_device_2"])
        seam.client_sessions.grant_access(user_identifier_key=key,
                                          user_identity_ids=[person.user_identity_id])
        assert device_ids(http) == [ids["august_device_2"]]
        seam.client_sessions.grant_access(client_session_id=session.client_session_id,
                                          connected_account_ids=[
                                              ids["jane_connected_account_id"]])
        jane = {d.device_id for d in seam.devices.list(
            connected_account_id=ids["jane_connected_account_id"])}
        assert jane and set(device_ids(http)) == {ids["august_device_2"], *jane}
    got = seam.client_sessions.get(user_identifier_key=key)
    assert got.user_identity_ids == [person.user_identity_id]
    assert got.connected_account_ids == [ids["jane_connected_account_id"]]
    assert got.device_count == 1 + len(jane)


def test_granting_something_of_another_workspace_is_not_found(seam: Seam,
                                                              own_server: LockhubServer) -> None:
    session = seam.client_sessions.create(user_identifier_key=user_key())
    with pytest.raises(SeamHttpApiError) as missing:
        seam.client_sessions.grant_access(client_session_id=session.client_session_id,
                                          connected_account_ids=[str(uuid.uuid4())])
    assert missing.value.code == "connected_account_not_found"
    assert seam.client_sessions.get(
        client_session_id=session.client_session_id).connected_account_ids == []


def test_revoking_and_deleting_refuse_the_token_at_once(seam: Seam,
                                                        own_server: LockhubServer) -> None:
    revoked = seam.client_sessions.create(user_identifier_key=user_key())
    deleted = seam.client_sessions.create(user_identifier_key=user_key())
    with as_session(own_server, revoked.token) as a, as_session(own_server, deleted.token) as b:
        assert a.post("/devices/list", json={}).status_code == 200
        assert b.post("/devices/list", json={}).status_code == 200
        seam.client_sessions.revoke(client_session_id=revoked.client_session_id)
        seam.client_sessions.delete(client_session_id=deleted.client_session_id)
        assert error_of(a.post("/devices/list", json={})) == (401, "client_session_revoked")
        assert error_of(b.post("/devices/list", json={})) == (401, "client_session_not_found")
    listed = {s.client_session_id for s in seam.client_sessions.list()}
    assert revoked.client_session_id in listed and deleted.client_session_id not in listed
    events = seam.events.list(since=EPOCH, event_type="client_session.deleted")
    assert [e.client_session_id for e in events] == [deleted.client_session_id]


def test_an_expired_session_is_refused(seam: Seam, own_server: LockhubServer) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=2)
    session = seam.client_sessions.create(user_identifier_key=user_key(),
                                          expires_at=expires.isoformat())
    with as_session(own_server, session.token) as http:
        assert http.post("/devices/list", json={}).status_code == 200
        wait_until(lambda: http.post("/devices/list", json={}).status_code == 401,
                   message="the session to expire")
        assert error_of(http.post("/devices/list", json={})) == (401, "client_session_expired")


def test_one_session_per_user_identifier_key(seam: Seam, own_server: LockhubServer) -> None:
    ids = seed_ids(own_server)
    key = user_key()
    first = seam.client_sessions.create(user_identifier_key=key)
    # The SDK creates with PUT, which answers the key's existing session; a POST is refused.
    assert seam.client_sessions.create(
        user_identifier_key=key).client_session_id == first.client_session_id
    with raw(own_server) as http:
        again = http.post("/client_sessions/create", json={"user_identifier_key": key})
    assert error_of(again) == (400, "client_session_token_already_exists")
    later = datetime.now(UTC) + timedelta(days=3)
    same = seam.client_sessions.get_or_create(
        user_identifier_key=key, connected_account_ids=[ids["john_connected_account_id"]],
        expires_at=later.isoformat())
    assert same.client_session_id == first.client_session_id
    assert same.token == first.token
    assert same.connected_account_ids == [ids["john_connected_account_id"]]
    assert same.expires_at.startswith(later.strftime("%Y-%m-%dT%H:%M"))
    assert [s.client_session_id for s in seam.client_sessions.list(user_identifier_key=key)] == [
        first.client_session_id]


def test_a_session_keeps_the_connect_webviews_it_creates(seam: Seam,
                                                         own_server: LockhubServer) -> None:
    session = seam.client_sessions.create(user_identifier_key=user_key())
    with as_session(own_server, session.token) as http:
        created = http.post("/connect_webviews/create", json={"accepted_providers": ["august"]})
        assert created.status_code == 200, created.text
        webview_id = created.json()["connect_webview"]["connect_webview_id"]
        listed = http.post("/connect_webviews/list", json={}).json()["connect_webviews"]
        assert [w["connect_webview_id"] for w in listed] == [webview_id]
        with raw(own_server, None) as hooks:
            assert hooks.post("/_fake/complete_connect_webview",
                              json={"connect_webview_id": webview_id}).status_code == 200
        account_id = seam.connect_webviews.get(
            connect_webview_id=webview_id).connected_account_id
        expected = {d.device_id for d in seam.devices.list(connected_account_id=account_id)}
        assert expected and set(device_ids(http)) == expected
        assert http.post("/connected_accounts/get", json={
            "connected_account_id": account_id}).status_code == 200
    assert seam.client_sessions.get(
        client_session_id=session.client_session_id).connect_webview_ids == [webview_id]


def publishable(server: LockhubServer, body: dict[str, Any],
                key: str = PUBLISHABLE_KEY) -> httpx.Response:
    with raw(server, None, {"seam-publishable-key": key, "origin": APP_ORIGIN}) as http:
        return http.post("/client_sessions/get_or_create", json=body)


def test_a_publishable_key_gets_or_creates_an_empty_session(seam: Seam,
                                                            own_server: LockhubServer) -> None:
    key = user_key()
    first = publishable(own_server, {"user_identifier_key": key})
    assert first.status_code == 200, first.text
    session = first.json()["client_session"]
    assert session["user_identifier_key"] == key and session["device_count"] == 0
    assert publishable(own_server, {"user_identifier_key": key}).json()[
        "client_session"]["client_session_id"] == session["client_session_id"]
    assert seam.client_sessions.get(user_identifier_key=key).token == session["token"]


def test_what_a_publishable_key_may_not_do(own_server: LockhubServer) -> None:
    ids = seed_ids(own_server)
    assert error_of(publishable(own_server, {})) == (
        401, "publishable_key_requires_user_identifier_key")
    assert error_of(publishable(own_server, {
        "user_identifier_key": user_key(),
        "connected_account_ids": [ids["john_connected_account_id"]]})) == (
        403, "publishable_keys_must_create_empty_client_sessions")
    assert error_of(publishable(own_server, {"user_identifier_key": user_key()},
                                key="seam_pk_unknown")) == (401, "invalid_publishable_key")
    with raw(own_server, None, {"seam-publishable-key": PUBLISHABLE_KEY}) as http:
        assert error_of(http.post("/devices/list", json={})) == (401, "unauthorized")


def test_cors_answers_browsers_with_session_credentials_only(seam: Seam,
                                                             own_server: LockhubServer) -> None:
    session = seam.client_sessions.create(user_identifier_key=user_key())
    with as_session(own_server, session.token) as http:
        headers = http.post("/devices/list", json={}).headers
    assert headers["access-control-allow-origin"] == APP_ORIGIN
    assert headers["access-control-allow-credentials"] == "true"
    assert "Origin" in headers["vary"]
    refused = publishable(own_server, {})  # an error is readable by the page too
    assert refused.headers["access-control-allow-origin"] == APP_ORIGIN
    with raw(own_server, SANDBOX_KEY, {"origin": APP_ORIGIN}) as http:
        assert "access-control-allow-origin" not in http.post("/devices/list", json={}).headers
    preflight = httpx.options(f"{own_server.url}/locks/unlock_door", headers={
        "origin": APP_ORIGIN, "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, seam-sdk-name"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    allowed = {h.strip() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "client-session-token", "content-type", "seam-sdk-name",
            "seam-sdk-version", "seam-lts-version", "seam-publishable-key"} <= allowed
    webhooks = httpx.options(f"{own_server.url}/webhooks/list", headers={
        "origin": APP_ORIGIN, "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in webhooks.headers


def test_after_a_revocation_the_publishable_key_gets_the_user_a_new_session(
        seam: Seam, own_server: LockhubServer) -> None:
    key = user_key()
    first = publishable(own_server, {"user_identifier_key": key}).json()["client_session"]
    seam.client_sessions.revoke(client_session_id=first["client_session_id"])
    again = publishable(own_server, {"user_identifier_key": key})
    assert again.status_code == 200, again.text
    second = again.json()["client_session"]
    assert second["client_session_id"] != first["client_session_id"]
    assert second["token"] != first["token"]
    with as_session(own_server, second["token"]) as http:
        assert http.post("/client_sessions/get", json={}).status_code == 200
    with as_session(own_server, first["token"]) as http:
        assert error_of(http.post("/client_sessions/get", json={})) == (
            401, "client_session_not_found")
