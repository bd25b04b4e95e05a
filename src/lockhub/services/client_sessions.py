"""Client sessions: a credential (`seam_cst…`) for a browser or app, which sees only what it was
granted: connected accounts, Connect Webviews (and the accounts they connect) and user
identities (and the devices granted to them).

The token is served back by get and list (Seam's contract), so it is stored sealed with
lockhub's secret and found by its sha256 digest. Revoking or deleting a session, or letting it
expire, refuses its token on the next request in every process (a change to the row drops the
remembered principals; expiry is checked on every request).

A publishable key (`seam_pk…`, the workspace's, public by design) lets a browser get or create
a session for its own user identifier key; such sessions start with no grants.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub import secret_box
from lockhub.clock import iso
from lockhub.domain.objects import ClientSession
from lockhub.errors import LockhubError, NotFound, Unauthorized
from lockhub.ids import new_id
from lockhub.services import events, user_identities
from lockhub.services.credentials import ClientSessionGrant, Principal, digest
from lockhub.services.runtime import Runtime
from lockhub.store import tables as t
from lockhub.store.owned import owned_row

S = t.client_sessions
DEFAULT_LIFETIME = timedelta(days=365)  # Seam's fake's default; `expires_at` sets another
_ALPHABET = string.ascii_letters + string.digits


class Grants(msgspec.Struct, frozen=True):
    """What a session may see, as asked for by a create, get_or_create or grant_access."""

    connected_account_ids: tuple[str, ...] = ()
    connect_webview_ids: tuple[str, ...] = ()
    user_identity_ids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.connected_account_ids or self.connect_webview_ids
                    or self.user_identity_ids)


def new_token() -> str:
    key = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"seam_cst{key}_{''.join(secrets.choice(_ALPHABET) for _ in range(32))}"


# --- what a session sees -------------------------------------------------------------------


async def visible_account_ids(conn: AsyncConnection, workspace_id: str,
                              grant: ClientSessionGrant) -> set[str]:
    """Granted accounts, and the accounts granted Connect Webviews connected."""
    accounts = set(grant.connected_account_ids)
    if grant.connect_webview_ids:
        W = t.connect_webviews
        accounts.update(a for a in (await conn.execute(select(W.c.connected_account_id).where(
            W.c.workspace_id == workspace_id,
            W.c.connect_webview_id.in_(grant.connect_webview_ids)))).scalars() if a)
    return accounts


async def visible_device_ids(conn: AsyncConnection, workspace_id: str,
                             grant: ClientSessionGrant) -> set[str]:
    """Devices of the visible accounts, and devices granted to the session's user identities."""
    D = t.devices
    accounts = await visible_account_ids(conn, workspace_id, grant)
    devices: set[str] = set()
    if accounts:
        devices.update((await conn.execute(select(D.c.device_id).where(
            D.c.workspace_id == workspace_id, D.c.connected_account_id.in_(accounts)))).scalars())
    devices.update(await user_identities.accessible_device_ids(
        conn, workspace_id, list(grant.user_identity_ids)))
    return devices


async def devices_of_user(rt: Runtime, workspace_id: str, user_identifier_key: str) -> set[str]:
    """What the session of this user identifier key sees (nothing if there is none)."""
    async with rt.db.read() as conn:
        row = await _by_user_key(conn, workspace_id, user_identifier_key)
        return set() if row is None else await visible_device_ids(conn, workspace_id,
                                                                  _grant_of(row))


async def webviews_of_user(rt: Runtime, workspace_id: str,
                           user_identifier_key: str) -> list[str]:
    async with rt.db.read() as conn:
        row = await _by_user_key(conn, workspace_id, user_identifier_key)
    return [] if row is None else list(row.connect_webview_ids)


def _grant_of(row: Any) -> ClientSessionGrant:
    return ClientSessionGrant(
        client_session_id=row.client_session_id, expires_at=row.expires_at,
        connected_account_ids=tuple(row.connected_account_ids),
        connect_webview_ids=tuple(row.connect_webview_ids),
        user_identity_ids=tuple(row.user_identity_ids))


