"""Client sessions and publishable keys through Seam's official JavaScript SDK (`@seamapi/http`,
pinned in tests/js_sdk), the SDK a browser or mobile app uses.

The integrator's backend sets up grants with the Python SDK and an API key; the app's side is
a `SeamHttp` client in a node process of its own (tests/js_sdk/client_session.mjs), built with
`SeamHttp.fromPublishableKey` or `SeamHttp.fromClientSessionToken` and driven call by call, so
a grant, a revocation or a deletion lands between two calls of one client.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from seam import Seam

from tests.server import LockhubServer

JS_SDK = Path(__file__).resolve().parents[1] / "js_sdk"
SCRIPT = JS_SDK / "client_session.mjs"
SDK_PACKAGE = JS_SDK / "node_modules" / "@seamapi" / "http" / "package.json"
# The seeded seed_workspace_1 (Seam's fake's seed): its API key, its publishable key, and
# john's two August locks; jane's Schlage account holds one more lock.
API_KEY = "seam_apikey1_token"
PUBLISHABLE_KEY = "seam_pk1_token"
FRONT_DOOR = "august_device_1"
BACK_DOOR = "august_device_2"
JANE_ACCOUNT = "jane_connected_account_id"
# Long enough for a node start on a loaded machine and an unlock the SDK waits out.
ANSWER_TIMEOUT = 30.0


class JsSdkError(Exception):
    """A call the SDK answered by throwing; `error` is what the script reported."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(json.dumps(error))
        self.error = error


class JsClient:
    """One `SeamHttp` client in a node process: `call("locks.unlockDoor", {...})` returns what
    the SDK returned or raises `JsSdkError` with what it threw."""

    def __init__(self, endpoint: str, mode: list[str], log: Path) -> None:
        self._log = log
        self._process = subprocess.Popen(
            ["node", str(SCRIPT), endpoint, *mode], cwd=JS_SDK, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(log, "ab"))
        self._answers: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._answer()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._answers.put(line)
        self._answers.put(None)

    def _answer(self) -> dict[str, Any]:
        try:
            line = self._answers.get(timeout=ANSWER_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"node gave no answer in {ANSWER_TIMEOUT}s; "
                                 f"see {self._log}") from None
        if line is None:
            raise AssertionError(f"node exited: {self._log.read_text()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def call(self, name: str, params: dict[str, Any] | None = None,
             options: dict[str, Any] | None = None) -> Any:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(
            {"call": name, "params": params, "options": options}) + "\n")
        self._process.stdin.flush()
        answer = self._answer()
        if "error" in answer:
            raise JsSdkError(answer["error"])
        return answer["ok"]

    def error_of(self, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the SDK threw for a call that must fail."""
        with pytest.raises(JsSdkError) as refused:
            self.call(name, params)
        return refused.value.error

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class JsClients:
    """Opens JS SDK clients against the module's server; closes them after the test."""

    def __init__(self, server: LockhubServer, log: Path) -> None:
        self.server, self.log = server, log
        self.opened: list[JsClient] = []

    def open(self, mode: list[str]) -> JsClient:
        client = JsClient(self.server.url, mode, self.log)
        self.opened.append(client)
        return client

    def from_publishable_key(self, user_identifier_key: str,
                             publishable_key: str = PUBLISHABLE_KEY) -> JsClient:
        client = self.open(["publishable-key", publishable_key, user_identifier_key])
        assert client.ready == {"ready": True}, client.ready
        return client

    def from_client_session_token(self, token: str) -> JsClient:
        client = self.open(["client-session-token", token])
        assert client.ready == {"ready": True}, client.ready
        return client

    def close(self) -> None:
        for client in self.opened:
            client.close()


@pytest.fixture(scope="module", autouse=True)
def _node_and_sdk() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/system-deps.sh installs it)")
    if not SDK_PACKAGE.exists():
        pytest.skip("the JS SDK is not installed (run scripts/test-deps.sh)")


@pytest.fixture
def js(own_server: LockhubServer, tmp_path: Path) -> Iterator[JsClients]:
    clients = JsClients(own_server, tmp_path / "node.log")
    yield clients
    clients.close()


@pytest.fixture(scope="module")
def seam(own_server: LockhubServer) -> Seam:
    """The integrator's backend: the workspace whose publishable key the app uses."""
    return Seam(api_key=API_KEY, endpoint=own_server.url)


