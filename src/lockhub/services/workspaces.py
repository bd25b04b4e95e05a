"""Workspaces: read, create (with a PAT or an API key), the first run's workspace, and reset a
sandbox to its seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.domain.objects import ConnectWebviewCustomization, Workspace
from lockhub.engine import jobs
from lockhub.engine.jobs import Job
from lockhub.errors import LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.services import action_attempts, credentials
from lockhub.services.runtime import Runtime
from lockhub.store import tables as t

RESET_KIND = "reset_sandbox"


def to_workspace(row: Any) -> Workspace:
    workspace = Workspace(
        workspace_id=row.workspace_id, name=row.name, company_name=row.company_name,
        connect_partner_name=row.connect_partner_name, is_sandbox=row.is_sandbox,
        is_suspended=row.is_suspended,
        is_publishable_key_auth_enabled=row.is_publishable_key_auth_enabled,
        organization_id=row.organization_id,
        connect_webview_customization=msgspec.convert(row.connect_webview_customization,
                                                      ConnectWebviewCustomization),
    )
    if row.publishable_key:
        workspace.publishable_key = row.publishable_key
    return workspace


async def is_sandbox(conn: AsyncConnection, workspace_id: str) -> bool:
    return bool((await conn.execute(select(t.workspaces.c.is_sandbox).where(
        t.workspaces.c.workspace_id == workspace_id))).scalar_one_or_none())


# What the fake's test hooks may act on, by Seam resource name.
_HOOKED = {"action_attempt": (t.action_attempts, t.action_attempts.c.action_attempt_id),
           "connect_webview": (t.connect_webviews, t.connect_webviews.c.connect_webview_id)}


async def sandbox_owner(rt: Runtime, resource: str, row_id: str) -> str:
    """The workspace of a row, which must be a sandbox one. The unauthenticated test hooks act
    only on sandbox workspaces: another workspace's row gets the same 404 as an unknown id."""
    table, id_column = _HOOKED[resource]
    async with rt.db.read() as conn:
        workspace_id = (await conn.execute(select(table.c.workspace_id).join(
            t.workspaces, t.workspaces.c.workspace_id == table.c.workspace_id,
        ).where(id_column == row_id, t.workspaces.c.is_sandbox.is_(True)))).scalar_one_or_none()
    if workspace_id is None:
        raise NotFound(resource, {id_column.name: row_id})
    return workspace_id


async def simulate_outage(rt: Runtime, workspace_id: str, routes: list[str] | None) -> None:
    """Make `routes` answer 503 for a sandbox workspace, in every process (the change reaches
    each process's remembered credentials through the read model); None ends the outage.
    Another workspace gets the same 404 as an unknown one (the hooks take no credentials)."""
    async with rt.db.write() as conn:
        changed = await conn.execute(update(t.workspaces).where(
            t.workspaces.c.workspace_id == workspace_id, t.workspaces.c.is_sandbox.is_(True),
        ).values(outage_routes=sorted(set(routes)) if routes else None))
    if not changed.rowcount:
        raise NotFound("workspace", {"workspace_id": workspace_id})


async def get(rt: Runtime, workspace_id: str) -> Workspace:
    async with rt.db.read() as conn:
        row = (await conn.execute(select(t.workspaces).where(
            t.workspaces.c.workspace_id == workspace_id))).first()
    if row is None:
        raise NotFound("workspace", {"workspace_id": workspace_id})
    return to_workspace(row)


async def list_for(rt: Runtime, *, workspace_id: str | None, user_id: str | None) -> list[Workspace]:
    query = select(t.workspaces)
    if user_id is not None:
        query = query.join(t.workspace_members, t.workspace_members.c.workspace_id
                           == t.workspaces.c.workspace_id).where(
            t.workspace_members.c.user_id == user_id)
    else:
        query = query.where(t.workspaces.c.workspace_id == workspace_id)
    async with rt.db.read() as conn:
        rows = (await conn.execute(query.order_by(t.workspaces.c.created_at))).all()
    return [to_workspace(r) for r in rows]


async def create(rt: Runtime, *, user_id: str | None, name: str, is_sandbox: bool,
                 company_name: str | None = None, connect_partner_name: str | None = None,
                 customization: dict[str, Any] | None = None,
                 organization_id: str | None = None, workspace_id: str | None = None,
                 sandbox_seed: str | None = None, publishable_key: str | None = None) -> Workspace:
    now = rt.clock.now()
    workspace_id = workspace_id or new_id()
    async with rt.db.write() as conn:
        await _insert(conn, now=now, workspace_id=workspace_id, name=name, is_sandbox=is_sandbox,
                      company_name=company_name, connect_partner_name=connect_partner_name,
                      customization=customization, organization_id=organization_id,
                      sandbox_seed=sandbox_seed, publishable_key=publishable_key)
        if user_id is not None:
            await conn.execute(t.workspace_members.insert().values(
                workspace_id=workspace_id, user_id=user_id))
    return await get(rt, workspace_id)


