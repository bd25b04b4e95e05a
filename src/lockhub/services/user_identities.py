"""User identities: the people an integrator gives access to, and the devices granted to each.

A user identity's key, email address and phone number are each unique within its workspace
(Seam's rule); a duplicate is a 400 naming the field, checked inside the write transaction and
backed by unique indexes. Devices are granted one by one (`user_identity_devices`); a client
session holding the identity sees exactly those devices. lockhub has no access-control systems,
so the ACS side of an identity (acs_user_ids, access systems, entrances) is always empty.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.domain.objects import UserIdentity
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.services.runtime import Runtime
from lockhub.store import tables as t
from lockhub.store.keyset import keyset_page
from lockhub.store.owned import owned_row

U = t.user_identities
UD = t.user_identity_devices

# E.164: a plus, then up to 15 digits, the first not 0.
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UNIQUE_FIELDS = ("user_identity_key", "email_address", "phone_number")


def to_user_identity(row: Any) -> UserIdentity:
    display = (row.full_name or row.email_address or row.phone_number or row.user_identity_key
               or "Unnamed user")
    return UserIdentity(
        user_identity_id=row.user_identity_id, workspace_id=row.workspace_id,
        user_identity_key=row.user_identity_key, email_address=row.email_address,
        phone_number=row.phone_number, display_name=display, full_name=row.full_name,
        created_at=iso(row.created_at), acs_user_ids=[], merged_user_identity_ids=[],
        merged_user_identity_keys=[], errors=[], warnings=[])


def _check_fields(fields: dict[str, Any]) -> None:
    issues: list[tuple[list[str], str]] = []
    email = fields.get("email_address")
    if email is not None and not _EMAIL.match(email):
        issues.append((["email_address"], "Invalid email"))
    phone = fields.get("phone_number")
    if phone is not None and not _E164.match(phone):
        issues.append((["phone_number"], "Phone number must be in E.164 format, e.g. "
                                         "+15555550100"))
    for name in ("user_identity_key", "full_name"):
        if fields.get(name) == "":
            issues.append(([name], "String must contain at least 1 character(s)"))
    if issues:
        raise InvalidInput.from_issues(issues)


def _in_use(field: str) -> LockhubError:
    return LockhubError(f"Another user identity in this workspace has this {field}",
                        error_type=f"{field}_already_in_use")


async def _check_unique(conn: AsyncConnection, workspace_id: str, fields: dict[str, Any],
                        except_id: str | None = None) -> None:
    for field in UNIQUE_FIELDS:
        value = fields.get(field)
        if value is None:
            continue
        query = select(U.c.user_identity_id).where(U.c.workspace_id == workspace_id,
                                                   U.c[field] == value)
        if except_id is not None:
            query = query.where(U.c.user_identity_id != except_id)
        if (await conn.execute(query)).first() is not None:
            raise _in_use(field)


def _conflict(exc: IntegrityError) -> LockhubError:
    """A concurrent writer took the value between our check and our insert (the database's
    message names the column on SQLite, the index on PostgreSQL)."""
    text = str(exc.orig)
    for field in ("email_address", "phone_number"):
        if field.split("_")[0] in text:
            return _in_use(field)
    return _in_use("user_identity_key")


async def create(rt: Runtime, workspace_id: str, fields: dict[str, Any]) -> UserIdentity:
    try:
        async with rt.db.write() as conn:
            row = await insert(conn, now=rt.clock.now(), workspace_id=workspace_id,
                               fields=fields)
    except IntegrityError as exc:
        raise _conflict(exc) from exc
    return to_user_identity(row)


async def insert(conn: AsyncConnection, *, now: datetime, workspace_id: str,
                 fields: dict[str, Any]) -> Any:
    """A new identity inside the caller's transaction (an access grant may create one)."""
    _check_fields(fields)
    values = {"user_identity_id": new_id(), "workspace_id": workspace_id, "created_at": now,
              **{k: fields.get(k) for k in (*UNIQUE_FIELDS, "full_name")}}
    await _check_unique(conn, workspace_id, values)
    await conn.execute(U.insert().values(**values))
    return _Row(values)