async def to_client_session(rt: Runtime, conn: AsyncConnection, row: Any) -> ClientSession:
    grant = _grant_of(row)
    session = ClientSession(
        client_session_id=row.client_session_id, workspace_id=row.workspace_id,
        token=secret_box.decrypt(rt.settings, row.token_sealed), created_at=iso(row.created_at),
        expires_at=iso(row.expires_at), user_identifier_key=row.user_identifier_key,
        device_count=len(await visible_device_ids(conn, row.workspace_id, grant)),
        connected_account_ids=list(row.connected_account_ids),
        connect_webview_ids=list(row.connect_webview_ids),
        user_identity_ids=list(row.user_identity_ids))
    if row.user_identity_ids:
        session.user_identity_id = row.user_identity_ids[0]
    if row.customer_key is not None:
        session.customer_key = row.customer_key
    return session


# --- credentials ---------------------------------------------------------------------------

_BY_DIGEST = select(S.c.client_session_id, S.c.workspace_id, S.c.expires_at, S.c.revoked_at,
                    S.c.connected_account_ids, S.c.connect_webview_ids, S.c.user_identity_ids,
                    t.workspaces.c.is_suspended, t.workspaces.c.outage_routes).join(
    t.workspaces, t.workspaces.c.workspace_id == S.c.workspace_id,
).where(S.c.token_digest == bindparam("digest"))


async def principal_for_token(conn: AsyncConnection, token: str) -> Principal:
    row = (await conn.execute(_BY_DIGEST, {"digest": digest(token)})).first()
    if row is None:
        raise Unauthorized("Client session not found", error_type="client_session_not_found")
    if row.revoked_at is not None:
        raise Unauthorized("Client session has been revoked",
                           error_type="client_session_revoked")
    return Principal(workspace_id=row.workspace_id, workspace_suspended=row.is_suspended,
                     outage_routes=tuple(row.outage_routes or ()),
                     client_session=_grant_of(row))


def check_not_expired(principal: Principal, now: datetime) -> None:
    grant = principal.client_session
    if grant is not None and grant.expires_at <= now:
        raise Unauthorized("Client session has expired", error_type="client_session_expired")


_BY_PUBLISHABLE_KEY = select(t.workspaces.c.workspace_id, t.workspaces.c.is_suspended,
                             t.workspaces.c.outage_routes,
                             t.workspaces.c.is_publishable_key_auth_enabled).where(
    t.workspaces.c.publishable_key == bindparam("key"))


async def principal_for_publishable_key(conn: AsyncConnection, key: str) -> Principal:
    row = (await conn.execute(_BY_PUBLISHABLE_KEY, {"key": key})).first()
    if row is None or not row.is_publishable_key_auth_enabled:
        raise Unauthorized("Invalid publishable key", error_type="invalid_publishable_key")
    return Principal(workspace_id=row.workspace_id, workspace_suspended=row.is_suspended,
                     outage_routes=tuple(row.outage_routes or ()), publishable_key=True)


# --- use cases -----------------------------------------------------------------------------


async def _check_grants(conn: AsyncConnection, workspace_id: str, grants: Grants) -> None:
    """Every granted id must be the workspace's: 404 for the first that is not."""
    for table, column, resource, ids in (
            (t.connected_accounts, "connected_account_id", "connected_account",
             grants.connected_account_ids),
            (t.connect_webviews, "connect_webview_id", "connect_webview",
             grants.connect_webview_ids)):
        if not ids:
            continue
        found = set((await conn.execute(select(table.c[column]).where(
            table.c.workspace_id == workspace_id, table.c[column].in_(ids)))).scalars())
        for row_id in ids:
            if row_id not in found:
                raise NotFound(resource, {column: row_id})
    await user_identities.existing_ids(conn, workspace_id, list(grants.user_identity_ids))


def _merge(current: list[str], added: tuple[str, ...]) -> list[str]:
    return current + [i for i in dict.fromkeys(added) if i not in current]


async def _by_user_key(conn: AsyncConnection, workspace_id: str, key: str) -> Any:
    return (await conn.execute(select(S).where(S.c.workspace_id == workspace_id,
                                               S.c.user_identifier_key == key))).first()


async def _live_by_user_key(rt: Runtime, conn: AsyncConnection, workspace_id: str,
                            key: str) -> Any:
    """The key's session unless it was revoked. A revoked one is deleted here, so asking for
    the user's session again (a browser with the publishable key) gets a new, working one
    instead of a token that is refused."""
    row = await _by_user_key(conn, workspace_id, key)
    if row is not None and row.revoked_at is not None:
        await _delete_row(rt, conn, workspace_id, row.client_session_id)
        return None
    return row


