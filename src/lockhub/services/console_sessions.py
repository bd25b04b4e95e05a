"""Sessions of the web console: a signed-in person's credential (API key or personal access
token), kept server-side and encrypted, behind a random cookie secret.

The cookie carries only the secret; the row is found by its digest, so the database never
holds a value that signs in. Signing out deletes the row; a row past `expires_at` is refused and
removed at the next sign-in. The form token that guards every console form (CSRF) is derived
from the cookie's secret with a key of its own, so it needs no storage and means nothing
without the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from lockhub.secret_box import decrypt, derived_key, encrypt
from lockhub.services.credentials import digest
from lockhub.services.runtime import Runtime
from lockhub.store.tables import console_sessions

LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class ConsoleSession:
    secret: str  # the cookie's value
    credential: str
    workspace_id: str | None
    expires_at: datetime

    @property
    def is_pat(self) -> bool:
        return self.credential.startswith("seam_at")


def form_token(rt: Runtime, secret: str) -> str:
    return hmac.new(derived_key(rt.settings, "console-form"), secret.encode(),
                    hashlib.sha256).hexdigest()


def form_token_matches(rt: Runtime, secret: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(form_token(rt, secret), sent or "")


async def start(rt: Runtime, credential: str, workspace_id: str | None) -> ConsoleSession:
    now = rt.clock.now()
    secret = secrets.token_urlsafe(32)
    async with rt.db.write() as conn:
        await conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
        await conn.execute(console_sessions.insert().values(
            session_id=digest(secret), credential_sealed=encrypt(rt.settings, credential),
            workspace_id=workspace_id, created_at=now, expires_at=now + LIFETIME))
    return ConsoleSession(secret, credential, workspace_id, now + LIFETIME)


async def open_session(rt: Runtime, secret: str | None) -> ConsoleSession | None:
    """The session of a cookie's secret, or None (unknown, signed out or expired)."""
    if not secret:
        return None
    async with rt.db.read() as conn:
        row = (await conn.execute(select(console_sessions).where(
            console_sessions.c.session_id == digest(secret)))).first()
    if row is None or row.expires_at <= rt.clock.now():
        return None
    return ConsoleSession(secret, decrypt(rt.settings, row.credential_sealed), row.workspace_id,
                          row.expires_at)


async def switch_workspace(rt: Runtime, session: ConsoleSession, workspace_id: str) -> None:
    async with rt.db.write() as conn:
        await conn.execute(update(console_sessions).where(
            console_sessions.c.session_id == digest(session.secret)).values(
            workspace_id=workspace_id))


async def end(rt: Runtime, secret: str) -> None:
    async with rt.db.write() as conn:
        await conn.execute(delete(console_sessions).where(
            console_sessions.c.session_id == digest(secret)))
