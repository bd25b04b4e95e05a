"""Reading and changing devices."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import Select, String, bindparam, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.catalogue import DeviceModel, with_facts
from lockhub.catalogue import brand as catalogue_brand
from lockhub.catalogue import brands as catalogue_brands
from lockhub.domain.devices import build_device, state_change_events
from lockhub.domain.objects import Device, DeviceProvider
from lockhub.domain.thermostats import THRESHOLD_LIMITS, climate_events, thermostat_flags
from lockhub.engine.code_jobs import schedule_sync
from lockhub.errors import NotFound
from lockhub.providers.base import DeviceSnapshot
from lockhub.services import events, noise_sensors
from lockhub.services.custom_metadata import merge_custom_metadata, metadata_has_conditions
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.services.served import Lookup, served_page, served_rows
from lockhub.store.keyset import keyset_page, page_statement, position_columns, run_page
from lockhub.store.tables import access_codes, devices

D = devices
UNSET = msgspec.UNSET


class DeviceFilters(msgspec.Struct, kw_only=True):
    device_ids: list[str] | None = None
    device_types: list[str] | None = None
    manufacturer: str | None = None
    connected_account_ids: list[str] | None = None
    created_before: datetime | None = None
    custom_metadata_has: dict[str, str | bool | None] | None = None
    search: str | None = None
    kind: str | None = None  # lock | thermostat | noise_sensor (/locks/list, /thermostats/list)


def model_of(row: Any) -> DeviceModel:
    """The device's catalogue model, with the PIN lengths the integrator reported, if any."""
    model = with_facts(catalogue_brand(row.brand).models[row.model],
                       (row.state or {}).get("model_facts"))
    if row.reported_code_lengths:
        model = msgspec.structs.replace(model,
                                        supported_code_lengths=list(row.reported_code_lengths))
    return model


def to_device(row: Any, base_url: str) -> Device:
    """The served device of a row; `base_url` is lockhub's public one (images are served
    there)."""
    return build_device(row._mapping, catalogue_brand(row.brand), model_of(row), base_url)


def _conditions(workspace_id: str, managed: bool, f: DeviceFilters) -> list[Any]:
    cond: list[Any] = [D.c.workspace_id == workspace_id, D.c.is_managed == managed]
    if f.device_ids is not None:
        cond.append(D.c.device_id.in_(f.device_ids))
    if f.device_types is not None:
        cond.append(D.c.device_type.in_(f.device_types))
    if f.manufacturer is not None:
        cond.append(D.c.manufacturer == f.manufacturer)
    if f.kind is not None:
        cond.append(D.c.kind == f.kind)
    if f.connected_account_ids is not None:
        cond.append(D.c.connected_account_id.in_(f.connected_account_ids))
    if f.created_before is not None:
        cond.append(D.c.created_at < f.created_before)
    cond.extend(metadata_has_conditions(D.c.custom_metadata, f.custom_metadata_has))
    if f.search:
        needle = f.search.lower()
        cond.append(or_(
            func.lower(D.c.display_name).contains(needle, autoescape=True),
            D.c.device_id.startswith(f.search, autoescape=True),
            D.c.connected_account_id == f.search,
            func.lower(cast(D.c.custom_metadata, String)).contains(needle, autoescape=True),
        ))
    return cond


# The filters a list statement takes as parameters (the others change its text).
_BOUND_FILTERS = ("device_ids", "device_types", "manufacturer", "connected_account_ids",
                  "created_before", "kind")


@cache
def _list_statement(present: frozenset[str], with_after: bool,
                    with_limit: bool) -> Select[Any]:
    """The device list's statement for one combination of filters, built once."""
    cond: list[Any] = [D.c.workspace_id == bindparam("workspace_id"),
                       D.c.is_managed == bindparam("managed")]
    if "device_ids" in present:
        cond.append(D.c.device_id.in_(bindparam("device_ids", expanding=True)))
    if "device_types" in present:
        cond.append(D.c.device_type.in_(bindparam("device_types", expanding=True)))
    if "manufacturer" in present:
        cond.append(D.c.manufacturer == bindparam("manufacturer"))
    if "kind" in present:
        cond.append(D.c.kind == bindparam("kind"))
    if "connected_account_ids" in present:
        cond.append(D.c.connected_account_id.in_(
            bindparam("connected_account_ids", expanding=True)))
    if "created_before" in present:
        cond.append(D.c.created_at < bindparam("created_before", type_=D.c.created_at.type))
    return page_statement(select(*position_columns(D.c.created_at, D.c.device_id)).where(*cond), D.c.created_at,
                          D.c.device_id, with_after=with_after, with_limit=with_limit)