def _expiry(rt: Runtime, expires_at: datetime | None) -> datetime:
    now = rt.clock.now()
    if expires_at is None:
        return now + DEFAULT_LIFETIME
    if expires_at <= now:
        raise LockhubError("expires_at must be in the future", error_type="invalid_input")
    return expires_at


async def _insert(rt: Runtime, conn: AsyncConnection, workspace_id: str, grants: Grants, *,
                  user_identifier_key: str | None, customer_key: str | None,
                  expires_at: datetime, token: str | None = None,
                  client_session_id: str | None = None) -> str:
    token = token or new_token()
    client_session_id = client_session_id or new_id()
    await conn.execute(S.insert().values(
        client_session_id=client_session_id, workspace_id=workspace_id,
        token_digest=digest(token), token_sealed=secret_box.encrypt(rt.settings, token),
        user_identifier_key=user_identifier_key, customer_key=customer_key,
        connected_account_ids=list(dict.fromkeys(grants.connected_account_ids)),
        connect_webview_ids=list(dict.fromkeys(grants.connect_webview_ids)),
        user_identity_ids=list(dict.fromkeys(grants.user_identity_ids)),
        created_at=rt.clock.now(), expires_at=expires_at))
    return client_session_id


def _already_exists() -> LockhubError:
    return LockhubError("A client session already exists for this user_identifier_key; use "
                        "/client_sessions/get_or_create to get it",
                        error_type="client_session_token_already_exists")


async def create(rt: Runtime, workspace_id: str, grants: Grants, *,
                 user_identifier_key: str | None, customer_key: str | None,
                 expires_at: datetime | None, existing_ok: bool = False,
                 token: str | None = None, client_session_id: str | None = None,
                 ) -> ClientSession:
    """A new session. One session per user identifier key in a workspace: asking again is a
    400, or (`existing_ok`, Seam's PUT) the existing session."""
    expiry = _expiry(rt, expires_at)
    try:
        async with rt.db.write() as conn:
            await _check_grants(conn, workspace_id, grants)
            if user_identifier_key is not None:
                existing = await _live_by_user_key(rt, conn, workspace_id, user_identifier_key)
                if existing is not None:
                    if not existing_ok:
                        raise _already_exists()
                    return await to_client_session(rt, conn, existing)
            client_session_id = await _insert(
                rt, conn, workspace_id, grants, user_identifier_key=user_identifier_key,
                customer_key=customer_key, expires_at=expiry, token=token,
                client_session_id=client_session_id)
            return await to_client_session(rt, conn, await _row(conn, workspace_id,
                                                                client_session_id))
    except IntegrityError as exc:
        raise _already_exists() from exc


async def get_or_create(rt: Runtime, workspace_id: str, grants: Grants, *,
                        user_identifier_key: str | None,
                        expires_at: datetime | None) -> ClientSession:
    """The session of this user identifier key, with the grants added and the expiry moved
    when given; a new one if there is none (or no key was given)."""
    if user_identifier_key is not None:
        async with rt.db.write() as conn:
            existing = await _live_by_user_key(rt, conn, workspace_id, user_identifier_key)
            if existing is not None:
                await _check_grants(conn, workspace_id, grants)
                values = _added(existing, grants)
                if expires_at is not None:
                    values["expires_at"] = _expiry(rt, expires_at)
                if values:
                    await conn.execute(S.update().where(
                        S.c.client_session_id == existing.client_session_id).values(**values))
                return await to_client_session(
                    rt, conn, await _row(conn, workspace_id, existing.client_session_id))
    return await create(rt, workspace_id, grants, user_identifier_key=user_identifier_key,
                        customer_key=None, expires_at=expires_at, existing_ok=True)


def _added(row: Any, grants: Grants) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("connected_account_ids", "connect_webview_ids", "user_identity_ids"):
        merged = _merge(list(getattr(row, name)), getattr(grants, name))
        if merged != list(getattr(row, name)):
            values[name] = merged
    return values


async def _row(conn: AsyncConnection, workspace_id: str, client_session_id: str) -> Any:
    return await owned_row(conn, S, S.c.client_session_id, workspace_id, client_session_id,
                           "client_session")


