"""Spaces: groups of devices (a unit, a building) that access can later be given to as a whole.

A space holds devices directly (`space_devices`) and connected accounts
(`space_connected_accounts`): every device of an account in the space is in the space, including
devices the account gains later. Membership rows go with their device, account or space (ON
DELETE CASCADE), so deleting any of them leaves the spaces consistent. Every id a request names
is checked before anything is written, in the one write transaction that also records the
`space.*` events. lockhub has no access-control systems: a space holds no entrances.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.domain.objects import ConnectedAccount, Space
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.services import events
from lockhub.services.connected_accounts import to_connected_account
from lockhub.services.runtime import Runtime
from lockhub.store import tables as t
from lockhub.store.keyset import keyset_page

S = t.spaces
SD = t.space_devices
SA = t.space_connected_accounts
D = t.devices


@dataclass
class SpaceFilters:
    customer_key: str | None = None
    search: str | None = None
    connected_account_id: str | None = None
    space_key: str | None = None
    parent_space_id: str | None = None
    parent_space_key: str | None = None


@dataclass
class Related:
    """What /spaces/get_related serves: the spaces, their devices and connected accounts."""

    spaces: list[Space]
    device_ids: list[str]
    connected_accounts: list[ConnectedAccount]


# --------------------------------------------------------------------------- reading


async def get_row(conn: AsyncConnection, workspace_id: str, *, space_id: str | None = None,
                  space_key: str | None = None) -> Any:
    """The space with this id (or key) in the workspace; another workspace's is not found."""
    query = select(S).where(S.c.workspace_id == workspace_id)
    if space_id is not None:
        query = query.where(S.c.space_id == space_id)
    if space_key is not None:
        query = query.where(S.c.space_key == space_key)
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound("space", {"space_id": space_id} if space_id is not None
                       else {"space_key": space_key})
    return row


async def _device_counts(conn: AsyncConnection, space_ids: list[str]) -> dict[str, int]:
    """Devices in each space, each counted once whether it is there directly, through its
    account, or both."""
    if not space_ids:
        return {}
    members = union(
        select(SD.c.space_id, SD.c.device_id).where(SD.c.space_id.in_(space_ids)),
        select(SA.c.space_id, D.c.device_id)
        .join(D, D.c.connected_account_id == SA.c.connected_account_id)
        .where(SA.c.space_id.in_(space_ids)),
    ).subquery()
    rows = (await conn.execute(select(members.c.space_id, func.count())
                               .group_by(members.c.space_id))).all()
    return {space_id: count for space_id, count in rows}


async def served(conn: AsyncConnection, rows: list[Any]) -> list[Space]:
    """Spaces as served (device counts and parent keys read in two queries)."""
    counts = await _device_counts(conn, [r.space_id for r in rows])
    parent_ids = {r.parent_space_id for r in rows if r.parent_space_id is not None}
    parent_keys: dict[str, str | None] = {}
    if parent_ids:
        parent_keys = dict((await conn.execute(select(S.c.space_id, S.c.space_key).where(
            S.c.space_id.in_(parent_ids)))).all())
    return [to_space(r, counts.get(r.space_id, 0), parent_keys.get(r.parent_space_id or ""))
            for r in rows]


def to_space(row: Any, device_count: int, parent_space_key: str | None) -> Space:
    space = Space(space_id=row.space_id, workspace_id=row.workspace_id, name=row.name,
                  display_name=row.name, created_at=iso(row.created_at),
                  device_count=device_count, acs_entrance_count=0,
                  customer_data=dict(row.customer_data), geolocation=None)
    if row.space_key is not None:
        space.space_key = row.space_key
    if row.customer_key is not None:
        space.customer_key = row.customer_key
    if row.parent_space_id is not None:
        space.parent_space_id = row.parent_space_id
        if parent_space_key is not None:
            space.parent_space_key = parent_space_key
    return space