async def list_devices(rt: Runtime, workspace_id: str, filters: DeviceFilters, *,
                       managed: bool = True,
                       after: tuple[datetime, str] | None = None, limit: int | None = None,
                       ) -> tuple[list[msgspec.Raw], tuple[str, str] | None]:
    """One page in (created_at, device_id) order as the devices' JSON, and the position after
    it if more follow; the whole page from the read model when it has it (then without
    opening a read transaction)."""
    async def build() -> tuple[list[msgspec.Raw], tuple[str, str] | None]:
        async with rt.db.read() as conn:
            positions, next_after = await _positions(conn, workspace_id, filters,
                                                     managed=managed, after=after, limit=limit)
            items = await served_rows(rt.db.read_model, conn, D, D.c.device_id,
                                      [p[0] for p in positions], workspace_id,
                                      lambda row: to_device(row, rt.settings.base_url),
                                      facts=lambda row: row.is_managed)
        return items, next_after

    key = (workspace_id, managed, msgspec.json.encode(filters), after, limit)
    return await served_page(rt.db.read_model, "devices", key, build)


async def _positions(conn: AsyncConnection, workspace_id: str, filters: DeviceFilters, *,
                     managed: bool, after: tuple[datetime, str] | None,
                     limit: int | None) -> tuple[list[Any], tuple[str, str] | None]:
    if filters.custom_metadata_has or filters.search:
        query = select(*position_columns(D.c.created_at, D.c.device_id)).where(
            *_conditions(workspace_id, managed, filters))
        return await keyset_page(conn, query, D.c.created_at, D.c.device_id, after=after,
                                 limit=limit)
    values = {name: getattr(filters, name) for name in _BOUND_FILTERS
              if getattr(filters, name) is not None}
    statement = _list_statement(frozenset(values), after is not None, limit is not None)
    return await run_page(
        conn, statement, {"workspace_id": workspace_id, "managed": managed, **values},
        D.c.created_at, D.c.device_id, after=after, limit=limit)


# Prebuilt (values are parameters): looking a device up by id is on every hot write path, and
# building the statement anew costs more than running it.
_BY_ID = select(D).where(D.c.workspace_id == bindparam("workspace_id"),
                         D.c.device_id == bindparam("device_id"))
_MANAGED_BY_ID = _BY_ID.where(D.c.is_managed == bindparam("managed"))


async def get_row(conn: AsyncConnection, workspace_id: str, *, device_id: str | None = None,
                  name: str | None = None, managed: bool | None = True) -> Any:
    if device_id is not None and name is None:
        params = {"workspace_id": workspace_id, "device_id": device_id}
        if managed is None:
            row = (await conn.execute(_BY_ID, params)).first()
        else:
            row = (await conn.execute(_MANAGED_BY_ID, {**params, "managed": managed})).first()
        if row is None:
            raise NotFound("device", {"device_id": device_id})
        return row
    cond: list[Any] = [D.c.workspace_id == workspace_id]
    if managed is not None:
        cond.append(D.c.is_managed == managed)
    if device_id is not None:
        cond.append(D.c.device_id == device_id)
    if name is not None:
        cond.append(D.c.display_name == name)
    row = (await conn.execute(
        select(D).where(*cond).order_by(D.c.created_at, D.c.device_id).limit(1))).first()
    if row is None:
        raise NotFound("device", {"device_id": device_id} if device_id else None)
    return row


async def served_device(rt: Runtime, workspace_id: str, device_id: str, *,
                        managed: bool) -> msgspec.Raw:
    """The device's JSON by id, from the read model when it is there."""
    lookup = Lookup(rt.db.read_model, "devices", device_id, workspace_id)
    if lookup.hit is not None and lookup.hit.facts == managed:
        return lookup.hit.raw
    async with rt.db.read() as conn:
        row = await get_row(conn, workspace_id, device_id=device_id, managed=managed)
    return lookup.remember(workspace_id, to_device(row, rt.settings.base_url),
                           facts=row.is_managed)


async def update_device(rt: Runtime, workspace_id: str, device_id: str, *, managed: bool,
                        name: Any = UNSET, custom_metadata: Any = UNSET,
                        is_managed: Any = UNSET, backup_pool_enabled: Any = UNSET) -> None:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, device_id=device_id, managed=managed)
        if backup_pool_enabled is True:
            from lockhub.services import backup_pool  # builds on the device service

            await backup_pool.enable(conn, await workspace_clock(conn, workspace_id, now), row)
            rt.wake_engine()
        values: dict[str, Any] = {}
        if name is not UNSET:
            nickname = name or None
            values["nickname"] = nickname
            values["display_name"] = nickname or row.state.get("name") or row.display_name
        if custom_metadata is not UNSET and custom_metadata is not None:
            values["custom_metadata"] = merge_custom_metadata(row.custom_metadata,
                                                              custom_metadata)
        if is_managed is not UNSET and is_managed is not None and is_managed != row.is_managed:
            values["is_managed"] = is_managed
        if not values:
            return
        await conn.execute(update(D).where(D.c.device_id == row.device_id).values(**values))
        common = {"device_id": row.device_id, "connected_account_id": row.connected_account_id}
        if "display_name" in values and values["display_name"] != row.display_name:
            await events.record(conn, now=now, workspace_id=workspace_id,
                                event_type="device.name_changed",
                                device_name=values["display_name"], **common)
        if "is_managed" in values:
            await events.record(
                conn, now=now, workspace_id=workspace_id,
                event_type="device.unmanaged.converted_to_managed" if is_managed
                else "device.converted_to_unmanaged", **common)