class _Row:
    """A dict seen as a row (attribute access), for serving what was just inserted."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


async def get_row(conn: AsyncConnection, workspace_id: str, *, user_identity_id: str | None = None,
                  user_identity_key: str | None = None) -> Any:
    if user_identity_id is not None:
        return await owned_row(conn, U, U.c.user_identity_id, workspace_id, user_identity_id,
                               "user_identity")
    row = (await conn.execute(select(U).where(
        U.c.workspace_id == workspace_id, U.c.user_identity_key == user_identity_key))).first()
    if row is None:
        raise NotFound("user_identity", {"user_identity_key": user_identity_key})
    return row


async def get(rt: Runtime, workspace_id: str, **by: str | None) -> UserIdentity:
    async with rt.db.read() as conn:
        return to_user_identity(await get_row(conn, workspace_id, **by))


async def list_page(rt: Runtime, workspace_id: str, *, ids: list[str] | None, search: str | None,
                    created_before: datetime | None, after: tuple[datetime, str] | None,
                    limit: int) -> tuple[list[UserIdentity], tuple[str, str] | None]:
    cond: list[Any] = [U.c.workspace_id == workspace_id]
    if ids is not None:
        cond.append(U.c.user_identity_id.in_(ids))
    if created_before is not None:
        cond.append(U.c.created_at < created_before)
    if search:
        # Literal text (no wildcards), case-insensitive, over the identity's names and contacts.
        needle = search.lower()
        cond.append(or_(*(func.lower(U.c[name]).contains(needle, autoescape=True)
                          for name in (*UNIQUE_FIELDS, "full_name", "user_identity_id"))))
    async with rt.db.read() as conn:
        rows, next_after = await keyset_page(conn, select(U).where(*cond), U.c.created_at,
                                             U.c.user_identity_id, after=after, limit=limit)
    return [to_user_identity(r) for r in rows], next_after


async def update(rt: Runtime, workspace_id: str, user_identity_id: str,
                 changes: dict[str, Any]) -> None:
    _check_fields(changes)
    try:
        async with rt.db.write() as conn:
            await get_row(conn, workspace_id, user_identity_id=user_identity_id)
            await _check_unique(conn, workspace_id, changes, except_id=user_identity_id)
            if changes:
                await conn.execute(U.update().where(U.c.user_identity_id == user_identity_id)
                                   .values(**changes))
    except IntegrityError as exc:
        raise _conflict(exc) from exc


async def delete_rows(conn: AsyncConnection, workspace_id: str, user_identity_id: str) -> None:
    """Delete the identity and its device grants (services/access_grants.py deletes its
    access grants first, in the same transaction); client sessions holding it no longer see
    those devices."""
    await get_row(conn, workspace_id, user_identity_id=user_identity_id)
    await conn.execute(UD.delete().where(UD.c.user_identity_id == user_identity_id))
    await conn.execute(U.delete().where(U.c.user_identity_id == user_identity_id))


async def _device_in_workspace(conn: AsyncConnection, workspace_id: str, device_id: str) -> None:
    found = (await conn.execute(select(t.devices.c.device_id).where(
        t.devices.c.workspace_id == workspace_id, t.devices.c.device_id == device_id))).first()
    if found is None:
        raise NotFound("device", {"device_id": device_id})


async def grant_device(rt: Runtime, workspace_id: str, user_identity_id: str,
                       device_id: str) -> None:
    """Idempotent: granting a device the identity already has changes nothing."""
    async with rt.db.write() as conn:
        await get_row(conn, workspace_id, user_identity_id=user_identity_id)
        await _device_in_workspace(conn, workspace_id, device_id)
        exists = (await conn.execute(select(UD.c.device_id).where(
            UD.c.user_identity_id == user_identity_id, UD.c.device_id == device_id))).first()
        if exists is None:
            await conn.execute(UD.insert().values(
                user_identity_id=user_identity_id, device_id=device_id,
                workspace_id=workspace_id, created_at=rt.clock.now()))


async def revoke_device(rt: Runtime, workspace_id: str, user_identity_id: str,
                        device_id: str) -> None:
    """Idempotent: revoking a device the identity does not have changes nothing."""
    async with rt.db.write() as conn:
        await get_row(conn, workspace_id, user_identity_id=user_identity_id)
        await _device_in_workspace(conn, workspace_id, device_id)
        await conn.execute(UD.delete().where(UD.c.user_identity_id == user_identity_id,
                                             UD.c.device_id == device_id))


async def accessible_device_ids(conn: AsyncConnection, workspace_id: str,
                                user_identity_ids: list[str]) -> list[str]:
    """Devices granted to any of these identities, directly (oldest grant first) or through
    their access grants (in the grants' order)."""
    if not user_identity_ids:
        return []
    rows = (await conn.execute(
        select(UD.c.device_id, func.min(UD.c.created_at).label("first"))
        .join(t.devices, and_(t.devices.c.device_id == UD.c.device_id,
                              t.devices.c.workspace_id == workspace_id))
        .where(UD.c.user_identity_id.in_(user_identity_ids))
        .group_by(UD.c.device_id).order_by("first", UD.c.device_id))).all()
    found = [r.device_id for r in rows]
    G = t.access_grants
    granted = (await conn.execute(select(G.c.device_ids).where(
        G.c.workspace_id == workspace_id, G.c.user_identity_id.in_(user_identity_ids))
        .order_by(G.c.created_at, G.c.access_grant_id))).scalars()
    through_grants = [d for ids in granted for d in ids]
    if through_grants:
        existing = set((await conn.execute(select(t.devices.c.device_id).where(
            t.devices.c.workspace_id == workspace_id,
            t.devices.c.device_id.in_(through_grants)))).scalars())
        found += [d for d in dict.fromkeys(through_grants) if d in existing]
    return list(dict.fromkeys(found))


async def existing_ids(conn: AsyncConnection, workspace_id: str, ids: list[str]) -> None:
    """Raise `user_identity_not_found` for the first id that is not this workspace's."""
    if not ids:
        return
    found = set((await conn.execute(select(U.c.user_identity_id).where(
        U.c.workspace_id == workspace_id, U.c.user_identity_id.in_(ids)))).scalars())
    for user_identity_id in ids:
        if user_identity_id not in found:
            raise NotFound("user_identity", {"user_identity_id": user_identity_id})
