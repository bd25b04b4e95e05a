"""API keys and personal access tokens: issued once, stored as a digest, checked in constant time.

API key: `seam_<id>_<secret>`; PAT: `seam_at<id>_<secret>`. Only sha256(secret) is stored; the
id finds the row, `hmac.compare_digest` checks the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.store.tables import api_keys, personal_access_tokens, workspace_members

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
class Principal:
    """Who is calling: a workspace (API key) or a user (PAT), possibly with a chosen workspace."""

    workspace_id: str | None
    user_id: str | None = None


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


async def principal_for_api_key(conn: AsyncConnection, token: str) -> Principal | None:
    parts = split_api_key(token)
    if parts is None:
        return None
    row = (await conn.execute(select(api_keys.c.workspace_id, api_keys.c.secret_digest).where(
        api_keys.c.api_key_id == parts[0]))).first()
    if row is None or not hmac.compare_digest(row.secret_digest, digest(parts[1])):
        return None
    return Principal(workspace_id=row.workspace_id)


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
    member = (await conn.execute(select(workspace_members.c.workspace_id).where(
        workspace_members.c.user_id == row.user_id,
        workspace_members.c.workspace_id == workspace_id))).first()
    return Principal(workspace_id=workspace_id, user_id=row.user_id) if member else None
