"""Seeds: exactly the workspaces, ids and keys of Seam's open-source fake (`--seed`), so suites
written for that fake run unchanged, and lockhub's demo workspace with every sandbox brand's
test accounts.

`seed_workspace_1` holds the fake's seed and nothing more: john's August account
(`august_device_1` "Front Door", `august_device_2` "Back Door"), jane's Schlage account
(`schlage_device_id` "Bathroom Door"), john's ASSA ABLOY credential service account (no
devices), one authorized Connect Webview, one `device.connected` event, the user identity
`john_user_identity_id` and its client session `seam_cst1_token`, publishable key
`seam_pk1_token`, and, on john's August account as in the fake, its thermostat
`ecobee_device_1` "Thermostat 1" and noise sensor `minut_device_1` "Minut Sensor 1" (with the
threshold `noise_threshold1`). Both keep the fake's readings (static: nothing drifts). Suites
count these (paging connected accounts two at a time expects three). The fake's Visionline
system and bridge session are not created; their ids are still in the map, as the fake
publishes them.

The demo workspace (`demo_workspace`, key `seam_demokey1_token`, publishable key
`seam_pkdemo_token`) holds lockhub's richer sandbox: every brand's documented test accounts
(thermostats and noise sensors included), an offline lock and a lock behind a disconnected hub. `make run` prints its key.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update

from lockhub.providers.sandbox.provider import snapshot, virtual_device
from lockhub.services import (
    client_sessions,
    connect_webviews,
    credentials,
    events,
    noise_sensors,
    workspaces,
)
from lockhub.services.connected_accounts import connect_account, insert_device
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store import tables as t

WORKSPACE_1 = "seed_workspace_1"
WORKSPACE_2 = "seed_workspace_2"
DEMO_WORKSPACE = "demo_workspace"
JOHN = "john_user_id"
JOHN_ACCOUNT = "john_connected_account_id"
JANE_ACCOUNT = "jane_connected_account_id"
JOHN_ASSA_ACCOUNT = "john_assa_cs_connected_account_id"
JOHN_USER_IDENTITY = "john_user_identity_id"
JOHN_USER_IDENTIFIER_KEY = "john_user_identifier_key"
CLIENT_SESSION_TOKEN = "seam_cst1_token"
DEMO_API_KEY = "seam_demokey1_token"
DEMO_PUBLISHABLE_KEY = "seam_pkdemo_token"

Seed = list[tuple[str, dict[str, Any], str | None, list[tuple[str, str | None]]]]

# The fake's accounts: (brand, sign-in form, connected_account_id, pinned (device_id, nickname)).
# Only the pinned devices are kept (jane's Schlage test account has two locks; the fake's one).
FAKE_SANDBOX: Seed = [
    ("august", {"email": "john@example.com", "password": "1234", "two_factor_code": "123456"},
     JOHN_ACCOUNT, [("august_device_1", "Front Door"), ("august_device_2", "Back Door")]),
    ("schlage", {"email": "jane@example.com", "password": "1234"},
     JANE_ACCOUNT, [("schlage_device_id", "Bathroom Door")]),
]

# lockhub's demo: every sandbox brand's test accounts.
DEMO_SANDBOX: Seed = [
    ("august", {"email": "john@example.com", "password": "1234", "two_factor_code": "123456"},
     None, [(None, "Front Door"), (None, "Back Door")]),
    ("schlage", {"email": "jane@example.com", "password": "1234"}, None, [(None, "Bathroom Door")]),
    ("ttlock", {"email": "jane@example.com", "password": "1234"}, None, []),
    ("wyze", {"api_key_id": "ABC123ABC", "api_key": "ABC123ABC", "email": "jane@example.com",
              "password": "1234"}, None, []),
    ("yale", {"email": "jane@example.com", "password": "1234", "two_factor_code": "123456"},
     None, []),
    ("kwikset", {"email": "jane@example.com", "password": "1234"}, None, []),
    ("igloohome", {"email": "jane@example.com", "password": "1234"}, None, []),
    ("nuki", {"email": "jane@example.com", "password": "1234"}, None, []),
    ("smartthings", {"email": "jane@example.com", "password": "1234"}, None, []),
    # Failure scenarios integrators test, without needing simulate routes: sam's August lock
    # is offline, frodo's Yale lock sits behind a disconnected hub.
    ("august", {"email": "sam@example.com", "password": "1234", "two_factor_code": "123456"},
     None, []),
    ("yale", {"email": "frodo@example.com", "password": "1234", "two_factor_code": "123456"},
     None, []),
    # Thermostats and noise sensors.
    *((brand, {"email": "jane@example.com", "password": "1234"}, None, [])
      for brand in ("ecobee", "nest", "honeywell_resideo", "sensi", "minut", "noiseaware")),
]

SANDBOX_SEEDS = {"fake": FAKE_SANDBOX, "default": DEMO_SANDBOX}

# The fake's map, for the ids lockhub does not create (non-lock devices, access systems).
_FAKE_ONLY_IDS = {
    "visionline_acs_system_1": "visionline_acs_system_1",
    "bridge_client_session_token": "bcs1_token",
}


ECOBEE_DEVICE = "ecobee_device_1"
MINUT_DEVICE = "minut_device_1"
NOISE_THRESHOLD = "noise_threshold1"
# The fake's thermostat and noise sensor, as virtual devices of john's August account (the
# fake's `seed.ts`): the ecobee cools to 24 °C (heating point 18 °C) with its fan running, the
# Minut hears 70 dB. Set points are in the ecobee's own unit (°F).
FAKE_CLIMATE_DEVICES = (
    (ECOBEE_DEVICE, "Thermostat 1", "ecobee", {
        "key": "ecobee_fake_thermostat", "name": "Thermostat 1", "model": "ecobee3_lite",
        "battery_level": None, "serial_number": "EB3L00FAKE01",
        "metadata": {"device_name": "Thermostat 1", "ecobee_device_id": "ecobee_device_1"},
        "climate": {"physics": "static", "hvac_mode": "cool", "heating_set_point": 64.4,
                    "cooling_set_point": 75.2, "fan_mode": "auto", "is_fan_running": True}}),
    (MINUT_DEVICE, "Minut Sensor 1", "minut", {
        "key": "minut_fake_sensor", "name": "Minut Sensor 1", "model": "gen3",
        "battery_level": 1.0, "serial_number": "MNT3FAKE0001",
        "metadata": {"device_id": "minut_device_1", "device_name": "Minut Sensor 1",
                     "latest_sensor_values": {}},
        "noise": {"physics": "static", "level": 70.0, "time_zone": "America/Los_Angeles"}}),
)
# The fake's one threshold: all day in Los Angeles, 60 dB (so the sensor's 70 dB triggers it).
FAKE_THRESHOLD = {"noise_threshold_id": NOISE_THRESHOLD, "name": "builtin_normal_hours",
                  "starts_daily_at": "00:00:00[America/Los_Angeles]",
                  "ends_daily_at": "23:59:59[America/Los_Angeles]",
                  "noise_threshold_decibels": 60.0, "noise_threshold_nrs": None}


async def load_sandbox_seed(rt: Runtime, workspace_id: str, name: str) -> None:
    """Load a sandbox seed into a workspace (at seeding, and after `/workspaces/reset_sandbox`)."""
    for brand, form, account_id, pinned in SANDBOX_SEEDS[name]:
        # Derived ids: a reset (or reseeding) gives every account the id it had.
        account_id = account_id or str(uuid.uuid5(
            uuid.NAMESPACE_URL, f"lockhub-seed-account:{workspace_id}:{brand}:{form['email']}"))
        await connect_account(
            rt, workspace_id, brand, form, connected_account_id=account_id,
            pinned_devices=[(d or "", nick) for d, nick in pinned] if name == "fake" else None)
        if name == "default":
            await _nickname(rt, workspace_id, brand, form, pinned)
    if name == "fake":
        await _fake_rest(rt, workspace_id)


async def _nickname(rt: Runtime, workspace_id: str, brand: str, form: dict[str, Any],
                    pinned: list[tuple[str | None, str | None]]) -> None:
    """The demo's August and Schlage locks carry the fake's names (their ids are the demo's)."""
    if not pinned:
        return
    C, D = t.connected_accounts, t.devices
    async with rt.db.write() as conn:
        rows = (await conn.execute(
            select(D.c.device_id).join(C, C.c.connected_account_id == D.c.connected_account_id)
            .where(D.c.workspace_id == workspace_id, C.c.account_type == brand,
                   C.c.user_identifier["email"].as_string() == form["email"])
            .order_by(D.c.created_at, D.c.device_id))).all()
        for row, (_, nickname) in zip(rows, pinned, strict=False):
            await conn.execute(update(D).where(D.c.device_id == row.device_id).values(
                nickname=nickname, display_name=nickname))


async def _fake_rest(rt: Runtime, workspace_id: str) -> None:
    """What the fake seeds besides its locks, with its own values (the email included)."""
    now = rt.clock.now()
    keep = {d for _, _, _, pinned in FAKE_SANDBOX for d, _ in pinned} | {
        device_id for device_id, *_ in FAKE_CLIMATE_DEVICES}
    webview = await connect_webviews.create(
        rt, workspace_id, connect_webviews.WebviewRequest(accepted_providers=["august"]))
    async with rt.db.write() as conn:
        D, S = t.devices, t.sandbox_devices
        rows = (await conn.execute(select(D.c.device_id, D.c.provider_device_id).where(
            D.c.workspace_id == workspace_id, D.c.device_id.not_in(keep)))).all()
        extra = [r.device_id for r in rows]
        await conn.execute(delete(D).where(D.c.device_id.in_(extra)))
        await conn.execute(delete(S).where(S.c.workspace_id == workspace_id,
                                           S.c.sandbox_device_id.in_(
                                               [r.provider_device_id for r in rows])))
        await conn.execute(delete(t.jobs).where(t.jobs.c.workspace_id == workspace_id,
                                                t.jobs.c.key.in_([f"device:{d}" for d in extra])))
        if (await conn.execute(select(t.connected_accounts.c.connected_account_id).where(
                t.connected_accounts.c.connected_account_id == JOHN_ASSA_ACCOUNT))).first() is None:
            await conn.execute(t.connected_accounts.insert().values(
                connected_account_id=JOHN_ASSA_ACCOUNT, workspace_id=workspace_id,
                account_type="assa_abloy_credential_service", provider="sandbox",
                user_identifier={"email": "john@example.com"},
                credentials={"account_login": "assa_abloy_credential_service:john@example.com"},
                custom_metadata={}, automatically_manage_new_devices=True,
                accepted_capabilities=["access_control"], errors=[], warnings=[],
                created_at=now))
        await conn.execute(update(t.connect_webviews).where(
            t.connect_webviews.c.connect_webview_id == webview.connect_webview_id).values(
            status="authorized", login_successful=True, connected_account_id=JOHN_ACCOUNT,
            selected_provider="august", authorized_at=now))
        await _fake_climate_devices(rt, conn, workspace_id)
        # One event, as the fake seeds: the first lock connected.
        await conn.execute(delete(t.webhook_deliveries).where(
            t.webhook_deliveries.c.workspace_id == workspace_id))
        await conn.execute(delete(t.events).where(t.events.c.workspace_id == workspace_id))
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="device.connected", device_id="august_device_1",
                            connected_account_id=JOHN_ACCOUNT)
        if (await conn.execute(select(t.user_identities.c.user_identity_id).where(
                t.user_identities.c.user_identity_id == JOHN_USER_IDENTITY))).first() is None:
            await conn.execute(t.user_identities.insert().values(
                user_identity_id=JOHN_USER_IDENTITY, workspace_id=workspace_id,
                user_identity_key=JOHN_USER_IDENTIFIER_KEY, email_address="jane@example.com",
                created_at=now))
    await client_sessions.create(
        rt, workspace_id, client_sessions.Grants(
            connected_account_ids=(JOHN_ACCOUNT,),
            connect_webview_ids=(webview.connect_webview_id,),
            user_identity_ids=(JOHN_USER_IDENTITY,)),
        user_identifier_key=JOHN_USER_IDENTIFIER_KEY, customer_key=None, expires_at=None,
        existing_ok=True, token=CLIENT_SESSION_TOKEN)


