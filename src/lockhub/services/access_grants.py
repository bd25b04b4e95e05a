"""Access grants and access methods: a person's access to devices (named directly or through
spaces) for a time window, carried out by access methods.

For locks, a `code` access method is one PIN held by managed access codes, one per lock of the
grant, created in the grant's transaction with the grant's window and name. The PIN is shared
where the locks allow it (a lock that cannot take it gets a PIN of its own, with a
`requested_code_unavailable` warning); a lock that cannot hold PINs is left out with a
`device_does_not_support_access_codes` warning. From then on each code follows the access-code
lifecycle (scheduled, set, removed at the end of the window); the method is issued once every
code of it is on its lock (`access_method.issued`, recorded by the engine). Changing the
grant's window or name changes its codes; deleting a method or the grant deletes them.

lockhub's locks take PINs only: `card`, `mobile_key` and `cloud_key` methods cannot be made,
which the grant shows as a `cannot_create_requested_access_methods` error and event. Devices
added to a space after the grant was made are not added to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.domain.objects import AccessGrant, AccessMethod, RequestedAccessMethod
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.services import access_codes, events, spaces, user_identities
from lockhub.services.access_codes import CodeChanges, CodeRequest
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import WorkspaceClock, workspace_clock
from lockhub.store import tables as t
from lockhub.store.keyset import keyset_page

G, M, C = t.access_grants, t.access_methods, t.access_codes
LOCK_MODES = frozenset({"code"})


class GrantRequest(msgspec.Struct, kw_only=True):
    user_identity_id: str | None = None
    user_identity: dict[str, Any] | None = None  # a new identity's fields
    device_ids: list[str] = []
    space_ids: list[str] = []
    space_keys: list[str] = []
    requested_access_methods: list[dict[str, Any]] = []
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    name: str | None = None
    access_grant_key: str | None = None
    reservation_key: str | None = None


# --- serving -------------------------------------------------------------------------------


def _display_name(grant: Any) -> str:
    return grant.name or f"Access grant {grant.access_grant_id[:8]}"


def _grant_status(grant: Any, now: datetime) -> str:
    if grant.ends_at is not None and grant.ends_at <= now:
        return "Ended"
    if grant.starts_at is not None and grant.starts_at > now:
        return "Upcoming"
    return "Active"


async def _methods_of(conn: AsyncConnection, grant_ids: list[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {g: [] for g in grant_ids}
    if grant_ids:
        for row in (await conn.execute(select(M).where(M.c.access_grant_id.in_(grant_ids))
                                       .order_by(M.c.created_at, M.c.access_method_id))).all():
            found[row.access_grant_id].append(row)
    return found


async def _served_grants(conn: AsyncConnection, rows: list[Any],
                         now: datetime) -> list[AccessGrant]:
    methods = await _methods_of(conn, [r.access_grant_id for r in rows])
    served = []
    for row in rows:
        grant = AccessGrant(
            workspace_id=row.workspace_id, access_grant_id=row.access_grant_id,
            user_identity_id=row.user_identity_id, location_ids=list(row.space_ids),
            space_ids=list(row.space_ids),
            requested_access_methods=[msgspec.convert(r, RequestedAccessMethod)
                                      for r in row.requested_access_methods],
            access_method_ids=[m.access_method_id for m in methods[row.access_grant_id]],
            name=row.name, display_name=_display_name(row), created_at=iso(row.created_at),
            starts_at=iso(row.starts_at) if row.starts_at else None,
            ends_at=iso(row.ends_at) if row.ends_at else None,
            display_status=_grant_status(row, now), warnings=list(row.warnings),
            errors=list(row.errors), pending_mutations=[])
        if row.access_grant_key is not None:
            grant.access_grant_key = row.access_grant_key
        if row.reservation_key is not None:
            grant.reservation_key = row.reservation_key
        served.append(grant)
    return served


async def _served_methods(conn: AsyncConnection, rows: list[Any]) -> list[AccessMethod]:
    codes: dict[str, list[Any]] = {r.access_method_id: [] for r in rows}
    if rows:
        for code in (await conn.execute(select(C.c.access_method_id, C.c.status, C.c.errors,
                                               C.c.deleting).where(
                C.c.access_method_id.in_(list(codes))))).all():
            codes[code.access_method_id].append(code)
    served = []
    for row in rows:
        mine = codes[row.access_method_id]
        issued = bool(mine) and all(c.status == "set" for c in mine)
        errors = [{"error_code": "failed_to_issue", "created_at": iso(row.created_at),
                   "message": (c.errors[0].get("message") or "The code could not be set.")}
                  for c in mine if c.errors][:1]
        method = AccessMethod(
            workspace_id=row.workspace_id, access_method_id=row.access_method_id,
            display_name=_method_name(row.mode), mode=row.mode, created_at=iso(row.created_at),
            issued_at=iso(row.issued_at) if issued and row.issued_at else None,
            is_issued=issued,
            display_status="Issued" if issued else ("Failed to issue" if errors
                                                    else "Awaiting issuing"),
            warnings=[], errors=errors, pending_mutations=[])
        if row.code is not None:
            method.code = row.code
        served.append(method)
    return served


def _method_name(mode: str) -> str:
    return {"code": "PIN code", "card": "Card", "mobile_key": "Mobile key",
            "cloud_key": "Cloud key"}.get(mode, mode)


# --- reading -------------------------------------------------------------------------------


async def grant_row(conn: AsyncConnection, workspace_id: str, *,
                    access_grant_id: str | None = None,
                    access_grant_key: str | None = None) -> Any:
    query = select(G).where(G.c.workspace_id == workspace_id)
    if access_grant_id is not None:
        query = query.where(G.c.access_grant_id == access_grant_id)
    else:
        query = query.where(G.c.access_grant_key == access_grant_key)
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound("access_grant", {"access_grant_id": access_grant_id}
                       if access_grant_id is not None else {"access_grant_key": access_grant_key})
    return row


async def get(rt: Runtime, workspace_id: str, **by: str | None) -> AccessGrant:
    async with rt.db.read() as conn:
        row = await grant_row(conn, workspace_id, **by)
        return (await _served_grants(conn, [row], rt.clock.now()))[0]


class GrantFilters(msgspec.Struct, kw_only=True):
    access_grant_ids: list[str] | None = None
    access_grant_key: str | None = None
    user_identity_id: str | None = None
    device_id: str | None = None
    space_id: str | None = None
    reservation_key: str | None = None
    access_code_id: str | None = None


async def list_grants(rt: Runtime, workspace_id: str, filters: GrantFilters, *,
                      after: tuple[datetime, str] | None, limit: int,
                      ) -> tuple[list[AccessGrant], tuple[str, str] | None]:
    cond: list[Any] = [G.c.workspace_id == workspace_id]
    for name in ("access_grant_key", "user_identity_id", "reservation_key"):
        value = getattr(filters, name)
        if value is not None:
            cond.append(G.c[name] == value)
    if filters.access_grant_ids is not None:
        cond.append(G.c.access_grant_id.in_(filters.access_grant_ids))
    if filters.access_code_id is not None:
        cond.append(G.c.access_grant_id.in_(select(C.c.access_grant_id).where(
            C.c.access_code_id == filters.access_code_id)))
    async with rt.db.read() as conn:
        rows, next_after = await keyset_page(conn, select(G).where(*cond), G.c.created_at,
                                             G.c.access_grant_id, after=after, limit=limit)
        # Device and space membership are JSON lists: filtered here, within the page.
        rows = [r for r in rows
                if (filters.device_id is None or filters.device_id in r.device_ids)
                and (filters.space_id is None or filters.space_id in r.space_ids)]
        return await _served_grants(conn, rows, rt.clock.now()), next_after


async def method_row(conn: AsyncConnection, workspace_id: str, access_method_id: str) -> Any:
    row = (await conn.execute(select(M).where(M.c.workspace_id == workspace_id,
                                              M.c.access_method_id == access_method_id))).first()
    if row is None:
        raise NotFound("access_method", {"access_method_id": access_method_id})
    return row


async def get_method(rt: Runtime, workspace_id: str, access_method_id: str) -> AccessMethod:
    async with rt.db.read() as conn:
        return (await _served_methods(conn, [await method_row(conn, workspace_id,
                                                              access_method_id)]))[0]


class MethodFilters(msgspec.Struct, kw_only=True):
    access_grant_id: str | None = None
    access_grant_key: str | None = None
    device_id: str | None = None
    access_code_id: str | None = None
    space_id: str | None = None


async def list_methods(rt: Runtime, workspace_id: str, filters: MethodFilters, *,
                       after: tuple[datetime, str] | None, limit: int,
                       ) -> tuple[list[AccessMethod], tuple[str, str] | None]:
    cond: list[Any] = [M.c.workspace_id == workspace_id]
    if filters.access_grant_id is not None:
        cond.append(M.c.access_grant_id == filters.access_grant_id)
    if filters.access_grant_key is not None:
        cond.append(M.c.access_grant_id.in_(select(G.c.access_grant_id).where(
            G.c.workspace_id == workspace_id, G.c.access_grant_key == filters.access_grant_key)))
    if filters.device_id is not None:
        cond.append(M.c.access_method_id.in_(select(C.c.access_method_id).where(
            C.c.device_id == filters.device_id)))
    if filters.access_code_id is not None:
        cond.append(M.c.access_method_id.in_(select(C.c.access_method_id).where(
            C.c.access_code_id == filters.access_code_id)))
    async with rt.db.read() as conn:
        if filters.space_id is not None:
            grants = [r.access_grant_id for r in (await conn.execute(select(
                G.c.access_grant_id, G.c.space_ids).where(G.c.workspace_id == workspace_id)))
                if filters.space_id in r.space_ids]
            cond.append(M.c.access_grant_id.in_(grants))
        rows, next_after = await keyset_page(conn, select(M).where(*cond), M.c.created_at,
                                             M.c.access_method_id, after=after, limit=limit)
        return await _served_methods(conn, rows), next_after


async def grants_of_methods(rt: Runtime, workspace_id: str,
                            access_method_ids: list[str]) -> list[str]:
    async with rt.db.read() as conn:
        return list(dict.fromkeys((await conn.execute(select(M.c.access_grant_id).where(
            M.c.workspace_id == workspace_id,
            M.c.access_method_id.in_(access_method_ids)))).scalars()))


async def code_ids(rt: Runtime, workspace_id: str, *, access_grant_id: str | None,
                   access_grant_key: str | None, access_method_id: str | None) -> list[str]:
    """The access codes made by a grant or one of its methods (every filter given applies)."""
    cond: list[Any] = [C.c.workspace_id == workspace_id]
    if access_grant_id is not None:
        cond.append(C.c.access_grant_id == access_grant_id)
    if access_method_id is not None:
        cond.append(C.c.access_method_id == access_method_id)
    if access_grant_key is not None:
        cond.append(C.c.access_grant_id.in_(select(G.c.access_grant_id).where(
            G.c.workspace_id == workspace_id, G.c.access_grant_key == access_grant_key)))
    async with rt.db.read() as conn:
        return list((await conn.execute(select(C.c.access_code_id).where(*cond))).scalars())


async def methods_of_spaces(rt: Runtime, workspace_id: str,
                            space_ids: list[str]) -> list[AccessMethod]:
    """The access methods of the grants made for any of these spaces, oldest first."""
    wanted = set(space_ids)
    async with rt.db.read() as conn:
        grants = [r.access_grant_id for r in (await conn.execute(select(
            G.c.access_grant_id, G.c.space_ids).where(G.c.workspace_id == workspace_id)))
            if wanted & set(r.space_ids)]
        rows = (await conn.execute(select(M).where(M.c.access_grant_id.in_(grants)).order_by(
            M.c.created_at, M.c.access_method_id))).all() if grants else []
        return await _served_methods(conn, list(rows))


class Related(msgspec.Struct):
    access_grants: list[AccessGrant]
    access_methods: list[AccessMethod]
    user_identities: list[Any]
    spaces: list[Any]
    device_ids: list[str]


async def related(rt: Runtime, workspace_id: str, *, access_grant_ids: list[str],
                  access_grant_keys: list[str]) -> Related:
    async with rt.db.read() as conn:
        rows = [await grant_row(conn, workspace_id, access_grant_id=i) for i in access_grant_ids]
        rows += [await grant_row(conn, workspace_id, access_grant_key=k)
                 for k in access_grant_keys]
        rows = list({r.access_grant_id: r for r in rows}.values())
        methods = [m for ms in (await _methods_of(
            conn, [r.access_grant_id for r in rows])).values() for m in ms]
        identities = [user_identities.to_user_identity(await user_identities.get_row(
            conn, workspace_id, user_identity_id=i))
            for i in dict.fromkeys(r.user_identity_id for r in rows)]
        space_rows = [await spaces.get_row(conn, workspace_id, space_id=s)
                      for s in dict.fromkeys(s for r in rows for s in r.space_ids)]
        served_spaces = await spaces.served(conn, space_rows)
        return Related(access_grants=await _served_grants(conn, rows, rt.clock.now()),
                       access_methods=await _served_methods(conn, methods),
                       user_identities=identities, spaces=served_spaces,
                       device_ids=list(dict.fromkeys(d for r in rows for d in r.device_ids)))


# --- creating ------------------------------------------------------------------------------


def _check_window(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> None:
    if ends_at is not None and ends_at <= now:
        raise InvalidInput.for_field(["ends_at"], "ends_at must be in the future")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise InvalidInput.for_field(["ends_at"], "ends_at must be after starts_at")


async def _devices_of(conn: AsyncConnection, workspace_id: str,
                      request: GrantRequest) -> tuple[list[str], list[str]]:
    """(space ids, every device of the grant): the devices named and those of the spaces."""
    space_ids = list(request.space_ids)
    for key in request.space_keys:
        space_ids.append((await spaces.get_row(conn, workspace_id, space_key=key)).space_id)
    space_ids = list(dict.fromkeys(space_ids))
    D = t.devices
    for device_id in request.device_ids:
        found = (await conn.execute(select(D.c.device_id).where(
            D.c.workspace_id == workspace_id, D.c.device_id == device_id,
            D.c.is_managed.is_(True)))).first()
        if found is None:
            raise NotFound("device", {"device_id": device_id})
    # A space may hold unmanaged devices (through its accounts): a grant reaches managed ones.
    in_spaces = await spaces.device_ids_of_spaces(conn, workspace_id, space_ids)
    managed = set((await conn.execute(select(D.c.device_id).where(
        D.c.device_id.in_(in_spaces), D.c.is_managed.is_(True)))).scalars()) if in_spaces \
        else set()
    devices = list(dict.fromkeys([*request.device_ids,
                                  *(d for d in in_spaces if d in managed)]))
    return space_ids, devices


def _key_in_use() -> LockhubError:
    return LockhubError("Another access grant in this workspace has this access_grant_key",
                        error_type="access_grant_key_already_in_use")


async def create(rt: Runtime, workspace_id: str, request: GrantRequest) -> AccessGrant:
    try:
        async with rt.db.write() as conn:
            clock = await workspace_clock(conn, workspace_id, rt.clock.now())
            _check_window(request.starts_at, request.ends_at, clock.now)
            if request.user_identity is not None:
                identity = await user_identities.insert(
                    conn, now=clock.real_now, workspace_id=workspace_id,
                    fields=request.user_identity)
            else:
                identity = await user_identities.get_row(
                    conn, workspace_id, user_identity_id=request.user_identity_id)
            if request.access_grant_key is not None and (await conn.execute(
                    select(G.c.access_grant_id).where(
                        G.c.workspace_id == workspace_id,
                        G.c.access_grant_key == request.access_grant_key))).first():
                raise _key_in_use()
            space_ids, device_ids = await _devices_of(conn, workspace_id, request)
            if not device_ids and not space_ids:
                raise InvalidInput.for_field(["device_ids"], "An access grant needs devices or "
                                                             "spaces")
            grant_id = new_id()
            await conn.execute(G.insert().values(
                access_grant_id=grant_id, workspace_id=workspace_id,
                user_identity_id=identity.user_identity_id,
                access_grant_key=request.access_grant_key,
                reservation_key=request.reservation_key, name=request.name,
                space_ids=space_ids, device_ids=device_ids, requested_access_methods=[],
                starts_at=request.starts_at, ends_at=request.ends_at, warnings=[], errors=[],
                created_at=clock.real_now))
            await events.record(conn, now=clock.real_now, workspace_id=workspace_id,
                                event_type="access_grant.created", access_grant_id=grant_id)
            await _add_methods(conn, clock, grant_id, request.requested_access_methods)
            row = await grant_row(conn, workspace_id, access_grant_id=grant_id)
            served = (await _served_grants(conn, [row], clock.now))[0]
    except IntegrityError as exc:  # the key was taken between our check and our insert
        raise _key_in_use() from exc
    rt.wake_engine()
    return served


async def request_access_methods(rt: Runtime, workspace_id: str, access_grant_id: str,
                                 requested: list[dict[str, Any]]) -> AccessGrant:
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        await grant_row(conn, workspace_id, access_grant_id=access_grant_id)
        await _add_methods(conn, clock, access_grant_id, requested)
        row = await grant_row(conn, workspace_id, access_grant_id=access_grant_id)
        served = (await _served_grants(conn, [row], clock.now))[0]
    rt.wake_engine()
    return served


async def _add_methods(conn: AsyncConnection, clock: WorkspaceClock, access_grant_id: str,
                       requested: list[dict[str, Any]]) -> None:
    grant = (await conn.execute(select(G).where(G.c.access_grant_id == access_grant_id))).one()
    entries = list(grant.requested_access_methods)
    warnings, errors = list(grant.warnings), list(grant.errors)
    for ask in requested:
        entry: dict[str, Any] = {"display_name": _method_name(ask["mode"]), "mode": ask["mode"],
                                 "created_at": iso(clock.real_now),
                                 "created_access_method_ids": []}
        if ask.get("code") is not None:
            entry["code"] = ask["code"]
        if ask["mode"] in LOCK_MODES:
            method_id, notes = await _code_method(conn, clock, grant, ask.get("code"))
            entry["created_access_method_ids"].append(method_id)
            warnings += notes
        else:
            message = (f"lockhub's locks take PINs only: a {ask['mode']} access method cannot "
                       f"be made for them.")
            errors.append({"error_code": "cannot_create_requested_access_methods",
                           "created_at": iso(clock.real_now), "message": message,
                           "missing_device_ids": list(grant.device_ids)})
            await events.record(conn, now=clock.real_now, workspace_id=grant.workspace_id,
                                event_type="access_grant.could_not_create_requested_access_methods",
                                access_grant_id=grant.access_grant_id, error_message=message,
                                missing_device_ids=list(grant.device_ids))
        entries.append(entry)
    await conn.execute(update(G).where(G.c.access_grant_id == access_grant_id).values(
        requested_access_methods=entries, warnings=warnings, errors=errors))


async def _code_method(conn: AsyncConnection, clock: WorkspaceClock, grant: Any,
                       code: str | None) -> tuple[str, list[dict[str, Any]]]:
    """A `code` method and its codes on the grant's locks; the grant's warnings about them."""
    workspace_id, now = grant.workspace_id, iso(clock.real_now)
    holders, notes = [], []
    for device_id in grant.device_ids:
        if await access_codes.holds_online_codes(conn, workspace_id, device_id):
            holders.append(device_id)
        else:
            notes.append({"warning_code": "device_does_not_support_access_codes",
                          "created_at": now, "device_id": device_id,
                          "message": "This device cannot hold PIN codes; the code access "
                                     "method leaves it out."})
    method_id = new_id()
    rows = []
    if holders:
        rows = await access_codes.create_linked(
            conn, clock, workspace_id, holders, CodeRequest(
                name=_display_name(grant), code=code, starts_at=grant.starts_at,
                ends_at=grant.ends_at, common_code_key=f"access_method_{method_id}",
                access_method_id=method_id, access_grant_id=grant.access_grant_id),
            behavior="create_random_code", drop_unfit_names=True)
    pin = rows[0].code if rows else code
    notes += [{"warning_code": "requested_code_unavailable", "created_at": now,
               "device_id": r.device_id, "original_code": pin, "new_code": r.code,
               "message": "This lock could not take the method's PIN; it has a PIN of its "
                          "own."} for r in rows if r.code != pin]
    await conn.execute(M.insert().values(
        access_method_id=method_id, workspace_id=workspace_id,
        access_grant_id=grant.access_grant_id, mode="code", code=pin, issued_at=None,
        created_at=clock.real_now))
    await events.record(conn, now=clock.real_now, workspace_id=workspace_id,
                        event_type="access_method.created", access_method_id=method_id,
                        **_grant_refs(grant))
    return method_id, notes


def _grant_refs(grant: Any) -> dict[str, Any]:
    refs: dict[str, Any] = {"access_grant_ids": [grant.access_grant_id]}
    if grant.access_grant_key is not None:
        refs["access_grant_keys"] = [grant.access_grant_key]
    return refs


async def code_set_on_device(conn: AsyncConnection, *, now: datetime, access_method_id: str,
                             access_code_id: str) -> None:
    """One of a method's codes is on its lock: the method is issued when none of its other
    codes is still waiting (called by the engine in the transaction that records it).

    The method's row is locked first: two of its codes set at once on two locks (PostgreSQL
    runs their transactions side by side) would otherwise each see the other still waiting,
    and the method would never be issued. The second waits for the first to commit, then
    sees its code set."""
    method = (await conn.execute(select(M).where(
        M.c.access_method_id == access_method_id).with_for_update())).first()
    if method is None or method.issued_at is not None:
        return
    waiting = (await conn.execute(select(C.c.access_code_id).where(
        C.c.access_method_id == access_method_id, C.c.access_code_id != access_code_id,
        C.c.status != "set").limit(1))).first()
    if waiting is not None:
        return
    await conn.execute(update(M).where(M.c.access_method_id == access_method_id)
                       .values(issued_at=now))
    grant = (await conn.execute(select(G).where(
        G.c.access_grant_id == method.access_grant_id))).one()
    await events.record(conn, now=now, workspace_id=method.workspace_id,
                        event_type="access_method.issued", access_method_id=access_method_id,
                        code=method.code, is_backup_code=False, **_grant_refs(grant))


# --- changing and deleting -----------------------------------------------------------------


async def update_grant(rt: Runtime, workspace_id: str, *, access_grant_id: str | None,
                       access_grant_key: str | None, name: Any, starts_at: Any,
                       ends_at: Any) -> None:
    """Change the grant's name or window (UNSET leaves one alone); its codes follow the
    window."""
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        grant = await grant_row(conn, workspace_id, access_grant_id=access_grant_id,
                                access_grant_key=access_grant_key)
        values: dict[str, Any] = {}
        if name is not msgspec.UNSET:
            values["name"] = name
        if starts_at is not msgspec.UNSET:
            values["starts_at"] = starts_at
        if ends_at is not msgspec.UNSET:
            values["ends_at"] = ends_at
        if not values:
            return
        _check_window(values.get("starts_at", grant.starts_at),
                      values.get("ends_at", grant.ends_at), clock.now)
        await conn.execute(update(G).where(G.c.access_grant_id == grant.access_grant_id)
                           .values(**values))
        changed = (await conn.execute(select(G).where(
            G.c.access_grant_id == grant.access_grant_id))).one()
        # Codes keep the name they were made with (a lock may refuse another).
        changes = CodeChanges(starts_at=values.get("starts_at", msgspec.UNSET),
                              ends_at=values.get("ends_at", msgspec.UNSET))
        if "starts_at" in values or "ends_at" in values:
            for code in (await conn.execute(select(C).where(
                    C.c.access_grant_id == grant.access_grant_id,
                    C.c.deleting.is_(False)))).all():
                await access_codes.apply_update(conn, clock, code, changes)
        if "starts_at" in values or "ends_at" in values:
            await events.record(
                conn, now=clock.real_now, workspace_id=workspace_id,
                event_type="access_grant.access_times_changed",
                access_grant_id=grant.access_grant_id, access_grant_key=grant.access_grant_key,
                starts_at=iso(changed.starts_at) if changed.starts_at else None,
                ends_at=iso(changed.ends_at) if changed.ends_at else None)
    rt.wake_engine()


async def _delete_methods(conn: AsyncConnection, clock: WorkspaceClock, grant: Any,
                          methods: list[Any]) -> None:
    """The methods go now; their codes are removed from the locks, then deleted."""
    for method in methods:
        for code in (await conn.execute(select(C).where(
                C.c.access_method_id == method.access_method_id,
                C.c.deleting.is_(False)))).all():
            await access_codes.mark_deleting(conn, clock, code)
        await conn.execute(delete(M).where(M.c.access_method_id == method.access_method_id))
        await events.record(conn, now=clock.real_now, workspace_id=grant.workspace_id,
                            event_type="access_method.deleted",
                            access_method_id=method.access_method_id, **_grant_refs(grant))


async def _delete_grants(conn: AsyncConnection, clock: WorkspaceClock, grants: list[Any]) -> None:
    methods = await _methods_of(conn, [g.access_grant_id for g in grants])
    for grant in grants:
        await _delete_methods(conn, clock, grant, methods[grant.access_grant_id])
        await conn.execute(delete(G).where(G.c.access_grant_id == grant.access_grant_id))
        await events.record(conn, now=clock.real_now, workspace_id=grant.workspace_id,
                            event_type="access_grant.deleted",
                            access_grant_id=grant.access_grant_id)


async def delete_grant(rt: Runtime, workspace_id: str, access_grant_id: str) -> None:
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        await _delete_grants(conn, clock, [await grant_row(conn, workspace_id,
                                                           access_grant_id=access_grant_id)])
    rt.wake_engine()


async def delete_methods(rt: Runtime, workspace_id: str, *, access_method_id: str | None,
                         access_grant_id: str | None, reservation_key: str | None) -> None:
    """By method, by grant (all its methods) or by reservation key (the methods of its
    grants); the grants stay."""
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        if access_method_id is not None:
            method = await method_row(conn, workspace_id, access_method_id)
            grants = [await grant_row(conn, workspace_id,
                                      access_grant_id=method.access_grant_id)]
            chosen: dict[str, list[Any]] = {method.access_grant_id: [method]}
        else:
            if access_grant_id is not None:
                grants = [await grant_row(conn, workspace_id, access_grant_id=access_grant_id)]
            else:
                grants = (await conn.execute(select(G).where(
                    G.c.workspace_id == workspace_id,
                    G.c.reservation_key == reservation_key))).all()
                if not grants:
                    raise NotFound("access_grant", {"reservation_key": reservation_key})
            chosen = await _methods_of(conn, [g.access_grant_id for g in grants])
        for grant in grants:
            await _delete_methods(conn, clock, grant, chosen.get(grant.access_grant_id, []))
    rt.wake_engine()


async def delete_user_identity(rt: Runtime, workspace_id: str, user_identity_id: str) -> None:
    """A user identity goes with its access grants (their codes leave the locks)."""
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        await user_identities.get_row(conn, workspace_id, user_identity_id=user_identity_id)
        grants = (await conn.execute(select(G).where(
            G.c.workspace_id == workspace_id,
            G.c.user_identity_id == user_identity_id))).all()
        await _delete_grants(conn, clock, list(grants))
        await user_identities.delete_rows(conn, workspace_id, user_identity_id)
    rt.wake_engine()
