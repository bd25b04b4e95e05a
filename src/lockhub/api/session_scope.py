"""What a client session token may reach, enforced for every route that accepts one.

Before the handler runs, every id the request names (a device, access code, thermostat
schedule, account, webview, action attempt, event, user identity, client session) must be
within the session's grants, else the request gets the same 404 as an id that exists nowhere.
After a read, the object
served must be too (a device found by name, an account by email, the latest event of a type).
Lists are narrowed by their handlers with `visible_devices` and the grant itself. What is
visible is read from the database on each request, so a grant, a revocation or a device
joining a granted account takes effect at once.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select

from lockhub.api.context import Ctx
from lockhub.api.routing import Route
from lockhub.errors import NotFound
from lockhub.services import client_sessions
from lockhub.services.credentials import ClientSessionGrant
from lockhub.store import tables as t


async def visible_devices(ctx: Ctx) -> set[str] | None:
    """The device ids a client session sees; None for any other credential (no narrowing)."""
    grant = _grant(ctx)
    if grant is None:
        return None
    if ctx.session_devices is None:
        async with ctx.rt.db.read() as conn:
            ctx.session_devices = await client_sessions.visible_device_ids(
                conn, ctx.workspace_id, grant)
    return ctx.session_devices


def narrowed(requested: list[str] | None, visible: set[str] | None) -> list[str] | None:
    """A list filter as a session may ask it: only what it sees."""
    if visible is None:
        return requested
    if requested is None:
        return sorted(visible)
    return [i for i in requested if i in visible]


def _grant(ctx: Ctx) -> ClientSessionGrant | None:
    return ctx.principal.client_session if ctx.principal is not None else None


async def _accounts(ctx: Ctx, grant: ClientSessionGrant) -> set[str]:
    async with ctx.rt.db.read() as conn:
        return await client_sessions.visible_account_ids(conn, ctx.workspace_id, grant)


async def _device_of(ctx: Ctx, table: Any, column: Any, row_id: str) -> Any:
    async with ctx.rt.db.read() as conn:
        return (await conn.execute(select(table.c.device_id).where(
            table.c.workspace_id == ctx.workspace_id, column == row_id))).first()


async def check_params(ctx: Ctx, params: Any) -> None:
    """404 for the first id the request names that the session does not see."""
    grant = _grant(ctx)
    if grant is None or params is None:
        return
    fields = msgspec.structs.asdict(params)

    def named(*names: str) -> list[str]:
        ids: list[str] = []
        for name in names:
            value = fields.get(name)
            if isinstance(value, str):
                ids.append(value)
            elif isinstance(value, list):
                ids.extend(v for v in value if isinstance(v, str))
        return ids

    for device_id in named("device_id", "device_ids"):
        if device_id not in (await visible_devices(ctx) or set()):
            raise NotFound("device", {"device_id": device_id})
    for code_id in named("access_code_id", "access_code_ids"):
        row = await _device_of(ctx, t.access_codes, t.access_codes.c.access_code_id, code_id)
        if row is None or row.device_id not in (await visible_devices(ctx) or set()):
            raise NotFound("access_code", {"access_code_id": code_id})
    for schedule_id in named("thermostat_schedule_id"):
        row = await _device_of(ctx, t.thermostat_schedules,
                               t.thermostat_schedules.c.thermostat_schedule_id, schedule_id)
        if row is None or row.device_id not in (await visible_devices(ctx) or set()):
            raise NotFound("thermostat_schedule", {"thermostat_schedule_id": schedule_id})
    for attempt_id in named("action_attempt_id"):
        row = await _device_of(ctx, t.action_attempts, t.action_attempts.c.action_attempt_id,
                               attempt_id)
        if row is None or row.device_id not in (await visible_devices(ctx) or set()):
            raise NotFound("action_attempt", {"action_attempt_id": attempt_id})
    accounts = named("connected_account_id", "connected_account_ids")
    if accounts:
        visible = await _accounts(ctx, grant)
        for account_id in accounts:
            if account_id not in visible:
                raise NotFound("connected_account", {"connected_account_id": account_id})
    for webview_id in named("connect_webview_id"):
        if webview_id not in grant.connect_webview_ids:
            raise NotFound("connect_webview", {"connect_webview_id": webview_id})
    for identity_id in named("user_identity_id"):
        if identity_id not in grant.user_identity_ids:
            raise NotFound("user_identity", {"user_identity_id": identity_id})
    for session_id in named("client_session_id"):
        if session_id != grant.client_session_id:
            raise NotFound("client_session", {"client_session_id": session_id})
    for event_id in named("event_id", "event_ids"):
        await _check_event(ctx, grant, event_id)


async def _check_event(ctx: Ctx, grant: ClientSessionGrant, event_id: str) -> None:
    E = t.events
    async with ctx.rt.db.read() as conn:
        row = (await conn.execute(select(E.c.device_id, E.c.connected_account_id).where(
            E.c.workspace_id == ctx.workspace_id, E.c.event_id == event_id))).first()
    if row is None or not await _visible(ctx, grant, row.device_id,
                                                row.connected_account_id):
        raise NotFound("event", {"event_id": event_id})


async def _visible(ctx: Ctx, grant: ClientSessionGrant, device_id: str | None,
                         account_id: str | None) -> bool:
    if device_id is not None:
        return device_id in (await visible_devices(ctx) or set())
    return account_id is not None and account_id in await _accounts(ctx, grant)


async def check_result(ctx: Ctx, spec: Route, value: Any) -> None:
    """A read found by something other than an id (a name, an email, an event type) must
    still be something the session sees."""
    grant = _grant(ctx)
    if (grant is None or "GET" not in spec.methods or value is None
            or spec.response_key not in _FOUND_BY_OTHER_MEANS):
        return
    obj = msgspec.json.decode(value) if isinstance(value, msgspec.Raw) else (
        msgspec.to_builtins(value))
    if not await _visible(ctx, grant, obj.get("device_id"),
                                obj.get("connected_account_id")):
        raise NotFound(spec.response_key)


# Served objects a read may find without naming their id; each names its device or account.
_FOUND_BY_OTHER_MEANS = frozenset({"device", "connected_account", "event", "access_code"})
