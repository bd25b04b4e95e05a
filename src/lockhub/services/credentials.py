"""API keys and personal access tokens: issued once, stored as a digest, checked in constant time.

API key: `seam_<id>_<secret>`; PAT: `seam_at<id>_<secret>`. Only sha256(secret) is stored; the
id finds the row, `hmac.compare_digest` checks the secret.

Every request is checked against the database (one indexed read that also returns the
workspace's state), so a revoked key, a deleted workspace or a suspension takes effect on the
next request in every process sharing the database (api/auth.py remembers an accepted
credential only until any process changes a credential table).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.errors import NotFound
from lockhub.ids import new_id
from lockhub.store.tables import (
    api_keys,
    personal_access_tokens,
    users,
    workspace_members,
    workspaces,
)

_ALPHABET = string.ascii_letters + string.digits


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def split_api_key(token: str) -> tuple[str, str] | None:
    if not token.startswith("seam_") or token.startswith(("seam_at", "seam_cst", "seam_pk")):
        return None
    key_id, sep, secret = token[len("seam_"):].partition("_")
    return (key_id, secret) if sep and key_id and secret else None


def split_pat(token: str) -> tuple[str, str] | None:
    if not token.startswith("seam_at"):
        return None
    token_id, sep, secret = token[len("seam_at"):].rpartition("_")
    return (token_id, secret) if sep and token_id and secret else None


@dataclass(frozen=True)
class ClientSessionGrant:
    """What a client session token may see (services/client_sessions.py reads it)."""

    client_session_id: str
    expires_at: datetime
    connected_account_ids: tuple[str, ...]
    connect_webview_ids: tuple[str, ...]
    user_identity_ids: tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a workspace (API key), a user (PAT), possibly with a chosen workspace,
    a client session (only what it was granted) or a publishable key (only to get or create a
    client session)."""

    workspace_id: str | None
    user_id: str | None = None
    # The workspace is suspended: the credential is valid, but the workspace may not be used.
    workspace_suspended: bool = False
    # Routes of a simulated outage of the workspace (sandbox test hook): answered 503.
    outage_routes: tuple[str, ...] = ()
    client_session: ClientSessionGrant | None = None
    publishable_key: bool = False


async def create_api_key(conn: AsyncConnection, *, now: datetime, workspace_id: str, name: str,
                         sandbox: bool, key_id: str | None = None,
                         secret: str | None = None) -> str:
    key_id = key_id or (("test" if sandbox else "live") + _random(8))
    secret = secret or _random(32)
    await conn.execute(api_keys.insert().values(
        api_key_id=key_id, workspace_id=workspace_id, name=name, secret_digest=digest(secret),
        created_at=now))
    return f"seam_{key_id}_{secret}"


async def create_pat(conn: AsyncConnection, *, now: datetime, user_id: str, name: str,
                     token_id: str | None = None, secret: str | None = None) -> str:
    token_id = token_id or _random(10)
    secret = secret or _random(32)
    await conn.execute(personal_access_tokens.insert().values(
        token_id=token_id, user_id=user_id, name=name, secret_digest=digest(secret),
        created_at=now))
    return f"seam_at{token_id}_{secret}"


# Prebuilt: this runs on every request. The join refuses a key whose workspace is gone.
_API_KEY = select(api_keys.c.workspace_id, api_keys.c.secret_digest,
                  workspaces.c.is_suspended, workspaces.c.outage_routes).join(
    workspaces, workspaces.c.workspace_id == api_keys.c.workspace_id,
).where(api_keys.c.api_key_id == bindparam("key_id"))
_MEMBER = select(workspaces.c.is_suspended, workspaces.c.outage_routes).join(
    workspace_members, workspace_members.c.workspace_id == workspaces.c.workspace_id,
).where(workspace_members.c.user_id == bindparam("user_id"),
        workspace_members.c.workspace_id == bindparam("workspace_id"))


async def principal_for_api_key(conn: AsyncConnection, token: str) -> Principal | None:
    parts = split_api_key(token)
    if parts is None:
        return None
    row = (await conn.execute(_API_KEY, {"key_id": parts[0]})).first()
    if row is None or not hmac.compare_digest(row.secret_digest, digest(parts[1])):
        return None
    return Principal(workspace_id=row.workspace_id, workspace_suspended=row.is_suspended,
                     outage_routes=tuple(row.outage_routes or ()))


