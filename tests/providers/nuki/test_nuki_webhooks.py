"""Nuki's decentral webhooks behind the Seam API: the official SDK against lockhub servers with
a public URL, connected to the fake Nuki Web API, once for an account with Nuki's Advanced API
(lockhub registers a webhook and Nuki pushes changes to it) and once for an account without
it (Nuki refuses webhooks with 403 and lockhub polls).

The webhook server polls only every hour, so an event that shows up at once was pushed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from seam import Seam

from tests.conformance.helpers import wait_until
from tests.databases import database_url, json_text, sql
from tests.fakes.nuki.server import ACCOUNT_ID, FRONT_DOOR, TOKEN, NukiCloud
from tests.fakes.nuki.webhooks import sign
from tests.providers.nuki.test_nuki_sdk import connect
from tests.providers.webview import events_of, lock_named, production_seam, stored_credentials
from tests.server import LockhubServer, free_port

SECRET_KEY = Fernet.generate_key().decode()
HOOK_PATH = "/_lockhub/callbacks/nuki/"


def start(tmp: Path, cloud: NukiCloud, poll_seconds: str) -> LockhubServer:
    port = free_port()
    return LockhubServer(
        database_url=database_url(tmp, "lockhub"), port=port, log_path=tmp / "lockhub.log",
        env={"LOCKHUB_ENGINE_POLL_SECONDS": "0.05", "LOCKHUB_DEVICE_SYNC_SECONDS": "3600",
             "LOCKHUB_SANDBOX_LATENCY_SCALE": "0.25", "LOCKHUB_NUKI_API_URL": cloud.url,
             "LOCKHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
             "LOCKHUB_NUKI_POLL_SECONDS": poll_seconds,
             "LOCKHUB_NUKI_WEBHOOK_POLL_SECONDS": "3600",
             "LOCKHUB_RADIO_COMMAND_TIMEOUT_SECONDS": "5", "LOCKHUB_SECRET_KEY": SECRET_KEY},
    ).start()


@pytest.fixture(scope="module")
def cloud() -> Iterator[NukiCloud]:
    fake = NukiCloud(advanced_api=True).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cloud: NukiCloud) -> Iterator[LockhubServer]:
    srv = start(tmp_path_factory.mktemp("lockhub-nuki-webhooks"), cloud, poll_seconds="3600")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def seam(server: LockhubServer) -> Seam:
    return production_seam(server)


@pytest.fixture(scope="module")
def account(server: LockhubServer, seam: Seam, cloud: NukiCloud) -> str:
    account_id = connect(server, seam, TOKEN)
    wait_until(lambda: "webhook" in stored_credentials(server, account_id, SECRET_KEY),
               timeout=30, message="the webhook registered and its secret stored")
    return account_id


def log_reads(cloud: NukiCloud) -> int:
    return sum(1 for r in cloud.requests if r.path.endswith("/log"))


def webhook_lists(cloud: NukiCloud) -> int:
    return sum(1 for r in cloud.requests if r.path == "/api/decentralWebhook" and r.method == "GET")


def set_code(seam: Seam, cloud: NukiCloud, device_id: str, name: str, code: str) -> str:
    created = seam.access_codes.create(device_id=device_id, name=name, code=code)
    wait_until(lambda: cloud.pending, timeout=30, message="the code sent to Nuki")
    cloud.settle()
    wait_until(lambda: seam.access_codes.get(
        access_code_id=created.access_code_id).status == "set", timeout=30, message="code set")
    return created.access_code_id


def test_lockhub_registers_one_webhook_and_keeps_its_secret_sealed(
        server: LockhubServer, account: str, cloud: NukiCloud) -> None:
    (hook,) = cloud.webhooks.of_account(ACCOUNT_ID)
    assert hook.url.startswith(f"{server.url}{HOOK_PATH}")
    assert {"DEVICE_STATUS", "DEVICE_LOGS", "DEVICE_AUTHS"} <= set(hook.features)
    stored = stored_credentials(server, account, SECRET_KEY)
    assert stored["webhook"] == {"id": hook.id, "secret": hook.secret}
    assert stored["api_token"] == TOKEN
    [(raw,)] = sql(server.database_url, "select credentials from connected_accounts where "
                   "connected_account_id = :id", {"id": account})
    assert hook.secret not in json_text(raw) and TOKEN not in json_text(raw)


def test_a_pushed_keypad_unlock_names_its_access_code_without_a_poll(
        seam: Seam, account: str, cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    code_id = set_code(seam, cloud, device.device_id, "Pushed", "468235")
    reads = log_reads(cloud)
    assert cloud.enter_pin(FRONT_DOOR, "468235")
    keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id, "lock.unlocked")
                                if e.method == "keycode"], message="the pushed keypad unlock")
    assert [e.access_code_id for e in keyed] == [code_id]
    assert seam.locks.get(device_id=device.device_id).properties.locked is False
    cloud.set_battery(FRONT_DOOR, 15)  # a status delivery
    wait_until(lambda: seam.locks.get(device_id=device.device_id).properties.battery_level
               == 0.15, message="the pushed battery level")
    assert log_reads(cloud) == reads  # nothing polled the log meanwhile
    assert all(d.status == 200 for d in cloud.deliveries())


def test_a_code_added_in_the_nuki_app_is_pushed_and_listed(
        seam: Seam, account: str, cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    with cloud.world.guard:  # someone adds a keypad code in the Nuki app
        lock = cloud.lock(FRONT_DOOR)
        auth = cloud.world.new_auth(lock, name="Neighbour", code=935791)
        lock.auths[auth.id] = auth
        cloud.world.auths_changed(lock, auth)
    wait_until(lambda: [c for c in seam.access_codes.unmanaged.list(device_id=device.device_id)
                        if c.code == "935791"], timeout=30, message="the unmanaged code")


def test_a_delivery_with_a_wrong_or_missing_signature_is_refused_and_changes_nothing(
        server: LockhubServer, seam: Seam, account: str, cloud: NukiCloud) -> None:
    device = lock_named(seam, account, "Front Door")
    (hook,) = cloud.webhooks.of_account(ACCOUNT_ID)
    before = len(events_of(seam, device.device_id, "lock.unlocked"))
    body = json.dumps({"feature": "DEVICE_LOGS", "smartlockLog": {
        "id": "65f0c0ffee0000000000beef", "smartlockId": FRONT_DOOR, "deviceType": 0,
        "name": "Manual", "action": 1, "trigger": 1, "state": 0, "autoUnlock": False,
        "date": "2030-01-01T00:00:00.000Z", "source": 0}}).encode()
    for url, signature in ((hook.url, sign("not-the-secret", body)), (hook.url, None),
                           (hook.url + "x", sign(hook.secret, body))):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Nuki-Signature-SHA256"] = signature
        refused = httpx.post(url, content=body, headers=headers, timeout=30)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["type"] == "unauthorized"
    not_json = httpx.post(hook.url, content=b"{", timeout=30, headers={
        "X-Nuki-Signature-SHA256": sign(hook.secret, b"{")})
    assert not_json.status_code == 400 and not_json.json()["error"]["type"] == "invalid_input"
    assert len(events_of(seam, device.device_id, "lock.unlocked")) == before


def test_a_restart_reuses_the_webhook_and_drops_strays(
        server: LockhubServer, account: str, cloud: NukiCloud) -> None:
    (hook,) = cloud.webhooks.of_account(ACCOUNT_ID)
    stray = httpx.put(f"{cloud.url}/api/decentralWebhook", timeout=30,
                      headers={"Authorization": f"Bearer {TOKEN}"},
                      json={"webhookUrl": hook.url, "webhookFeatures": ["DEVICE_LOGS"]}).json()
    lists = webhook_lists(cloud)
    server.stop()
    server.start()
    wait_until(lambda: webhook_lists(cloud) > lists, timeout=30,
               message="the webhooks listed again")
    wait_until(lambda: stray["id"] not in cloud.webhooks.hooks, timeout=30,
               message="the stray webhook deleted")
    assert [h.id for h in cloud.webhooks.of_account(ACCOUNT_ID)] == [hook.id]


def test_deleting_the_account_deletes_its_webhook_at_nuki(
        seam: Seam, account: str, cloud: NukiCloud) -> None:
    seam.connected_accounts.delete(connected_account_id=account)
    assert cloud.webhooks.of_account(ACCOUNT_ID) == []


# --- an account without Nuki's Advanced API ----------------------------------------------


@pytest.fixture(scope="module")
def plain_cloud() -> Iterator[NukiCloud]:
    fake = NukiCloud(advanced_api=False).start()
    yield fake
    fake.stop()


def test_without_the_advanced_api_lockhub_polls_and_still_sees_the_keypad_unlock(
        tmp_path: Path, plain_cloud: NukiCloud) -> None:
    server = start(tmp_path, plain_cloud, poll_seconds="0.2")
    try:
        seam = production_seam(server)
        account = connect(server, seam, TOKEN)
        device = lock_named(seam, account, "Front Door")
        code_id = set_code(seam, plain_cloud, device.device_id, "Polled", "579135")
        # The registration is tried once the connection is up, not necessarily before the
        # lock is listed.
        wait_until(lambda: [r for r in plain_cloud.requests
                            if r.path == "/api/decentralWebhook"],
                   message="the refused webhook registration")
        assert plain_cloud.webhooks.hooks == {}
        assert "webhook" not in stored_credentials(server, account, SECRET_KEY)
        assert plain_cloud.enter_pin(FRONT_DOOR, "579135")
        keyed = wait_until(lambda: [e for e in events_of(seam, device.device_id,
                                                         "lock.unlocked")
                                    if e.method == "keycode"], message="the polled unlock")
        assert [e.access_code_id for e in keyed] == [code_id]
    finally:
        server.stop()