async def _served_one(conn: AsyncConnection, workspace_id: str, space_id: str) -> Space:
    return (await served(conn, [await get_row(conn, workspace_id, space_id=space_id)]))[0]


async def get(rt: Runtime, workspace_id: str, *, space_id: str | None,
              space_key: str | None) -> Space:
    async with rt.db.read() as conn:
        row = await get_row(conn, workspace_id, space_id=space_id, space_key=space_key)
        return (await served(conn, [row]))[0]


async def list_page(rt: Runtime, workspace_id: str, filters: SpaceFilters, *,
                    after: tuple[datetime, str] | None,
                    limit: int) -> tuple[list[Space], tuple[str, str] | None]:
    cond: list[Any] = [S.c.workspace_id == workspace_id]
    if filters.customer_key is not None:
        cond.append(S.c.customer_key == filters.customer_key)
    if filters.space_key is not None:
        cond.append(S.c.space_key == filters.space_key)
    if filters.parent_space_id is not None:
        cond.append(S.c.parent_space_id == filters.parent_space_id)
    if filters.parent_space_key is not None:
        parent = S.alias("parent")
        cond.append(S.c.parent_space_id.in_(select(parent.c.space_id).where(
            parent.c.workspace_id == workspace_id,
            parent.c.space_key == filters.parent_space_key)))
    if filters.connected_account_id is not None:
        account = filters.connected_account_id
        cond.append(or_(
            S.c.space_id.in_(select(SA.c.space_id).where(SA.c.connected_account_id == account)),
            S.c.space_id.in_(select(SD.c.space_id).join(D, D.c.device_id == SD.c.device_id)
                             .where(D.c.connected_account_id == account))))
    if filters.search:
        # Literal text (no wildcards), case-insensitive.
        needle = filters.search.lower()
        cond.append(or_(*(func.lower(S.c[name]).contains(needle, autoescape=True)
                          for name in ("name", "space_key", "customer_key"))))
    async with rt.db.read() as conn:
        rows, next_after = await keyset_page(conn, select(S).where(*cond), S.c.created_at,
                                             S.c.space_id, after=after, limit=limit)
        return await served(conn, rows), next_after


async def _device_ids(conn: AsyncConnection, workspace_id: str,
                      space_ids: list[str]) -> list[str]:
    if not space_ids:
        return []
    rows = (await conn.execute(select(D.c.device_id).where(
        D.c.workspace_id == workspace_id,
        or_(D.c.device_id.in_(select(SD.c.device_id).where(SD.c.space_id.in_(space_ids))),
            D.c.connected_account_id.in_(select(SA.c.connected_account_id).where(
                SA.c.space_id.in_(space_ids)))),
    ).order_by(D.c.created_at, D.c.device_id))).all()
    return [r.device_id for r in rows]


async def device_ids_of_spaces(conn: AsyncConnection, workspace_id: str,
                               space_ids: list[str]) -> list[str]:
    """The devices in any of these spaces, oldest first, each once: those added directly and
    every device of the connected accounts added (managed and unmanaged alike). Raises
    `space_not_found` for the first id that is not a space of this workspace."""
    unique = list(dict.fromkeys(space_ids))
    if not unique:
        return []
    found = set((await conn.execute(select(S.c.space_id).where(
        S.c.workspace_id == workspace_id, S.c.space_id.in_(unique)))).scalars())
    for space_id in unique:
        if space_id not in found:
            raise NotFound("space", {"space_id": space_id})
    return await _device_ids(conn, workspace_id, unique)


async def devices_in_space(rt: Runtime, workspace_id: str, space_id: str) -> list[str]:
    """The devices of one space, for a list filter: none for a space this workspace does not
    have (the filter then matches nothing)."""
    async with rt.db.read() as conn:
        return await _device_ids(conn, workspace_id, [space_id])


