"""Noise sensors: their thresholds (each change programmed onto the sensor by an action attempt),
which thresholds are triggering now, and `noise_sensor.noise_threshold_triggered` events
(docs/design/thermostats-and-noise-sensors.md §1.1, §3.4).

A threshold row is created, changed or removed in the request's own transaction (Seam's SDK
reads the list right after a create or delete, without waiting for the attempt); the attempt
only programs the sensor and marks its thresholds programmed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.catalogue import DeviceModel
from lockhub.catalogue import model as catalogue_model
from lockhub.domain import noise as rules
from lockhub.domain.objects import ActionAttempt
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.providers.base import DeviceRef, DeviceSnapshot, programs_noise_thresholds
from lockhub.services import action_attempts, events
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store.tables import devices, noise_thresholds

N = noise_thresholds
NOISE_THRESHOLD_ACTIONS = ("CREATE_NOISE_THRESHOLD", "UPDATE_NOISE_THRESHOLD",
                           "DELETE_NOISE_THRESHOLD")
SENSOR_NOT_FOUND = "Could not find a noise sensor with device_id"
DEFAULT_NAME = "Noise Threshold"
# The level a simulated disturbance reaches when the sensor has no threshold to exceed.
DISTURBANCE_DECIBELS = 75.0

# The thresholds a sensor comes with (Seam: "each device has its own default thresholds"):
# quiet hours at night and normal hours by day. Names from Seam's docs; times and levels
# lockhub's. NoiseAware's are set as risk scores.
DEFAULT_THRESHOLDS = (
    ("builtin_normal_hours", "07:00:00", "22:00:00", 70.0, 60.0),
    ("builtin_quiet_hours", "22:00:00", "07:00:00", 60.0, 40.0),
)


def to_threshold(row: Any) -> dict[str, Any]:
    """A threshold as Seam serves it."""
    out = {"noise_threshold_id": row.noise_threshold_id, "device_id": row.device_id,
           "name": row.name, "starts_daily_at": row.starts_daily_at,
           "ends_daily_at": row.ends_daily_at,
           "noise_threshold_decibels": row.noise_threshold_decibels}
    if row.noise_threshold_nrs is not None:
        out["noise_threshold_nrs"] = row.noise_threshold_nrs
    return out


def device_zone(row: Any) -> ZoneInfo:
    """Where a threshold without a zone is read: the device's time zone, else UTC."""
    name = (row.location or {}).get("timezone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def sensor_row(conn: AsyncConnection, workspace_id: str, device_id: str) -> Any:
    row = (await conn.execute(select(devices).where(
        devices.c.workspace_id == workspace_id, devices.c.device_id == device_id,
        devices.c.is_managed.is_(True)))).first()
    if row is None or row.kind != "noise_sensor":
        raise LockhubError(SENSOR_NOT_FOUND, error_type="device_not_found", status_code=404,
                           data={"device_id": device_id})
    return row


def _reports_nrs(row: Any) -> bool:
    model = catalogue_model(row.brand, row.model).noise_sensor
    return bool(model and model.reports_nrs)


async def add_default_thresholds(conn: AsyncConnection, *, now: datetime, workspace_id: str,
                                 device_id: str, model: DeviceModel) -> None:
    """A newly added sensor's own thresholds (already on it: programmed)."""
    nrs_scale = bool(model.noise_sensor and model.noise_sensor.reports_nrs)
    for position, (name, starts, ends, decibels, nrs) in enumerate(DEFAULT_THRESHOLDS):
        await conn.execute(N.insert().values(
            noise_threshold_id=new_id(), workspace_id=workspace_id, device_id=device_id,
            name=name, starts_daily_at=starts, ends_daily_at=ends,
            noise_threshold_decibels=rules.decibels_from_nrs(nrs) if nrs_scale else decibels,
            noise_threshold_nrs=nrs if nrs_scale else None, is_programmed=True,
            created_at=now.replace(microsecond=position)))


def _time_of_day(field: str, value: str) -> str:
    try:
        rules.parse_time_of_day(value)
    except ValueError as exc:
        raise InvalidInput.for_field([field], str(exc)) from None
    return value


def _levels(row: Any, decibels: float | None, nrs: float | None) -> tuple[float, float | None]:
    """The threshold's level in dB (required) and risk score, from whichever was given."""
    if decibels is not None and nrs is not None:
        raise InvalidInput("Provide noise_threshold_decibels or noise_threshold_nrs, not both.")
    if decibels is None and nrs is None:
        raise InvalidInput("Provide noise_threshold_decibels or noise_threshold_nrs.")
    if decibels is None:
        assert nrs is not None
        return rules.decibels_from_nrs(nrs), nrs
    return decibels, float(rules.nrs_from_decibels(decibels)) if _reports_nrs(row) else None


async def _program(conn: AsyncConnection, *, now: datetime, row: Any, action_type: str,
                   threshold_id: str) -> ActionAttempt:
    await evaluate(conn, now=now, row=row)
    return await action_attempts.start(conn, now=now, workspace_id=row.workspace_id,
                                       action_type=action_type, device_id=row.device_id,
                                       payload={"noise_threshold_id": threshold_id})


async def create(rt: Runtime, workspace_id: str, device_id: str, *, name: str | None,
                 starts_daily_at: str, ends_daily_at: str, decibels: float | None,
                 nrs: float | None, sync: bool) -> tuple[dict[str, Any], ActionAttempt]:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await sensor_row(conn, workspace_id, device_id)
        level, score = _levels(row, decibels, nrs)
        threshold_id = new_id()
        values = dict(noise_threshold_id=threshold_id, workspace_id=workspace_id,
                      device_id=device_id, name=name or DEFAULT_NAME,
                      starts_daily_at=_time_of_day("starts_daily_at", starts_daily_at),
                      ends_daily_at=_time_of_day("ends_daily_at", ends_daily_at),
                      noise_threshold_decibels=level, noise_threshold_nrs=score,
                      is_programmed=False, created_at=now)
        await conn.execute(N.insert().values(**values))
        attempt = await _program(conn, now=now, row=row, action_type="CREATE_NOISE_THRESHOLD",
                                 threshold_id=threshold_id)
    threshold = to_threshold(_Row(**values))
    return threshold, await action_attempts.answer(rt, workspace_id, attempt, sync)


class _Row(msgspec.Struct):
    """A threshold row as inserted (to serve it without reading it back)."""

    noise_threshold_id: str
    workspace_id: str
    device_id: str
    name: str
    starts_daily_at: str
    ends_daily_at: str
    noise_threshold_decibels: float
    noise_threshold_nrs: float | None
    is_programmed: bool
    created_at: datetime


async def _threshold_row(conn: AsyncConnection, workspace_id: str, threshold_id: str,
                         device_id: str | None = None) -> Any:
    query = select(N).where(N.c.workspace_id == workspace_id,
                            N.c.noise_threshold_id == threshold_id)
    if device_id is not None:
        query = query.where(N.c.device_id == device_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound("noise_threshold", {"noise_threshold_id": threshold_id})
    return row


async def update_threshold(rt: Runtime, workspace_id: str, device_id: str, threshold_id: str, *,
                           changes: dict[str, Any], sync: bool) -> ActionAttempt:
    now = rt.clock.now()
    if ("starts_daily_at" in changes) != ("ends_daily_at" in changes):
        raise InvalidInput("Provide starts_daily_at and ends_daily_at together.")
    async with rt.db.write() as conn:
        row = await sensor_row(conn, workspace_id, device_id)
        await _threshold_row(conn, workspace_id, threshold_id, device_id)
        values: dict[str, Any] = {"is_programmed": False}
        if changes.get("name") is not None:
            values["name"] = changes["name"]
        for field in ("starts_daily_at", "ends_daily_at"):
            if field in changes:
                values[field] = _time_of_day(field, changes[field])
        decibels, nrs = changes.get("noise_threshold_decibels"), changes.get("noise_threshold_nrs")
        if decibels is not None or nrs is not None:
            values["noise_threshold_decibels"], values["noise_threshold_nrs"] = _levels(
                row, decibels, nrs)
        await conn.execute(update(N).where(N.c.noise_threshold_id == threshold_id)
                           .values(**values))
        attempt = await _program(conn, now=now, row=row, action_type="UPDATE_NOISE_THRESHOLD",
                                 threshold_id=threshold_id)
    return await action_attempts.answer(rt, workspace_id, attempt, sync)


async def delete_threshold(rt: Runtime, workspace_id: str, device_id: str, threshold_id: str, *,
                           sync: bool) -> ActionAttempt:
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await sensor_row(conn, workspace_id, device_id)
        await _threshold_row(conn, workspace_id, threshold_id, device_id)
        await conn.execute(delete(N).where(N.c.noise_threshold_id == threshold_id))
        attempt = await _program(conn, now=now, row=row, action_type="DELETE_NOISE_THRESHOLD",
                                 threshold_id=threshold_id)
    return await action_attempts.answer(rt, workspace_id, attempt, sync)


async def get_threshold(rt: Runtime, workspace_id: str, threshold_id: str,
                        visible: set[str] | None = None) -> dict[str, Any]:
    """One threshold; `visible` (a client session's devices) hides the others' thresholds."""
    async with rt.db.read() as conn:
        row = await _threshold_row(conn, workspace_id, threshold_id)
    if visible is not None and row.device_id not in visible:
        raise NotFound("noise_threshold", {"noise_threshold_id": threshold_id})
    return to_threshold(row)


async def list_thresholds(rt: Runtime, workspace_id: str, device_id: str, *,
                          is_programmed: bool | None) -> list[dict[str, Any]]:
    async with rt.db.read() as conn:
        await sensor_row(conn, workspace_id, device_id)
        query = select(N).where(N.c.device_id == device_id)
        if is_programmed is not None:
            query = query.where(N.c.is_programmed.is_(is_programmed))
        rows = (await conn.execute(query.order_by(N.c.created_at,
                                                  N.c.noise_threshold_id))).all()
    return [to_threshold(r) for r in rows]


# --- the engine's side -----------------------------------------------------------------------


async def program_thresholds(rt: Runtime, provider: Any, ref: DeviceRef,
                             device_id: str) -> DeviceSnapshot:
    """Put the device's thresholds, as they are now, on the sensor (when its provider holds
    them there) and read its state back."""
    if programs_noise_thresholds(provider):
        async with rt.db.read() as conn:
            rows = (await conn.execute(select(N).where(N.c.device_id == device_id).order_by(
                N.c.created_at, N.c.noise_threshold_id))).all()
        await provider.program_noise_thresholds(ref, [to_threshold(r) for r in rows])
    snapshot: DeviceSnapshot = await provider.read_state(ref)
    return snapshot


async def programmed(conn: AsyncConnection, device_id: str,
                     payload: dict[str, Any]) -> dict[str, Any]:
    """The sensor has its thresholds: mark them so; the attempt's result names the created or
    changed threshold."""
    await conn.execute(update(N).where(N.c.device_id == device_id).values(is_programmed=True))
    row = (await conn.execute(select(N).where(
        N.c.noise_threshold_id == payload.get("noise_threshold_id", "")))).first()
    return {"noise_threshold": to_threshold(row)} if row is not None else {}


# --- triggering ------------------------------------------------------------------------------


async def evaluate(conn: AsyncConnection, *, now: datetime, row: Any,
                   state: dict[str, Any] | None = None, level: float | None = None) -> None:
    """Which thresholds the sensor's level triggers at workspace time now; one
    `noise_sensor.noise_threshold_triggered` event for each that starts triggering."""
    state = state if state is not None else (row.state or {})
    noise = state.get("noise") or {}
    level = level if level is not None else noise.get("noise_level_decibels")
    # Read again: `row` may be from before a provider call.
    settings = dict((await conn.execute(select(devices.c.settings).where(
        devices.c.device_id == row.device_id))).scalar_one_or_none() or {})
    before = list(settings.get("triggering", []))
    rows = (await conn.execute(select(N).where(N.c.device_id == row.device_id).order_by(
        N.c.created_at, N.c.noise_threshold_id))).all()
    clock = await workspace_clock(conn, row.workspace_id, now)
    thresholds = [rules.Threshold(r.noise_threshold_id, r.starts_daily_at, r.ends_daily_at,
                                  r.noise_threshold_decibels) for r in rows]
    after = [] if level is None else rules.triggering(level, thresholds, clock.now,
                                                      device_zone(row))
    if after == before:
        return
    settings["triggering"] = after
    await conn.execute(update(devices).where(devices.c.device_id == row.device_id)
                       .values(settings=settings))
    by_id = {r.noise_threshold_id: r for r in rows}
    for threshold_id in after:
        if threshold_id not in before:
            await record_triggered(conn, now=now, row=row, threshold=by_id[threshold_id],
                                   level=level, nrs=noise.get("noise_level_nrs"))


async def record_triggered(conn: AsyncConnection, *, now: datetime, row: Any, threshold: Any,
                           level: float | None, nrs: float | None) -> None:
    brand_metadata = "noiseaware_metadata" if _reports_nrs(row) else "minut_metadata"
    await events.record(
        conn, now=now, workspace_id=row.workspace_id,
        event_type="noise_sensor.noise_threshold_triggered", device_id=row.device_id,
        connected_account_id=row.connected_account_id,
        noise_threshold_id=threshold.noise_threshold_id if threshold else None,
        noise_threshold_name=threshold.name if threshold else None,
        noise_level_decibels=level, noise_level_nrs=nrs, **{brand_metadata: {}})


async def active_threshold(conn: AsyncConnection, row: Any, at: datetime) -> Any:
    """The threshold whose window is open at `at` (the first, if several), else the sensor's
    first threshold, else None."""
    rows = (await conn.execute(select(N).where(N.c.device_id == row.device_id).order_by(
        N.c.created_at, N.c.noise_threshold_id))).all()
    zone = device_zone(row)
    return next((r for r in rows if rules.window_is_open(r.starts_daily_at, r.ends_daily_at,
                                                         at, zone)), rows[0] if rows else None)
