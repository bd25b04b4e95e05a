"""Seeds: the same workspaces, ids and keys as Seam's open-source fake (`--seed`), plus
sandbox test accounts of many brands, so suites written for that fake run unchanged.

Decision: the fake's Schlage device is created with id `schlage_device_1` and listed under that
key (the fake's own map points at a non-existent `schlage_device_id`). Thermostat and noise
sensor seed devices are not created: lockhub serves locks only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lockhub.services import client_sessions, credentials, workspaces
from lockhub.services.connected_accounts import connect_account
from lockhub.services.runtime import Runtime
from lockhub.store import tables as t

WORKSPACE_1 = "seed_workspace_1"
WORKSPACE_2 = "seed_workspace_2"
JOHN = "john_user_id"

# Test accounts linked into the default sandbox seed, in order:
# (brand, sign-in form, connected_account_id or None, pinned (device_id, nickname) list)
DEFAULT_SANDBOX: list[tuple[str, dict[str, Any], str | None, list[tuple[str, str | None]]]] = [
    ("august", {"email": "john@example.com", "password": "1234", "two_factor_code": "123456"},
     "john_connected_account_id",
     [("august_device_1", "Front Door"), ("august_device_2", "Back Door")]),
    ("schlage", {"email": "jane@example.com", "password": "1234"},
     "jane_connected_account_id", [("schlage_device_1", "Bathroom Door")]),
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
]

# "fake" is "default" plus the fake's user identity and client session (restored by a reset).
SANDBOX_SEEDS = {"default": DEFAULT_SANDBOX, "fake": DEFAULT_SANDBOX}
JOHN_USER_IDENTITY = "john_user_identity_id"
JOHN_USER_IDENTIFIER_KEY = "john_user_identifier_key"
CLIENT_SESSION_TOKEN = "seam_cst1_token"


async def load_sandbox_seed(rt: Runtime, workspace_id: str, name: str) -> None:
    for brand, form, account_id, pinned in SANDBOX_SEEDS[name]:
        await connect_account(rt, workspace_id, brand, form, connected_account_id=account_id,
                              pinned_devices=pinned)
    if name == "fake":
        await _fake_client_session(rt, workspace_id)


async def _fake_client_session(rt: Runtime, workspace_id: str) -> None:
    """The fake's user identity (kept by a reset, like every user identity) and its client
    session `seam_cst1_token`, which sees john's account."""
    async with rt.db.write() as conn:
        exists = (await conn.execute(select(t.user_identities.c.user_identity_id).where(
            t.user_identities.c.user_identity_id == JOHN_USER_IDENTITY))).first()
        if not exists:
            # The fake's own values, the email included.
            await conn.execute(t.user_identities.insert().values(
                user_identity_id=JOHN_USER_IDENTITY, workspace_id=workspace_id,
                user_identity_key=JOHN_USER_IDENTIFIER_KEY, email_address="jane@example.com",
                created_at=rt.clock.now()))
    await client_sessions.create(
        rt, workspace_id, client_sessions.Grants(
            connected_account_ids=("john_connected_account_id",),
            user_identity_ids=(JOHN_USER_IDENTITY,)),
        user_identifier_key=JOHN_USER_IDENTIFIER_KEY, customer_key=None, expires_at=None,
        existing_ok=True, token=CLIENT_SESSION_TOKEN)


async def seed(rt: Runtime) -> dict[str, Any]:
    """Create the seed if absent (idempotent) and return its ids and tokens."""
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
        async with rt.db.write() as conn:
            await credentials.create_api_key(conn, now=now, workspace_id=WORKSPACE_1,
                                             name="Seed API Key 1", sandbox=True,
                                             key_id="apikey1", secret="token")
            await credentials.create_api_key(conn, now=now, workspace_id=WORKSPACE_2,
                                             name="Seed API Key 2", sandbox=False,
                                             key_id="apikey2", secret="token")
            # The fake's PAT (seam_at1_shorttoken_longtoken) and its older form.
            await credentials.create_pat(conn, now=now, user_id=JOHN, name="Seeded token",
                                         token_id="1_shorttoken", secret="longtoken")
            await credentials.create_pat(conn, now=now, user_id=JOHN, name="Seeded token (v1)",
                                         token_id="1", secret="longtoken")
        await load_sandbox_seed(rt, WORKSPACE_1, "fake")
    return await seed_map(rt)


async def seed_map(rt: Runtime) -> dict[str, Any]:
    result: dict[str, Any] = {
        "seed_workspace_1": WORKSPACE_1,
        "seed_workspace_2": WORKSPACE_2,
        "seam_apikey1_token": "seam_apikey1_token",
        "seam_apikey2_token": "seam_apikey2_token",
        "seam_at1_token": "seam_at1_shorttoken_longtoken",
        "seam_pk1_token": "seam_pk1_token",
        "seam_cst1_token": CLIENT_SESSION_TOKEN,
        "john_user_id": JOHN,
        "john_user_identity_id": JOHN_USER_IDENTITY,
        "john_user_identifier_key": JOHN_USER_IDENTIFIER_KEY,
        "john_connected_account_id": "john_connected_account_id",
        "jane_connected_account_id": "jane_connected_account_id",
    }
    async with rt.db.read() as conn:
        rows = (await conn.execute(
            select(t.devices.c.device_id, t.devices.c.brand, t.connected_accounts.c.account_type)
            .join(t.connected_accounts, t.connected_accounts.c.connected_account_id
                  == t.devices.c.connected_account_id)
            .where(t.devices.c.workspace_id == WORKSPACE_1)
            .order_by(t.devices.c.created_at, t.devices.c.device_id))).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.brand] = counts.get(row.brand, 0) + 1
        result[f"{row.brand}_device_{counts[row.brand]}"] = row.device_id
    return result