async def _insert(conn: AsyncConnection, *, now: datetime, workspace_id: str, name: str,
                  is_sandbox: bool, company_name: str | None = None,
                  connect_partner_name: str | None = None,
                  customization: dict[str, Any] | None = None,
                  organization_id: str | None = None, sandbox_seed: str | None = None,
                  publishable_key: str | None = None) -> None:
    await conn.execute(t.workspaces.insert().values(
        workspace_id=workspace_id, name=name,
        company_name=company_name or connect_partner_name or name,
        connect_partner_name=connect_partner_name, is_sandbox=is_sandbox,
        is_suspended=False, is_publishable_key_auth_enabled=publishable_key is not None,
        publishable_key=publishable_key, organization_id=organization_id,
        connect_webview_customization=customization or {}, sandbox_seed=sandbox_seed,
        created_at=now))


async def create_with_api_key(rt: Runtime, *, name: str, is_sandbox: bool,
                              key_name: str) -> tuple[str, str]:
    """A new workspace and one API key for it, in one transaction: (workspace_id, key)."""
    now = rt.clock.now()
    workspace_id = new_id()
    async with rt.db.write() as conn:
        await _insert(conn, now=now, workspace_id=workspace_id, name=name, is_sandbox=is_sandbox)
        key = await credentials.create_api_key(conn, now=now, workspace_id=workspace_id,
                                               name=key_name, sandbox=is_sandbox)
    return workspace_id, key


FIRST_RUN_WORKSPACE = "Production"


async def first_run(rt: Runtime) -> tuple[str, str] | None:
    """On a database without any workspace, create one production workspace and an API key
    for it: (workspace_id, key), the key shown only to this caller. Any workspace at all (a
    seed, one made by `lockhub workspaces create`, one whose keys were all revoked) means the
    server was set up already: None, nothing created."""
    async with rt.db.read() as conn:
        if (await conn.execute(select(t.workspaces.c.workspace_id).limit(1))).first():
            return None
    now = rt.clock.now()
    workspace_id = new_id()
    async with rt.db.write() as conn:
        if conn.dialect.name == "postgresql":
            # Two servers starting at once on an empty database: one creates, the other waits
            # here and then finds the workspace (SQLite's BEGIN IMMEDIATE already serialises).
            await conn.execute(text("LOCK TABLE workspaces IN SHARE ROW EXCLUSIVE MODE"))
        if (await conn.execute(select(t.workspaces.c.workspace_id).limit(1))).first():
            return None
        await _insert(conn, now=now, workspace_id=workspace_id, name=FIRST_RUN_WORKSPACE,
                      is_sandbox=False)
        key = await credentials.create_api_key(conn, now=now, workspace_id=workspace_id,
                                               name="First-run API key", sandbox=False)
    return workspace_id, key


@dataclass(frozen=True)
class WorkspaceSummary:
    workspace_id: str
    name: str
    is_sandbox: bool
    is_suspended: bool
    created_at: datetime
    api_keys: int


async def list_all(rt: Runtime) -> list[WorkspaceSummary]:
    """Every workspace, oldest first, with how many API keys it has (for administrators)."""
    W, K = t.workspaces, t.api_keys
    keys = select(func.count()).where(K.c.workspace_id == W.c.workspace_id).scalar_subquery()
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(
            W.c.workspace_id, W.c.name, W.c.is_sandbox, W.c.is_suspended, W.c.created_at,
            keys.label("api_keys")).order_by(W.c.created_at, W.c.workspace_id))).all()
    return [WorkspaceSummary(r.workspace_id, r.name, r.is_sandbox, r.is_suspended,
                             r.created_at, r.api_keys) for r in rows]


async def update_workspace(rt: Runtime, workspace_id: str, values: dict[str, Any],
                           customization: dict[str, Any] | None) -> None:
    """Change the workspace's columns in `values`; `customization` keys replace those stored
    (None removes one, so its default applies)."""
    async with rt.db.write() as conn:
        row = (await conn.execute(select(t.workspaces.c.connect_webview_customization).where(
            t.workspaces.c.workspace_id == workspace_id))).first()
        if row is None:
            raise NotFound("workspace", {"workspace_id": workspace_id})
        if customization is not None:
            merged = {**row.connect_webview_customization, **customization}
            values = {**values, "connect_webview_customization": {
                k: v for k, v in merged.items() if v is not None}}
        if values:
            await conn.execute(update(t.workspaces).where(
                t.workspaces.c.workspace_id == workspace_id).values(**values))