async def related(rt: Runtime, workspace_id: str, *, space_ids: list[str],
                  space_keys: list[str]) -> Related:
    """The spaces named by id or key (each must exist), their devices, and the connected
    accounts added to them or owning one of their devices."""
    async with rt.db.read() as conn:
        rows: dict[str, Any] = {}
        for space_id in space_ids:
            row = await get_row(conn, workspace_id, space_id=space_id)
            rows.setdefault(row.space_id, row)
        for space_key in space_keys:
            row = await get_row(conn, workspace_id, space_key=space_key)
            rows.setdefault(row.space_id, row)
        ordered = sorted(rows.values(), key=lambda r: (r.created_at, r.space_id))
        device_ids = await _device_ids(conn, workspace_id, list(rows))
        C = t.connected_accounts
        accounts = (await conn.execute(select(C).where(
            C.c.workspace_id == workspace_id,
            or_(C.c.connected_account_id.in_(select(SA.c.connected_account_id).where(
                SA.c.space_id.in_(list(rows)))),
                C.c.connected_account_id.in_(select(D.c.connected_account_id).where(
                    D.c.device_id.in_(device_ids)))),
        ).order_by(C.c.created_at, C.c.connected_account_id))).all()
        return Related(spaces=await served(conn, ordered), device_ids=device_ids,
                       connected_accounts=[to_connected_account(r, rt.settings.base_url)
                                           for r in accounts])


# --------------------------------------------------------------------------- checks


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_customer_data(data: dict[str, str | None]) -> None:
    zone = data.get("time_zone")
    # Without a time zone database on the host every name is taken as given.
    if zone is not None and _time_zones() and zone not in _time_zones():
        raise InvalidInput.for_field(["customer_data", "time_zone"],
                                     "Invalid IANA time zone, e.g. America/Los_Angeles")


async def _check_devices(conn: AsyncConnection, workspace_id: str, device_ids: list[str]) -> None:
    """`device_not_found` for the first id that is not a device of this workspace."""
    if not device_ids:
        return
    found = set((await conn.execute(select(D.c.device_id).where(
        D.c.workspace_id == workspace_id, D.c.device_id.in_(device_ids)))).scalars())
    for device_id in device_ids:
        if device_id not in found:
            raise NotFound("device", {"device_id": device_id})


async def _check_accounts(conn: AsyncConnection, workspace_id: str,
                          account_ids: list[str]) -> None:
    if not account_ids:
        return
    C = t.connected_accounts
    found = set((await conn.execute(select(C.c.connected_account_id).where(
        C.c.workspace_id == workspace_id, C.c.connected_account_id.in_(account_ids)))).scalars())
    for account_id in account_ids:
        if account_id not in found:
            raise NotFound("connected_account", {"connected_account_id": account_id})


def check_acs_entrances(acs_entrance_ids: list[str]) -> None:
    """lockhub has no access-control systems: any entrance id is one that does not exist."""
    if acs_entrance_ids:
        raise NotFound("acs_entrance", {"acs_entrance_id": acs_entrance_ids[0]})


def _key_in_use() -> LockhubError:
    return LockhubError("Another space in this workspace has this space_key",
                        error_type="space_key_already_in_use")


async def _check_key_free(conn: AsyncConnection, workspace_id: str, space_key: str | None) -> None:
    if space_key is None:
        return
    taken = (await conn.execute(select(S.c.space_id).where(
        S.c.workspace_id == workspace_id, S.c.space_key == space_key))).first()
    if taken is not None:
        raise _key_in_use()


# --------------------------------------------------------------------------- writing


async def _add_members(conn: AsyncConnection, table: Any, column: str, now: datetime,
                      workspace_id: str, space_id: str, ids: list[str]) -> None:
    """Add devices (space_devices) or connected accounts (space_connected_accounts) to the
    space; those already in it stay as they are."""
    present = set((await conn.execute(select(table.c[column]).where(
        table.c.space_id == space_id))).scalars())
    new = [i for i in dict.fromkeys(ids) if i not in present]
    if new:
        await conn.execute(table.insert(), [{"space_id": space_id, column: member,
                                             "workspace_id": workspace_id, "created_at": now}
                                            for member in new])