@pytest.fixture(scope="module")
def jane_lock(seam: Seam) -> str:
    """The lock of jane's seeded Schlage account (the fake's seed: not one of john's)."""
    return str(seam.devices.list(connected_account_id=JANE_ACCOUNT)[0].device_id)


def user_key() -> str:
    return f"user-{uuid.uuid4().hex}"


def person_with(seam: Seam, *device_ids: str) -> str:
    """A new user identity granted these devices; its id."""
    person = seam.user_identities.create(user_identity_key=user_key())
    for device_id in device_ids:
        seam.user_identities.grant_access_to_device(user_identity_id=person.user_identity_id,
                                                    device_id=device_id)
    return str(person.user_identity_id)


def session_for(seam: Seam, *device_ids: str) -> Any:
    """A session (created by the backend) holding a user identity granted these devices."""
    return seam.client_sessions.create(user_identity_ids=[person_with(seam, *device_ids)],
                                       user_identifier_key=user_key())


def device_ids(client: JsClient) -> set[str]:
    return {d["device_id"] for d in client.call("devices.list")}


def test_sdk_is_the_pinned_release() -> None:
    assert json.loads(SDK_PACKAGE.read_text())["version"] == "1.102.0"


def test_a_publishable_key_client_starts_empty_and_sees_what_the_backend_grants(
        seam: Seam, js: JsClients) -> None:
    key = user_key()
    app = js.from_publishable_key(key)
    session = app.call("clientSessions.get")
    assert session["user_identifier_key"] == key and session["token"].startswith("seam_cst")
    assert session["device_count"] == 0 and session["user_identity_ids"] == []
    assert app.call("devices.list") == []

    person = person_with(seam, BACK_DOOR)
    seam.client_sessions.grant_access(client_session_id=session["client_session_id"],
                                      user_identity_ids=[person])

    again = js.from_publishable_key(key)
    assert again.call("clientSessions.get")["client_session_id"] == session["client_session_id"]
    assert device_ids(again) == {BACK_DOOR}
    assert device_ids(app) == {BACK_DOOR}  # the first client, at once
    assert [s.client_session_id for s in seam.client_sessions.list(user_identifier_key=key)] == [
        session["client_session_id"]]


def test_a_publishable_key_client_sees_a_granted_connected_account(seam: Seam,
                                                                   js: JsClients) -> None:
    key = user_key()
    app = js.from_publishable_key(key)
    seam.client_sessions.grant_access(user_identifier_key=key,
                                      connected_account_ids=[JANE_ACCOUNT])
    jane = {d.device_id for d in seam.devices.list(connected_account_id=JANE_ACCOUNT)}
    assert jane and device_ids(js.from_publishable_key(key)) == jane
    assert device_ids(app) == jane


def test_an_unknown_publishable_key_gets_no_client(js: JsClients) -> None:
    refused = js.open(["publishable-key", "seam_pk_unknown", user_key()]).ready
    assert refused["error"]["name"] == "SeamHttpUnauthorizedError"
    assert refused["error"]["status_code"] == 401


def test_a_session_token_client_lists_and_gets_exactly_its_devices(
        seam: Seam, js: JsClients, jane_lock: str) -> None:
    granted = {FRONT_DOOR, jane_lock}
    app = js.from_client_session_token(session_for(seam, *granted).token)
    assert device_ids(app) == granted
    assert {d["device_id"] for d in app.call("locks.list")} == granted
    got = app.call("devices.get", {"device_id": jane_lock})
    assert got["device_id"] == jane_lock
    assert got["properties"]["name"] == seam.devices.get(device_id=jane_lock).properties.name


def test_a_session_token_client_reads_its_own_session(seam: Seam, js: JsClients) -> None:
    session = session_for(seam, FRONT_DOOR)
    own = js.from_client_session_token(session.token).call("clientSessions.get")
    assert own["client_session_id"] == session.client_session_id
    assert own["token"] == session.token
    assert own["user_identity_ids"] == session.user_identity_ids
    assert own["device_count"] == 1


