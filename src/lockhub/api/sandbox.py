"""/_lockhub/sandbox/*: lockhub's own sandbox controls (not part of Seam's API).

A controllable clock per sandbox workspace, and per-device fault injection and conditions, so
tests can watch a time-bound code's whole life in seconds and exercise every failure path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.routing import NoParams, route
from lockhub.clock import iso
from lockhub.services import sandbox
from lockhub.services.sandbox_clock import WorkspaceClock

PREFIX = "/_lockhub/sandbox"
Operation = Literal["lock", "unlock", "set_code", "remove_code", "list_codes", "create_offline_code"]


class SandboxClock(msgspec.Struct):
    now: str
    is_frozen: bool
    offset_seconds: float


def _clock(clock: WorkspaceClock) -> SandboxClock:
    return SandboxClock(now=iso(clock.now), is_frozen=clock.frozen_at is not None,
                        offset_seconds=clock.offset.total_seconds())


class AdvanceClockParams(msgspec.Struct):
    seconds: Annotated[float, Meta(ge=0, le=10 * 365 * 86400)]


class SetClockParams(msgspec.Struct):
    now: Annotated[datetime, Meta(tz=True)]
    frozen: bool | UnsetType = UNSET


class InjectFailureParams(msgspec.Struct):
    device_id: str
    error_type: Annotated[str, Meta(min_length=1, max_length=100)]
    count: Annotated[int, Meta(ge=1, le=1000)] = 1
    operations: list[Operation] | UnsetType = UNSET
    message: str | UnsetType = UNSET


class SandboxDeviceParams(msgspec.Struct):
    device_id: str


class CodeOnLock(msgspec.Struct, omit_defaults=True):
    slot: int
    code: str
    name: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None


class EditCodeOnLockParams(msgspec.Struct):
    device_id: str
    # The slot column is a 32-bit INTEGER; a larger number is no slot (and overflowed: 500).
    slot: Annotated[int, Meta(ge=0, le=2**31 - 1)]
    code: Annotated[str, Meta(pattern=r"^[0-9]{1,20}$")] | UnsetType = UNSET
    name: str | UnsetType = UNSET
    remove: bool = False


class ConditionsParams(msgspec.Struct):
    device_id: str
    online: bool | UnsetType = UNSET
    hub_connected: bool | UnsetType = UNSET
    latency_ms: Annotated[int, Meta(ge=0, le=60_000)] | UnsetType = UNSET
    battery_level: Annotated[float, Meta(ge=0, le=1)] | UnsetType = UNSET


@route(f"{PREFIX}/clock/get", alias="GET", params=NoParams, response_key="clock",
       response=SandboxClock)
async def get_clock(ctx: Ctx, params: NoParams) -> SandboxClock:
    """The sandbox workspace's clock."""
    return _clock(await sandbox.get_clock(ctx.rt, ctx.workspace_id))


@route(f"{PREFIX}/clock/freeze", params=NoParams, response_key="clock", response=SandboxClock)
async def freeze_clock(ctx: Ctx, params: NoParams) -> SandboxClock:
    """Stop the workspace's clock where it is."""
    return _clock(await sandbox.change_clock(ctx.rt, ctx.workspace_id, frozen=True))


@route(f"{PREFIX}/clock/unfreeze", params=NoParams, response_key="clock",
       response=SandboxClock)
async def unfreeze_clock(ctx: Ctx, params: NoParams) -> SandboxClock:
    """Let the workspace's clock run again (from where it stands)."""
    return _clock(await sandbox.change_clock(ctx.rt, ctx.workspace_id, frozen=False))


@route(f"{PREFIX}/clock/advance", params=AdvanceClockParams, response_key="clock",
       response=SandboxClock)
async def advance_clock(ctx: Ctx, params: AdvanceClockParams) -> SandboxClock:
    """Move the workspace's clock forward; due work runs at once."""
    return _clock(await sandbox.change_clock(ctx.rt, ctx.workspace_id,
                                             advance_seconds=params.seconds))


@route(f"{PREFIX}/clock/set", params=SetClockParams, response_key="clock",
       response=SandboxClock)