async def _fake_climate_devices(rt: Runtime, conn: Any, workspace_id: str) -> None:
    """The fake's thermostat and noise sensor on john's August account (once)."""
    if (await conn.execute(select(t.devices.c.device_id).where(
            t.devices.c.device_id == ECOBEE_DEVICE))).first() is not None:
        return
    now = rt.clock.now()
    at = (await workspace_clock(conn, workspace_id, now)).now
    login = "august:john@example.com"
    for position, (device_id, name, brand, device) in enumerate(FAKE_CLIMATE_DEVICES):
        values = virtual_device(device, at, sandbox_device_id=f"{workspace_id}:{device_id}",
                                workspace_id=workspace_id, account_login=login, brand=brand,
                                created_at=now)
        await conn.execute(t.sandbox_devices.insert().values(**values))
        row = (await conn.execute(select(t.sandbox_devices).where(
            t.sandbox_devices.c.sandbox_device_id == values["sandbox_device_id"]))).one()
        await insert_device(rt, conn, workspace_id, JOHN_ACCOUNT, device_id, snapshot(row, at),
                            nickname=name, managed=True, position=10 + position)
    N = t.noise_thresholds
    await conn.execute(delete(N).where(N.c.device_id == MINUT_DEVICE))
    await conn.execute(N.insert().values(workspace_id=workspace_id, device_id=MINUT_DEVICE,
                                         is_programmed=True, created_at=now, **FAKE_THRESHOLD))
    sensor = (await conn.execute(select(t.devices).where(
        t.devices.c.device_id == MINUT_DEVICE))).one()
    await noise_sensors.evaluate(conn, now=now, row=sensor)