async def find_row(conn: AsyncConnection, workspace_id: str, *,
                   client_session_id: str | None = None,
                   user_identifier_key: str | None = None) -> Any:
    if client_session_id is not None:
        return await _row(conn, workspace_id, client_session_id)
    row = (await _by_user_key(conn, workspace_id, user_identifier_key)
           if user_identifier_key is not None else None)
    if row is None:
        raise NotFound("client_session", {"user_identifier_key": user_identifier_key})
    return row


async def get(rt: Runtime, workspace_id: str, **by: str | None) -> ClientSession:
    async with rt.db.read() as conn:
        return await to_client_session(rt, conn, await find_row(conn, workspace_id, **by))


async def list_all(rt: Runtime, workspace_id: str, *, client_session_id: str | None,
                   connect_webview_id: str | None, user_identifier_key: str | None,
                   user_identity_id: str | None,
                   without_user_identifier_key: bool) -> list[ClientSession]:
    """Seam's list of client sessions is not paginated: every matching session, oldest
    first."""
    cond: list[Any] = [S.c.workspace_id == workspace_id]
    if client_session_id is not None:
        cond.append(S.c.client_session_id == client_session_id)
    if user_identifier_key is not None:
        cond.append(S.c.user_identifier_key == user_identifier_key)
    if without_user_identifier_key:
        cond.append(S.c.user_identifier_key.is_(None))
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(S).where(*cond).order_by(
            S.c.created_at, S.c.client_session_id))).all()
        # Grants are JSON lists: filtered here.
        return [await to_client_session(rt, conn, r) for r in rows
                if (connect_webview_id is None or connect_webview_id in r.connect_webview_ids)
                and (user_identity_id is None or user_identity_id in r.user_identity_ids)]


async def grant_access(rt: Runtime, workspace_id: str, grants: Grants, **by: str | None) -> None:
    """Add grants to a session; what it already has stays."""
    async with rt.db.write() as conn:
        row = await find_row(conn, workspace_id, **by)
        await _check_grants(conn, workspace_id, grants)
        values = _added(row, grants)
        if values:
            await conn.execute(S.update().where(
                S.c.client_session_id == row.client_session_id).values(**values))


async def grant_to_first_session(rt: Runtime, workspace_id: str,
                                 connected_account_id: str) -> None:
    """Grant an account to the workspace's oldest client session, if it has one (the fake's
    /_fake/complete_connect_webview does this)."""
    async with rt.db.write() as conn:
        row = (await conn.execute(select(S).where(S.c.workspace_id == workspace_id).order_by(
            S.c.created_at, S.c.client_session_id).limit(1))).first()
        if row is not None:
            values = _added(row, Grants(connected_account_ids=(connected_account_id,)))
            if values:
                await conn.execute(S.update().where(
                    S.c.client_session_id == row.client_session_id).values(**values))


async def add_connect_webview(conn: AsyncConnection, client_session_id: str,
                              connect_webview_id: str) -> None:
    """A webview a session created is the session's (inside the creating transaction)."""
    row = (await conn.execute(select(S.c.connect_webview_ids).where(
        S.c.client_session_id == client_session_id))).first()
    if row is not None:
        await conn.execute(S.update().where(S.c.client_session_id == client_session_id).values(
            connect_webview_ids=_merge(list(row.connect_webview_ids), (connect_webview_id,))))


async def revoke(rt: Runtime, workspace_id: str, client_session_id: str) -> None:
    """The token is refused from now on; the session stays listed (with its token) until it is
    deleted. Revoking twice changes nothing."""
    async with rt.db.write() as conn:
        row = await _row(conn, workspace_id, client_session_id)
        if row.revoked_at is None:
            await conn.execute(S.update().where(S.c.client_session_id == client_session_id)
                               .values(revoked_at=rt.clock.now()))


async def delete(rt: Runtime, workspace_id: str, client_session_id: str) -> None:
    async with rt.db.write() as conn:
        await _row(conn, workspace_id, client_session_id)
        await _delete_row(rt, conn, workspace_id, client_session_id)


async def _delete_row(rt: Runtime, conn: AsyncConnection, workspace_id: str,
                      client_session_id: str) -> None:
    await conn.execute(S.delete().where(S.c.client_session_id == client_session_id))
    await events.record(conn, now=rt.clock.now(), workspace_id=workspace_id,
                        event_type="client_session.deleted", client_session_id=client_session_id)