def device_providers(category: str | None, available: set[str],
                     base_url: str) -> list[DeviceProvider]:
    providers = []
    for brand in catalogue_brands().values():
        if brand.key not in available:
            continue
        if category is not None and category not in brand.provider_categories:
            continue
        models = list(brand.models.values())
        providers.append(DeviceProvider(
            device_provider_name=brand.key,
            display_name=brand.display_name,
            image_url=brand.image_url(base_url),
            provider_categories=list(brand.provider_categories),
            can_remotely_lock=any(m.remote_lock for m in models),
            can_remotely_unlock=any(m.remote_unlock for m in models),
            can_program_online_access_codes=any(m.online_access_codes for m in models),
            can_program_offline_access_codes=any(m.offline_access_codes for m in models),
            can_unlock_with_code=any(m.has_built_in_keypad or m.can_connect_accessory_keypad
                                     for m in models),
            can_configure_auto_lock=any(m.auto_lock for m in models),
            **_thermostat_provider_flags(models),
        ))
    return providers




def _thermostat_provider_flags(models: list[DeviceModel]) -> dict[str, bool]:
    """A brand with thermostats: what any of its models can do."""
    flags: dict[str, bool] = {}
    for model in models:
        if model.thermostat is not None:
            for name, value in thermostat_flags(model.thermostat).items():
                flags[name] = flags.get(name, False) or value
    return flags


def merged_state(row: Any, snapshot: DeviceSnapshot) -> dict[str, Any]:
    """The state a snapshot means for a device; a provider that cannot see the bolt (cloud
    brands that report no lock state) keeps the last known position, and one that does not
    report the auto-lock setting keeps the last known one."""
    state = snapshot.state()
    for kept in ("locked", "auto_lock_enabled", "auto_lock_delay_seconds"):
        if kept not in state and kept in (row.state or {}):
            state[kept] = row.state[kept]
    return state


async def apply_snapshot(conn: AsyncConnection, *, now: datetime, row: Any,
                         state: dict[str, Any]) -> None:
    """Store what the provider reported and record the events the change means."""
    if state == row.state:
        return
    await conn.execute(update(D).where(D.c.device_id == row.device_id).values(state=state))
    if row.kind == "thermostat":
        await _climate_events(conn, now, row, state)
    elif row.kind == "noise_sensor":
        await noise_sensors.evaluate(conn, now=now, row=row, state=state)
    model = model_of(row)
    prefix = "device." if row.is_managed else "device.unmanaged."
    for event_type, fields in state_change_events(model, row.state, state):
        if not row.is_managed:
            if event_type not in ("device.connected", "device.disconnected"):
                continue
            event_type = prefix + event_type.removeprefix("device.")
        await events.record(conn, now=now, workspace_id=row.workspace_id, event_type=event_type,
                            device_id=row.device_id,
                            connected_account_id=row.connected_account_id, **fields)
        if event_type == "device.disconnected":
            # lockhub can no longer vouch for what the lock holds.
            await conn.execute(update(access_codes).where(
                access_codes.c.device_id == row.device_id, access_codes.c.status == "set",
                access_codes.c.is_managed.is_(True)).values(status="unknown"))
        elif event_type == "device.connected":
            await _resume_codes(conn, now, row)


async def _climate_events(conn: AsyncConnection, now: datetime, row: Any,
                          state: dict[str, Any]) -> None:
    """What a thermostat's new reading means (temperature changed, set point reached,
    threshold crossed), remembered in its settings (read again here: `row` may have been read
    before a provider call, while a preset was added)."""
    current = await current_settings(conn, row.device_id)
    found, settings = climate_events(current, state.get("thermostat") or {})
    if settings != current:
        await conn.execute(update(D).where(D.c.device_id == row.device_id)
                           .values(settings=settings))
    for event_type, fields in found:
        await events.record(conn, now=now, workspace_id=row.workspace_id, event_type=event_type,
                            device_id=row.device_id, keep_null=THRESHOLD_LIMITS,
                            connected_account_id=row.connected_account_id, **fields)


async def current_settings(conn: AsyncConnection, device_id: str) -> dict[str, Any]:
    """What lockhub keeps for the device as this transaction sees it now."""
    return dict((await conn.execute(select(D.c.settings).where(
        D.c.device_id == device_id))).scalar_one_or_none() or {})


async def _resume_codes(conn: AsyncConnection, now: datetime, row: Any) -> None:
    """Back online: reconcile every code of the device at once instead of after backoff."""
    clock = await workspace_clock(conn, row.workspace_id, now)
    codes = (await conn.execute(select(access_codes.c.access_code_id).where(
        access_codes.c.device_id == row.device_id))).all()
    for code in codes:
        await schedule_sync(conn, clock, workspace_id=row.workspace_id, device_id=row.device_id,
                            access_code_id=code.access_code_id)
