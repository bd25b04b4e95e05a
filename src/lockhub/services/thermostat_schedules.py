"""Thermostat schedules: a climate preset for a stretch of workspace time. Each change makes the
thermostat's schedule job due (engine/thermostat_schedules.py), which activates what is due.

Rules Seam's docs leave open, decided here: `starts_at` is unique among a thermostat's
schedules ("must be unique within all the schedules for the thermostat"); when schedules
overlap, the one that started last wins; a schedule starting in the past activates at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.domain import thermostats as rules
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.services.runtime import Runtime
from lockhub.services.thermostats import ensure_schedule_job, thermostat_row
from lockhub.store.tables import thermostat_schedules

S = thermostat_schedules


def to_schedule(row: Any) -> dict[str, Any]:
    """A schedule as Seam serves it."""
    out = {"thermostat_schedule_id": row.thermostat_schedule_id, "device_id": row.device_id,
           "workspace_id": row.workspace_id, "name": row.name,
           "climate_preset_key": row.climate_preset_key, "starts_at": iso(row.starts_at),
           "ends_at": iso(row.ends_at), "created_at": iso(row.created_at),
           "errors": list(row.errors or []),
           "max_override_period_minutes": row.max_override_period_minutes}
    if row.is_override_allowed is not None:
        out["is_override_allowed"] = row.is_override_allowed
    return out


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at >= ends_at:
        raise InvalidInput.for_field(["ends_at"], "ends_at must be after starts_at")


async def _check_unique_start(conn: AsyncConnection, device_id: str, starts_at: datetime,
                              schedule_id: str | None = None) -> None:
    query = select(S.c.thermostat_schedule_id).where(S.c.device_id == device_id,
                                                     S.c.starts_at == starts_at)
    if schedule_id is not None:
        query = query.where(S.c.thermostat_schedule_id != schedule_id)
    if (await conn.execute(query)).first() is not None:
        raise LockhubError("Another schedule of this thermostat starts at the same time.",
                           error_type="duplicate_thermostat_schedule_starts_at")


def _check_preset(row: Any, key: str) -> None:
    if rules.find_preset(row.settings or {}, key) is None:
        raise NotFound("climate_preset", {"climate_preset_key": key})


async def create(rt: Runtime, workspace_id: str, device_id: str, *, climate_preset_key: str,
                 starts_at: datetime, ends_at: datetime, name: str | None,
                 is_override_allowed: bool | None, max_override_period_minutes: int | None,
                 user_identifier_key: str | None) -> dict[str, Any]:
    _check_window(starts_at, ends_at)
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await thermostat_row(conn, workspace_id, device_id)
        _check_preset(row, climate_preset_key)
        await _check_unique_start(conn, device_id, starts_at)
        values = dict(thermostat_schedule_id=new_id(), workspace_id=workspace_id,
                      device_id=device_id, name=name, climate_preset_key=climate_preset_key,
                      starts_at=starts_at, ends_at=ends_at,
                      is_override_allowed=is_override_allowed,
                      max_override_period_minutes=max_override_period_minutes, errors=[],
                      user_identifier_key=user_identifier_key, created_at=now)
        await conn.execute(S.insert().values(**values))
        await ensure_schedule_job(conn, now=now, workspace_id=workspace_id, device_id=device_id)
        created = (await conn.execute(select(S).where(
            S.c.thermostat_schedule_id == values["thermostat_schedule_id"]))).one()
    rt.wake_engine()
    return to_schedule(created)


async def schedule_row(conn: AsyncConnection, workspace_id: str, schedule_id: str) -> Any:
    row = (await conn.execute(select(S).where(S.c.workspace_id == workspace_id,
                                              S.c.thermostat_schedule_id == schedule_id))).first()
    if row is None:
        raise NotFound("thermostat_schedule", {"thermostat_schedule_id": schedule_id})
    return row


async def get(rt: Runtime, workspace_id: str, schedule_id: str) -> dict[str, Any]:
    async with rt.db.read() as conn:
        return to_schedule(await schedule_row(conn, workspace_id, schedule_id))


async def list_schedules(rt: Runtime, workspace_id: str, device_id: str, *,
                         user_identifier_key: str | None) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        await thermostat_row(conn, workspace_id, device_id)
        query = select(S).where(S.c.device_id == device_id)
        if user_identifier_key is not None:
            query = query.where(S.c.user_identifier_key == user_identifier_key)
        rows = (await conn.execute(query.order_by(S.c.starts_at,
                                                  S.c.thermostat_schedule_id))).all()
    return [to_schedule(r) for r in rows]


async def update_schedule(rt: Runtime, workspace_id: str, schedule_id: str,
                          changes: dict[str, Any]) -> None:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        current = await schedule_row(conn, workspace_id, schedule_id)
        if "climate_preset_key" in changes:
            _check_preset(await thermostat_row(conn, workspace_id, current.device_id),
                          changes["climate_preset_key"])
        starts_at = changes.get("starts_at", current.starts_at)
        _check_window(starts_at, changes.get("ends_at", current.ends_at))
        if "starts_at" in changes:
            await _check_unique_start(conn, current.device_id, starts_at, schedule_id)
        if changes:
            await conn.execute(update(S).where(S.c.thermostat_schedule_id == schedule_id)
                               .values(**changes))
        await ensure_schedule_job(conn, now=now, workspace_id=workspace_id,
                                  device_id=current.device_id)
    rt.wake_engine()


async def delete_schedule(rt: Runtime, workspace_id: str, schedule_id: str) -> None:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        current = await schedule_row(conn, workspace_id, schedule_id)
        await conn.execute(delete(S).where(S.c.thermostat_schedule_id == schedule_id))
        await ensure_schedule_job(conn, now=now, workspace_id=workspace_id,
                                  device_id=current.device_id)
    rt.wake_engine()