async def seed(rt: Runtime) -> dict[str, Any]:
    """Create the seed if absent (idempotent) and return the fake's map of ids and tokens."""
    now = rt.clock.now()
    async with rt.db.read() as conn:
        exists = (await conn.execute(select(t.workspaces.c.workspace_id).where(
            t.workspaces.c.workspace_id == WORKSPACE_1))).first()
    if not exists:
        async with rt.db.write() as conn:
            await conn.execute(t.users.insert().values(
                user_id=JOHN, email="john@example.com", created_at=now))
        await workspaces.create(rt, user_id=JOHN, name="My Workspace", is_sandbox=True,
                                workspace_id=WORKSPACE_1, sandbox_seed="fake",
                                publishable_key="seam_pk1_token")
        await workspaces.create(rt, user_id=None, name="Empty Workspace", is_sandbox=False,
                                workspace_id=WORKSPACE_2)
        await workspaces.create(rt, user_id=JOHN, name="lockhub Demo", is_sandbox=True,
                                workspace_id=DEMO_WORKSPACE, sandbox_seed="default",
                                publishable_key=DEMO_PUBLISHABLE_KEY)
        async with rt.db.write() as conn:
            await credentials.create_api_key(conn, now=now, workspace_id=WORKSPACE_1,
                                             name="Seed API Key 1", sandbox=True,
                                             key_id="apikey1", secret="token")
            await credentials.create_api_key(conn, now=now, workspace_id=WORKSPACE_2,
                                             name="Seed API Key 2", sandbox=False,
                                             key_id="apikey2", secret="token")
            await credentials.create_api_key(conn, now=now, workspace_id=DEMO_WORKSPACE,
                                             name="Demo API Key", sandbox=True,
                                             key_id="demokey1", secret="token")
            # The fake's PAT (seam_at1_longtoken) and its older form.
            await credentials.create_pat(conn, now=now, user_id=JOHN, name="Seeded token",
                                         token_id="1_shorttoken", secret="longtoken")
            await credentials.create_pat(conn, now=now, user_id=JOHN, name="Seeded token (v1)",
                                         token_id="1", secret="longtoken")
        await load_sandbox_seed(rt, WORKSPACE_1, "fake")
        await load_sandbox_seed(rt, DEMO_WORKSPACE, "default")
    return seed_map()


