"""/thermostats/schedules/*: a climate preset for a stretch of workspace time."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy import select

from lockhub.api.access_codes import Timestamp
from lockhub.api.context import Ctx
from lockhub.api.params import given
from lockhub.api.routing import route
from lockhub.services import thermostat_schedules as schedules
from lockhub.store.tables import client_sessions

OverrideMinutes = Annotated[int, Meta(gt=0)]


class CreateScheduleParams(msgspec.Struct):
    device_id: str
    climate_preset_key: Annotated[str, Meta(min_length=1)]
    starts_at: Timestamp
    ends_at: Timestamp
    name: str | UnsetType = UNSET
    is_override_allowed: bool | UnsetType = UNSET
    max_override_period_minutes: OverrideMinutes | None | UnsetType = UNSET


async def _session_user(ctx: Ctx) -> str | None:
    """The user identifier key of the calling client session (schedules remember it)."""
    grant = ctx.principal.client_session if ctx.principal is not None else None
    if grant is None:
        return None
    async with ctx.rt.db.read() as conn:
        return (await conn.execute(select(client_sessions.c.user_identifier_key).where(
            client_sessions.c.client_session_id == grant.client_session_id))).scalar()


@route("/thermostats/schedules/create", params=CreateScheduleParams,
       response_key="thermostat_schedule", response=dict[str, Any], client_session=True)
async def create_schedule(ctx: Ctx, params: CreateScheduleParams) -> dict[str, Any]:
    """Schedule a climate preset from `starts_at` to `ends_at` (workspace time)."""
    return await schedules.create(
        ctx.rt, ctx.workspace_id, params.device_id, climate_preset_key=params.climate_preset_key,
        starts_at=params.starts_at, ends_at=params.ends_at, name=given(params.name),
        is_override_allowed=given(params.is_override_allowed),
        max_override_period_minutes=given(params.max_override_period_minutes),
        user_identifier_key=await _session_user(ctx))


class ScheduleIdParams(msgspec.Struct):
    thermostat_schedule_id: str


@route("/thermostats/schedules/get", alias="GET", params=ScheduleIdParams,
       response_key="thermostat_schedule", response=dict[str, Any], client_session=True)
async def get_schedule(ctx: Ctx, params: ScheduleIdParams) -> dict[str, Any]:
    """Get a thermostat schedule."""
    return await schedules.get(ctx.rt, ctx.workspace_id, params.thermostat_schedule_id)


class ListSchedulesParams(msgspec.Struct):
    device_id: str
    user_identifier_key: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET


@route("/thermostats/schedules/list", alias="GET", params=ListSchedulesParams,
       response_key="thermostat_schedules", response=list[dict[str, Any]], client_session=True)
async def list_schedules(ctx: Ctx, params: ListSchedulesParams) -> list[dict[str, Any]]:
    """List a thermostat's schedules (those a client session's user made, with
    `user_identifier_key`)."""
    return await schedules.list_schedules(ctx.rt, ctx.workspace_id, params.device_id,
                                          user_identifier_key=given(params.user_identifier_key))


class UpdateScheduleParams(msgspec.Struct):
    thermostat_schedule_id: str
    climate_preset_key: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    starts_at: Timestamp | UnsetType = UNSET
    ends_at: Timestamp | UnsetType = UNSET
    name: str | UnsetType = UNSET
    is_override_allowed: bool | UnsetType = UNSET
    max_override_period_minutes: OverrideMinutes | None | UnsetType = UNSET


@route("/thermostats/schedules/update", alias="PATCH", params=UpdateScheduleParams,
       client_session=True)
async def update_schedule(ctx: Ctx, params: UpdateScheduleParams) -> None:
    """Change a thermostat schedule; what is due then is applied at once."""
    changes = {name: value for name in ("climate_preset_key", "starts_at", "ends_at", "name",
                                        "is_override_allowed", "max_override_period_minutes")
               if (value := getattr(params, name)) is not UNSET}
    await schedules.update_schedule(ctx.rt, ctx.workspace_id, params.thermostat_schedule_id,
                                    changes)


@route("/thermostats/schedules/delete", alias="DELETE", params=ScheduleIdParams,
       client_session=True)
async def delete_schedule(ctx: Ctx, params: ScheduleIdParams) -> None:
    """Delete a thermostat schedule (ending it now if it is active: the fallback applies)."""
    await schedules.delete_schedule(ctx.rt, ctx.workspace_id, params.thermostat_schedule_id)