def test_a_session_token_client_unlocks_a_granted_lock(seam: Seam, js: JsClients) -> None:
    seam.locks.lock_door(device_id=BACK_DOOR)
    assert seam.devices.get(device_id=BACK_DOOR).properties.locked is True
    app = js.from_client_session_token(session_for(seam, BACK_DOOR).token)
    # The SDK waits for the action attempt, polling /action_attempts/get with the session.
    attempt = app.call("locks.unlockDoor", {"device_id": BACK_DOOR})
    assert attempt["action_type"] == "UNLOCK_DOOR" and attempt["status"] == "success"
    assert seam.action_attempts.get(
        action_attempt_id=attempt["action_attempt_id"]).status == "success"
    assert seam.devices.get(device_id=BACK_DOOR).properties.locked is False
    assert app.call("devices.get", {"device_id": BACK_DOOR})["properties"]["locked"] is False


def test_a_session_token_client_creates_an_access_code_on_a_granted_device(
        seam: Seam, js: JsClients) -> None:
    app = js.from_client_session_token(session_for(seam, FRONT_DOOR).token)
    created = app.call("accessCodes.create", {"device_id": FRONT_DOOR,
                                              "name": "Guest from the app"})
    assert created["device_id"] == FRONT_DOOR and created["name"] == "Guest from the app"
    assert seam.access_codes.get(access_code_id=created["access_code_id"]).code == created["code"]
    assert created["access_code_id"] in {
        c["access_code_id"] for c in app.call("accessCodes.list", {"device_id": FRONT_DOOR})}


def test_a_session_token_client_gets_404_for_devices_outside_its_grant(
        seam: Seam, js: JsClients, jane_lock: str) -> None:
    app = js.from_client_session_token(session_for(seam, FRONT_DOOR).token)
    codes_before = seam.access_codes.list(device_id=jane_lock)
    for call, params in (("devices.get", {"device_id": jane_lock}),
                         ("locks.unlockDoor", {"device_id": jane_lock}),
                         ("accessCodes.create", {"device_id": jane_lock, "code": "4821"})):
        error = app.error_of(call, params)
        assert error["name"] == "SeamHttpApiError", (call, error)
        assert (error["status_code"], error["code"]) == (404, "device_not_found"), call
        assert error["request_id"].startswith("request_")
    assert seam.access_codes.list(device_id=jane_lock) == codes_before


def test_a_session_token_client_is_refused_routes_kept_for_api_keys(seam: Seam,
                                                                   js: JsClients) -> None:
    app = js.from_client_session_token(session_for(seam, FRONT_DOOR).token)
    for call in ("webhooks.list", "clientSessions.list", "userIdentities.create"):
        error = app.error_of(call, {})
        # The SDK reports any 401 as SeamHttpUnauthorizedError; lockhub's body says why.
        assert error["name"] == "SeamHttpUnauthorizedError", (call, error)
        assert (error["status_code"], error["server_error_type"]) == (401, "unauthorized"), call


def test_revoking_a_session_refuses_its_next_call(seam: Seam, js: JsClients) -> None:
    session = session_for(seam, FRONT_DOOR)
    app = js.from_client_session_token(session.token)
    assert device_ids(app) == {FRONT_DOOR}
    seam.client_sessions.revoke(client_session_id=session.client_session_id)
    for call in ("devices.list", "clientSessions.get"):
        error = app.error_of(call)
        assert error["name"] == "SeamHttpUnauthorizedError"
        assert (error["status_code"], error["server_error_type"]) == (
            401, "client_session_revoked"), call


def test_deleting_a_session_refuses_its_next_call(seam: Seam, js: JsClients) -> None:
    key = user_key()
    app = js.from_publishable_key(key)
    session_id = app.call("clientSessions.get")["client_session_id"]
    seam.client_sessions.grant_access(client_session_id=session_id,
                                      user_identity_ids=[person_with(seam, FRONT_DOOR)])
    assert device_ids(app) == {FRONT_DOOR}
    seam.client_sessions.delete(client_session_id=session_id)
    error = app.error_of("devices.list")
    assert error["name"] == "SeamHttpUnauthorizedError"
    assert (error["status_code"], error["server_error_type"]) == (401, "client_session_not_found")
    # The same user then gets a new session, which starts empty.
    fresh = js.from_publishable_key(key)
    renewed = fresh.call("clientSessions.get")
    assert renewed["client_session_id"] != session_id and renewed["user_identity_ids"] == []
    assert fresh.call("devices.list") == []