async def _add_devices(conn: AsyncConnection, now: datetime, workspace_id: str, space_id: str,
                       device_ids: list[str]) -> None:
    await _add_members(conn, SD, "device_id", now, workspace_id, space_id, device_ids)


async def _add_accounts(conn: AsyncConnection, now: datetime, workspace_id: str, space_id: str,
                        account_ids: list[str]) -> None:
    await _add_members(conn, SA, "connected_account_id", now, workspace_id, space_id,
                       account_ids)


async def _record(conn: AsyncConnection, now: datetime, row: Any, event_type: str,
                  device_ids: list[str]) -> None:
    await events.record(conn, now=now, workspace_id=row.workspace_id, event_type=event_type,
                        space_id=row.space_id, space_key=row.space_key, device_ids=device_ids,
                        acs_entrance_ids=[])


async def _membership_changed(conn: AsyncConnection, now: datetime, row: Any,
                              before: list[str]) -> None:
    """Record `space.device_membership_changed` if the space's devices are no longer `before`."""
    after = await _device_ids(conn, row.workspace_id, [row.space_id])
    if set(after) != set(before):
        await _record(conn, now, row, "space.device_membership_changed", after)


async def create(rt: Runtime, workspace_id: str, *, name: str, space_key: str | None,
                 customer_key: str | None, customer_data: dict[str, str | None],
                 device_ids: list[str], connected_account_ids: list[str]) -> Space:
    _check_customer_data(customer_data)
    now = rt.clock.now()
    space_id = new_id()
    try:
        async with rt.db.write() as conn:
            await _check_devices(conn, workspace_id, device_ids)
            await _check_accounts(conn, workspace_id, connected_account_ids)
            await _check_key_free(conn, workspace_id, space_key)
            await conn.execute(S.insert().values(
                space_id=space_id, workspace_id=workspace_id, name=name, space_key=space_key,
                customer_key=customer_key, parent_space_id=None,
                customer_data={k: v for k, v in customer_data.items() if v is not None},
                created_at=now))
            await _add_devices(conn, now, workspace_id, space_id, device_ids)
            await _add_accounts(conn, now, workspace_id, space_id, connected_account_ids)
            row = await get_row(conn, workspace_id, space_id=space_id)
            await _record(conn, now, row, "space.created",
                          await _device_ids(conn, workspace_id, [space_id]))
            return (await served(conn, [row]))[0]
    except IntegrityError as exc:
        if space_key is None:
            raise
        # A concurrent create took the key between the check and the insert.
        raise _key_in_use() from exc


async def _check_parent(conn: AsyncConnection, workspace_id: str, row: Any, *,
                        parent_space_id: str | None, parent_space_key: str | None) -> str:
    """The new parent's id: a space of this workspace that is neither the space itself nor
    one of the spaces under it."""
    parent = await get_row(conn, workspace_id, space_id=parent_space_id,
                           space_key=parent_space_key)
    ancestor: str | None = parent.space_id
    seen: set[str] = set()
    while ancestor is not None and ancestor not in seen:
        if ancestor == row.space_id:
            raise InvalidInput.for_field(
                ["parent_space_id" if parent_space_id is not None else "parent_space_key"],
                "A space cannot be its own parent or the parent of a space above it")
        seen.add(ancestor)
        ancestor = (await conn.execute(select(S.c.parent_space_id).where(
            S.c.space_id == ancestor))).scalar_one_or_none()
    return str(parent.space_id)