async def set_suspended(rt: Runtime, workspace_id: str, suspended: bool) -> Workspace:
    """Suspend (or restore) a workspace: while suspended, every request made as it is refused."""
    async with rt.db.write() as conn:
        changed = (await conn.execute(update(t.workspaces).where(
            t.workspaces.c.workspace_id == workspace_id,
        ).values(is_suspended=suspended))).rowcount
    if not changed:
        raise NotFound("workspace", {"workspace_id": workspace_id})
    return await get(rt, workspace_id)


async def delete_workspace(rt: Runtime, workspace_id: str) -> None:
    """Delete a workspace and everything in it; its keys stop working on the next request."""
    async with rt.db.write() as conn:
        # Jobs carry no foreign key (the queue is shared); every other row cascades.
        await conn.execute(delete(t.jobs).where(t.jobs.c.workspace_id == workspace_id))
        deleted = (await conn.execute(delete(t.workspaces).where(
            t.workspaces.c.workspace_id == workspace_id))).rowcount
        if not deleted:
            raise NotFound("workspace", {"workspace_id": workspace_id})


async def request_reset(rt: Runtime, workspace_id: str) -> str:
    """Start a sandbox reset; the engine wipes and reseeds, then settles the attempt."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = (await conn.execute(select(t.workspaces.c.is_sandbox).where(
            t.workspaces.c.workspace_id == workspace_id))).first()
        if row is None or not row.is_sandbox:
            raise LockhubError("Only sandbox workspaces can be reset.",
                               error_type="workspace_not_sandbox")
        attempt = await action_attempts.create(conn, now=now, workspace_id=workspace_id,
                                               action_type="RESET_SANDBOX_WORKSPACE",
                                               device_id=None)
        await jobs.enqueue(conn, now=now, workspace_id=workspace_id, kind=RESET_KIND,
                           key=f"workspace:{workspace_id}",
                           payload={"action_attempt_id": attempt.action_attempt_id})
    rt.wake_engine()
    return attempt.action_attempt_id


async def wipe(rt: Runtime, workspace_id: str, *, keep_attempt: str | None,
               keep_job: str | None) -> None:
    """Delete the workspace's devices, accounts, webviews, client sessions, access grants (and
    their methods), events, attempts, jobs and virtual locks.

    The workspace itself, its API keys, members, publishable key, webhooks and user identities
    stay (without the devices granted to them); its clock runs real time.
    """
    async with rt.db.write() as conn:
        await conn.execute(update(t.workspaces).where(
            t.workspaces.c.workspace_id == workspace_id,
        ).values(clock_offset_seconds=0.0, clock_frozen_at=None))
        for table in (t.webhook_deliveries, t.access_codes, t.thermostat_schedules,
                      t.noise_thresholds, t.devices, t.connected_accounts,
                      t.connect_webviews, t.client_sessions, t.user_identity_devices,
                      t.access_grants, t.events, t.sandbox_devices):
            await conn.execute(delete(table).where(table.c.workspace_id == workspace_id))
        await conn.execute(delete(t.action_attempts).where(
            t.action_attempts.c.workspace_id == workspace_id,
            t.action_attempts.c.action_attempt_id != (keep_attempt or "")))
        await conn.execute(delete(t.jobs).where(
            t.jobs.c.workspace_id == workspace_id, t.jobs.c.job_id != (keep_job or "")))


async def run_reset_sandbox(rt: Runtime, job: Job) -> None:
    from lockhub.services.seed import load_sandbox_seed

    attempt_id = job.payload["action_attempt_id"]
    await wipe(rt, job.workspace_id, keep_attempt=attempt_id, keep_job=job.job_id)
    async with rt.db.read() as conn:
        seed_name = (await conn.execute(select(t.workspaces.c.sandbox_seed).where(
            t.workspaces.c.workspace_id == job.workspace_id))).scalar_one_or_none()
    if seed_name:
        await load_sandbox_seed(rt, job.workspace_id, seed_name)
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await action_attempts.get_row(conn, job.workspace_id, attempt_id)
        await action_attempts.resolve(conn, now=now, row=row, succeeded=True, result={})
        await jobs.finish(conn, job.job_id)
    rt.announce_resolution()