async def set_clock(ctx: Ctx, params: SetClockParams) -> SandboxClock:
    """Set the workspace's clock to an instant (optionally frozen there)."""
    return _clock(await sandbox.change_clock(
        ctx.rt, ctx.workspace_id, set_to=params.now,
        frozen=None if params.frozen is UNSET else params.frozen))


@route(f"{PREFIX}/devices/inject_failure", params=InjectFailureParams)
async def inject_failure(ctx: Ctx, params: InjectFailureParams) -> None:
    """The next `count` operations on this virtual lock fail with `error_type`."""
    await sandbox.inject_failures(
        ctx.rt, ctx.workspace_id, params.device_id, error_type=params.error_type,
        count=params.count, operations=None if params.operations is UNSET else
        list(params.operations), message=None if params.message is UNSET else params.message)


@route(f"{PREFIX}/devices/clear_faults", params=SandboxDeviceParams)
async def clear_faults(ctx: Ctx, params: SandboxDeviceParams) -> None:
    """Remove every injected failure from this virtual lock."""
    await sandbox.clear_faults(ctx.rt, ctx.workspace_id, params.device_id)


@route(f"{PREFIX}/devices/set_conditions", params=ConditionsParams)
async def set_conditions(ctx: Ctx, params: ConditionsParams) -> None:
    """Take a virtual lock offline or online, cut its hub, slow it down, drain its battery."""
    await sandbox.set_conditions(
        ctx.rt, ctx.workspace_id, params.device_id,
        online=None if params.online is UNSET else params.online,
        hub_connected=None if params.hub_connected is UNSET else params.hub_connected,
        latency_ms=None if params.latency_ms is UNSET else params.latency_ms,
        battery_level=None if params.battery_level is UNSET else params.battery_level)


class ClimateConditionsParams(msgspec.Struct):
    device_id: str
    # The outside temperature the room drifts toward while the HVAC is idle.
    ambient_celsius: Annotated[float, Meta(ge=-50, le=60)] | UnsetType = UNSET
    relative_humidity: Annotated[float, Meta(ge=0, le=1)] | UnsetType = UNSET
    # static: readings change only when simulated; dynamic: the room follows the HVAC.
    physics: Literal["static", "dynamic"] | UnsetType = UNSET


@route(f"{PREFIX}/devices/set_climate", params=ClimateConditionsParams)
async def set_climate(ctx: Ctx, params: ClimateConditionsParams) -> None:
    """Change a virtual thermostat's room: the outside temperature, the humidity, and whether
    the room follows the HVAC over workspace time."""
    await sandbox.set_climate_conditions(
        ctx.rt, ctx.workspace_id, params.device_id,
        **{name: value for name in ("ambient_celsius", "relative_humidity", "physics")
           if (value := getattr(params, name)) is not UNSET})


@route(f"{PREFIX}/devices/list_codes_on_lock", alias="GET", params=SandboxDeviceParams,
       response_key="codes_on_lock", response=list[CodeOnLock])
async def list_codes_on_lock(ctx: Ctx, params: SandboxDeviceParams) -> list[CodeOnLock]:
    """The PINs physically stored in the virtual lock's slots (what a keypad would accept)."""
    codes = await sandbox.codes_on_lock(ctx.rt, ctx.workspace_id, params.device_id)
    return [CodeOnLock(slot=int(c.ref or 0), code=c.code, name=c.name,
                       starts_at=iso(c.starts_at) if c.starts_at else None,
                       ends_at=iso(c.ends_at) if c.ends_at else None) for c in codes]


@route(f"{PREFIX}/devices/edit_code_on_lock", params=EditCodeOnLockParams)
async def edit_code_on_lock(ctx: Ctx, params: EditCodeOnLockParams) -> None:
    """Change or remove a PIN at the virtual lock, as someone could in the brand's own app."""
    await sandbox.edit_code_at_lock(
        ctx.rt, ctx.workspace_id, params.device_id, params.slot,
        code=None if params.code is UNSET else params.code,
        name=None if params.name is UNSET else params.name, remove=params.remove)