async def update(rt: Runtime, workspace_id: str, *, space_id: str | None, space_key: str | None,
                 name: str | None, customer_data: dict[str, str | None] | None,
                 device_ids: list[str] | None, parent_space_id: str | None,
                 parent_space_key: str | None) -> Space:
    """Change the name, customer data (the keys given; null clears one) or parent; `device_ids`
    replaces the devices added directly (devices of added accounts stay)."""
    if customer_data is not None:
        _check_customer_data(customer_data)
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, space_id=space_id, space_key=space_key)
        values: dict[str, Any] = {}
        if device_ids is not None:
            await _check_devices(conn, workspace_id, device_ids)
        if parent_space_id is not None or parent_space_key is not None:
            values["parent_space_id"] = await _check_parent(
                conn, workspace_id, row, parent_space_id=parent_space_id,
                parent_space_key=parent_space_key)
        if name is not None:
            values["name"] = name
        if customer_data is not None:
            merged = dict(row.customer_data)
            for key, value in customer_data.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            values["customer_data"] = merged
        if values:
            await conn.execute(S.update().where(S.c.space_id == row.space_id).values(**values))
        if device_ids is not None:
            before = await _device_ids(conn, workspace_id, [row.space_id])
            await conn.execute(SD.delete().where(SD.c.space_id == row.space_id,
                                                 SD.c.device_id.not_in(device_ids)))
            await _add_devices(conn, now, workspace_id, row.space_id, device_ids)
            await _membership_changed(conn, now, row, before)
        return await _served_one(conn, workspace_id, row.space_id)


async def delete(rt: Runtime, workspace_id: str, space_id: str) -> None:
    """Delete the space (its memberships go with it; spaces under it lose their parent)."""
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, space_id=space_id)
        device_ids = await _device_ids(conn, workspace_id, [space_id])
        await conn.execute(S.delete().where(S.c.space_id == space_id))
        await _record(conn, rt.clock.now(), row, "space.deleted", device_ids)


async def add_devices(rt: Runtime, workspace_id: str, space_id: str,
                      device_ids: list[str]) -> None:
    """Idempotent: devices already in the space stay as they are."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, space_id=space_id)
        await _check_devices(conn, workspace_id, device_ids)
        before = await _device_ids(conn, workspace_id, [space_id])
        await _add_devices(conn, now, workspace_id, space_id, device_ids)
        await _membership_changed(conn, now, row, before)


async def remove_devices(rt: Runtime, workspace_id: str, space_id: str,
                         device_ids: list[str]) -> None:
    """Take devices added directly out of the space; a device of an account in the space stays
    in it for as long as its account does."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, space_id=space_id)
        await _check_devices(conn, workspace_id, device_ids)
        before = await _device_ids(conn, workspace_id, [space_id])
        if device_ids:
            await conn.execute(SD.delete().where(SD.c.space_id == space_id,
                                                 SD.c.device_id.in_(device_ids)))
        await _membership_changed(conn, now, row, before)


async def add_connected_account(rt: Runtime, workspace_id: str, space_id: str,
                                connected_account_id: str) -> None:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, space_id=space_id)
        await _check_accounts(conn, workspace_id, [connected_account_id])
        before = await _device_ids(conn, workspace_id, [space_id])
        await _add_accounts(conn, now, workspace_id, space_id, [connected_account_id])
        await _membership_changed(conn, now, row, before)


async def remove_connected_account(rt: Runtime, workspace_id: str, space_id: str,
                                   connected_account_id: str) -> None:
    """The account's devices leave the space, except those also added directly."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, space_id=space_id)
        await _check_accounts(conn, workspace_id, [connected_account_id])
        before = await _device_ids(conn, workspace_id, [space_id])
        await conn.execute(SA.delete().where(SA.c.space_id == space_id,
                                             SA.c.connected_account_id == connected_account_id))
        await _membership_changed(conn, now, row, before)


async def check_space(rt: Runtime, workspace_id: str, space_id: str) -> None:
    """`space_not_found` unless the space is this workspace's."""
    async with rt.db.read() as conn:
        await get_row(conn, workspace_id, space_id=space_id)