async def principal_for_pat(conn: AsyncConnection, token: str,
                            workspace_id: str | None) -> Principal | None:
    parts = split_pat(token)
    if parts is None:
        return None
    row = (await conn.execute(select(
        personal_access_tokens.c.user_id, personal_access_tokens.c.secret_digest,
    ).where(personal_access_tokens.c.token_id == parts[0]))).first()
    if row is None or not hmac.compare_digest(row.secret_digest, digest(parts[1])):
        return None
    if workspace_id is None:
        return Principal(workspace_id=None, user_id=row.user_id)
    member = (await conn.execute(_MEMBER, {"user_id": row.user_id,
                                           "workspace_id": workspace_id})).first()
    if member is None:
        return None
    return Principal(workspace_id=workspace_id, user_id=row.user_id,
                     workspace_suspended=member.is_suspended,
                     outage_routes=tuple(member.outage_routes or ()))


async def revoke_api_key(conn: AsyncConnection, key: str) -> bool:
    """Delete an API key, given its id (the `<id>` in `seam_<id>_<secret>`) or the whole key.
    False if there is no such key."""
    parts = split_api_key(key)
    key_id = parts[0] if parts else key
    deleted = await conn.execute(delete(api_keys).where(api_keys.c.api_key_id == key_id))
    return deleted.rowcount > 0


async def revoke_pat(conn: AsyncConnection, token: str) -> bool:
    """Delete a personal access token, given its id or the whole token. False if none."""
    parts = split_pat(token)
    token_id = parts[0] if parts else token
    deleted = await conn.execute(delete(personal_access_tokens).where(
        personal_access_tokens.c.token_id == token_id))
    return deleted.rowcount > 0


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as an administrator sees it: never its secret (only a digest is stored)."""

    api_key_id: str
    name: str
    workspace_id: str
    created_at: datetime


@dataclass(frozen=True)
class PatInfo:
    token_id: str
    name: str
    user_id: str
    email: str
    created_at: datetime
    workspace_ids: tuple[str, ...]


async def list_api_keys(conn: AsyncConnection, workspace_id: str | None = None) -> list[ApiKeyInfo]:
    query = select(api_keys.c.api_key_id, api_keys.c.name, api_keys.c.workspace_id,
                   api_keys.c.created_at).order_by(api_keys.c.created_at, api_keys.c.api_key_id)
    if workspace_id is not None:
        query = query.where(api_keys.c.workspace_id == workspace_id)
    return [ApiKeyInfo(r.api_key_id, r.name, r.workspace_id, r.created_at)
            for r in (await conn.execute(query)).all()]


async def list_pats(conn: AsyncConnection, email: str | None = None) -> list[PatInfo]:
    P = personal_access_tokens
    query = select(P.c.token_id, P.c.name, P.c.user_id, users.c.email, P.c.created_at).join(
        users, users.c.user_id == P.c.user_id).order_by(P.c.created_at, P.c.token_id)
    if email is not None:
        query = query.where(func.lower(users.c.email) == email.lower())
    rows = (await conn.execute(query)).all()
    members: dict[str, list[str]] = {}
    for m in (await conn.execute(select(workspace_members).where(
            workspace_members.c.user_id.in_({r.user_id for r in rows})).order_by(
            workspace_members.c.workspace_id))).all():
        members.setdefault(m.user_id, []).append(m.workspace_id)
    return [PatInfo(r.token_id, r.name, r.user_id, r.email, r.created_at,
                    tuple(members.get(r.user_id, ()))) for r in rows]


async def create_pat_for_email(conn: AsyncConnection, *, now: datetime, email: str, name: str,
                               workspace_ids: list[str]) -> str:
    """Issue a PAT to the user with `email` (created if there is none), first making the user a
    member of `workspace_ids` (each must exist). Returns the token, which is not stored."""
    for workspace_id in workspace_ids:
        if (await conn.execute(select(workspaces.c.workspace_id).where(
                workspaces.c.workspace_id == workspace_id))).first() is None:
            raise NotFound("workspace", {"workspace_id": workspace_id})
    user_id = (await conn.execute(select(users.c.user_id).where(
        func.lower(users.c.email) == email.lower()).order_by(users.c.created_at).limit(1),
    )).scalar_one_or_none()
    if user_id is None:
        user_id = new_id()
        await conn.execute(users.insert().values(user_id=user_id, email=email, created_at=now))
    current = set((await conn.execute(select(workspace_members.c.workspace_id).where(
        workspace_members.c.user_id == user_id))).scalars())
    for workspace_id in dict.fromkeys(workspace_ids):
        if workspace_id not in current:
            await conn.execute(workspace_members.insert().values(
                workspace_id=workspace_id, user_id=user_id))
    return await create_pat(conn, now=now, user_id=user_id, name=name)