def seed_map() -> dict[str, Any]:
    """The fake's `/_fake/default_seed`, key for key."""
    return {
        "john_connected_account_id": JOHN_ACCOUNT,
        "jane_connected_account_id": JANE_ACCOUNT,
        "john_assa_cs_connected_account_id": JOHN_ASSA_ACCOUNT,
        "seed_workspace_1": WORKSPACE_1,
        "seed_workspace_2": WORKSPACE_2,
        "john_user_workspace_1": "john_user_workspace_1",
        "august_device_1": "august_device_1",
        "august_device_2": "august_device_2",
        "schlage_device_1": "schlage_device_id",
        "seam_apikey1_token": "seam_apikey1_token",
        "seam_apikey2_token": "seam_apikey2_token",
        "seam_cst1_token": CLIENT_SESSION_TOKEN,
        "seam_pk1_token": "seam_pk1_token",
        "seam_at1_token": "seam_at1_longtoken",
        "john_user_identifier_key": JOHN_USER_IDENTIFIER_KEY,
        "john_user_identity_id": JOHN_USER_IDENTITY,
        "john_user_id": JOHN,
        "john_user_key": "john_user_key",
        "ecobee_device_1": ECOBEE_DEVICE,
        "minut_device_1": MINUT_DEVICE,
        **_FAKE_ONLY_IDS,
    }


async def demo_map(rt: Runtime) -> dict[str, Any]:
    """The demo workspace's ids: its key, and each lock by brand in import order
    (`august_device_1`, `yale_device_3`, …), each account by brand and email."""
    result: dict[str, Any] = {"workspace_id": DEMO_WORKSPACE, "api_key": DEMO_API_KEY,
                              "publishable_key": DEMO_PUBLISHABLE_KEY}
    C, D = t.connected_accounts, t.devices
    async with rt.db.read() as conn:
        accounts = (await conn.execute(select(C.c.connected_account_id, C.c.account_type,
                                              C.c.user_identifier).where(
            C.c.workspace_id == DEMO_WORKSPACE))).all()
        rows = (await conn.execute(select(D.c.device_id, D.c.brand).where(
            D.c.workspace_id == DEMO_WORKSPACE).order_by(D.c.created_at, D.c.device_id))).all()
    for account in accounts:
        email = (account.user_identifier or {}).get("email", "")
        result[f"{account.account_type}:{email}"] = account.connected_account_id
    # The accounts the fake's seed names, as the demo has them.
    result["john_connected_account_id"] = result.get("august:john@example.com")
    result["jane_connected_account_id"] = result.get("schlage:jane@example.com")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.brand] = counts.get(row.brand, 0) + 1
        result[f"{row.brand}_device_{counts[row.brand]}"] = row.device_id
    return result
