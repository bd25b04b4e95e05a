"""Linking a provider account and importing its devices."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.catalogue import brand as catalogue_brand
from lockhub.catalogue import brands as catalogue_brands
from lockhub.catalogue import with_facts
from lockhub.clock import iso
from lockhub.domain.devices import initial_settings
from lockhub.domain.objects import ConnectedAccount
from lockhub.engine.code_jobs import schedule_sync
from lockhub.engine.device_codes import schedule_device_sync
from lockhub.engine.device_reports import FIRST_REPORT_DELAY, schedule_report
from lockhub.errors import LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.providers.base import AccountRef, DeviceSnapshot, ProviderError
from lockhub.providers.refs import account_ref, device_ref
from lockhub.secret_box import seal_credentials
from lockhub.services import devices as device_service
from lockhub.services import events, noise_sensors
from lockhub.services.custom_metadata import merge_custom_metadata, metadata_has_conditions
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store.keyset import keyset_page
from lockhub.store.tables import access_codes, connected_accounts, devices, jobs, workspaces

log = logging.getLogger("lockhub.connected_accounts")
FORGET_TIMEOUT_SECONDS = 10.0


def stable_device_id(workspace_id: str, provider_device_id: str) -> str:
    """Ids of imported devices are derived, so re-importing (or re-seeding) finds the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lockhub-device:{workspace_id}:{provider_device_id}"))


class NewAccountSettings(msgspec.Struct, frozen=True):
    """What the sign-in (a Connect Webview, or a seed) asks of the account it creates."""

    automatically_manage_new_devices: bool = True
    custom_metadata: dict[str, Any] = {}
    customer_key: str | None = None
    accepted_capabilities: list[str] | None = None
    connect_webview_id: str | None = None


# Runs inside the transaction that records the account (a Connect Webview marks itself
# authorized there), so the account and what led to it are written together or not at all.
WithinConnect = Callable[[AsyncConnection, str], Awaitable[None]]


async def connect_account(
    rt: Runtime,
    workspace_id: str,
    account_type: str,
    form: dict[str, Any],
    *,
    provider_name: str = "sandbox",
    connected_account_id: str | None = None,
    pinned_devices: list[tuple[str, str | None]] | None = None,
    settings: NewAccountSettings = NewAccountSettings(),
    within: WithinConnect | None = None,
) -> str:
    """Sign in to the provider, then record the account and its devices in one transaction.

    Signing in again to the same provider account reuses (reconnects) the existing connected
    account. `pinned_devices` gives (device_id, nickname) for the imported devices in order,
    so seeds can reproduce fixed ids and names. Devices are imported before this returns, so
    `wait_for_device_creation` holds whether or not it was asked for.
    """
    provider = rt.providers.get(provider_name)
    login = await provider.login(workspace_id, account_type, form)
    now = rt.clock.now()
    async with rt.db.read() as conn:
        existing = (await conn.execute(select(connected_accounts).where(
            connected_accounts.c.workspace_id == workspace_id,
            connected_accounts.c.account_type == account_type,
            connected_accounts.c.credentials["account_login"].as_string() == login.account_login,
        ))).first()
    if existing and settings.customer_key and existing.customer_key \
            and existing.customer_key != settings.customer_key:
        raise ProviderError("account_belongs_to_another_customer",
                            "This account is already connected for another customer.")
    account_id = existing.connected_account_id if existing else (connected_account_id or new_id())
    snapshots = await provider.import_devices(AccountRef(
        workspace_id=workspace_id, connected_account_id=account_id,
        account_type=account_type, credentials=login.credentials))
    webview = {"connect_webview_id": settings.connect_webview_id}
    stored_credentials = seal_credentials(rt.settings, login.account_login, login.credentials)
    async with rt.db.write() as conn:
        if existing:
            changes: dict[str, Any] = {"credentials": stored_credentials, "errors": []}
            if settings.custom_metadata:
                changes["custom_metadata"] = {**existing.custom_metadata,
                                              **settings.custom_metadata}
            if settings.customer_key is not None:
                changes["customer_key"] = settings.customer_key
            await conn.execute(update(connected_accounts).where(
                connected_accounts.c.connected_account_id == account_id).values(**changes))
            await _reconnected(conn, rt, workspace_id, account_id)
            manage = existing.automatically_manage_new_devices
        else:
            manage = settings.automatically_manage_new_devices
            await conn.execute(connected_accounts.insert().values(
                connected_account_id=account_id, workspace_id=workspace_id,
                account_type=account_type, provider=provider_name,
                user_identifier=login.user_identifier, credentials=stored_credentials,
                custom_metadata=dict(settings.custom_metadata),
                customer_key=settings.customer_key,
                accepted_capabilities=settings.accepted_capabilities,
                automatically_manage_new_devices=manage,
                errors=[], warnings=[], created_at=now))
            await events.record(conn, now=now, workspace_id=workspace_id,
                                event_type="connected_account.created",
                                connected_account_id=account_id, **webview)
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="connected_account.connected",
                            connected_account_id=account_id, **webview)
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="connected_account.successful_login",
                            connected_account_id=account_id, **webview)
        known = {r.device_id for r in (await conn.execute(select(devices.c.device_id).where(
            devices.c.connected_account_id == account_id))).all()}
        for position, snap in enumerate(snapshots):
            pinned = (pinned_devices or [])[position] if position < len(pinned_devices or []) \
                else None
            device_id = pinned[0] if pinned else stable_device_id(workspace_id,
                                                                   snap.provider_device_id)
            if device_id in known:
                continue
            await insert_device(rt, conn, workspace_id, account_id, device_id, snap,
                                 nickname=pinned[1] if pinned else None,
                                 managed=manage, position=position)
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="connected_account.completed_first_sync_after_reconnection"
                            if existing else "connected_account.completed_first_sync",
                            connected_account_id=account_id)
        if within is not None:
            await within(conn, account_id)
    rt.wake_engine()
    return account_id


async def insert_device(rt: Runtime, conn: Any, workspace_id: str, account_id: str,
                        device_id: str, snap: DeviceSnapshot, *, nickname: str | None,
                        managed: bool, position: int) -> None:
    """Record a newly found device (`device.added`, and `device.connected` when online)."""
    brand = catalogue_brand(snap.brand)
    model = with_facts(brand.models[snap.model], snap.model_facts)
    now = rt.clock.now()
    await conn.execute(devices.insert().values(
        device_id=device_id, workspace_id=workspace_id, connected_account_id=account_id,
        provider_device_id=snap.provider_device_id,
        device_type=snap.device_type or brand.device_type,
        manufacturer=snap.manufacturer or brand.manufacturer, brand=brand.key, model=snap.model,
        nickname=nickname, display_name=nickname or snap.name, is_managed=managed,
        custom_metadata={}, state=snap.state(), errors=[], warnings=[], location=None,
        # Distinct creation instants keep the list order of one import stable.
        created_at=now + timedelta(microseconds=position), kind=model.kind,
        settings=initial_settings(model, snap.climate_presets),
    ))
    if model.noise_sensor is not None:
        await noise_sensors.add_default_thresholds(conn, now=now, workspace_id=workspace_id,
                                                   device_id=device_id, model=model)
    if model.kind != "lock":
        # A thermostat's room and a sensor's noise change by themselves (engine/device_reports);
        # what it reports now is in `snap`, so the first look is one report interval away
        # (moving a sandbox clock makes it due at once).
        await schedule_report(conn, now=now, workspace_id=workspace_id, device_id=device_id,
                              run_at=now + FIRST_REPORT_DELAY)
    if model.online_access_codes:
        await schedule_device_sync(conn, now=now, workspace_id=workspace_id,
                                   device_id=device_id,
                                   delay_seconds=rt.settings.device_sync_seconds)
    await events.record(conn, now=now, workspace_id=workspace_id, event_type="device.added",
                        device_id=device_id, connected_account_id=account_id)
    if snap.online:
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="device.connected", device_id=device_id,
                            connected_account_id=account_id)


# --- reading and changing accounts -----------------------------------------------------------

ACCOUNT_DISCONNECTED = "account_disconnected"


def to_connected_account(row: Any, base_url: str) -> ConnectedAccount:
    """The served account of a row; `base_url` is lockhub's public one (images are served
    there)."""
    brand = catalogue_brands().get(row.account_type)
    identity = row.user_identifier or {}
    account = ConnectedAccount(
        connected_account_id=row.connected_account_id,
        account_type_display_name=brand.display_name if brand else row.account_type,
        display_name=row.display_name or next(iter(identity.values()), row.account_type),
        errors=list(row.errors), warnings=list(row.warnings),
        custom_metadata=dict(row.custom_metadata),
        automatically_manage_new_devices=row.automatically_manage_new_devices,
        accepted_capabilities=list(row.accepted_capabilities or ["lock"]),
        account_type=row.account_type, created_at=iso(row.created_at),
        user_identifier=dict(identity))
    if brand:
        account.image_url = brand.image_url(base_url)
    if row.customer_key:
        account.customer_key = row.customer_key
    return account


async def get_row(conn: AsyncConnection, workspace_id: str, *,
                  connected_account_id: str | None = None, email: str | None = None) -> Any:
    query = select(connected_accounts).where(connected_accounts.c.workspace_id == workspace_id)
    if connected_account_id is not None:
        query = query.where(connected_accounts.c.connected_account_id == connected_account_id)
    if email is not None:
        query = query.where(func.lower(
            connected_accounts.c.user_identifier["email"].as_string()) == email.lower())
    row = (await conn.execute(query.order_by(connected_accounts.c.created_at).limit(1))).first()
    if row is None:
        raise NotFound("connected_account", {"connected_account_id": connected_account_id}
                       if connected_account_id else None)
    return row


async def list_rows(conn: AsyncConnection, workspace_id: str, *, search: str | None,
                    customer_key: str | None, custom_metadata_has: dict[str, Any] | None,
                    after: tuple[datetime, str] | None,
                    limit: int) -> tuple[list[Any], tuple[str, str] | None]:
    C = connected_accounts
    cond: list[Any] = [C.c.workspace_id == workspace_id]
    if customer_key is not None:
        cond.append(C.c.customer_key == customer_key)
    cond.extend(metadata_has_conditions(C.c.custom_metadata, custom_metadata_has))
    if search:
        needle = f"%{search.lower()}%"
        cond.append(or_(func.lower(cast(C.c.user_identifier, String)).like(needle),
                        func.lower(C.c.account_type).like(needle),
                        C.c.connected_account_id.startswith(search)))
    return await keyset_page(conn, select(C).where(*cond), C.c.created_at,
                             C.c.connected_account_id, after=after, limit=limit)


async def update_account(rt: Runtime, workspace_id: str, connected_account_id: str,
                         values: dict[str, Any]) -> None:
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, connected_account_id=connected_account_id)
        if "custom_metadata" in values:
            values["custom_metadata"] = merge_custom_metadata(row.custom_metadata,
                                                              values["custom_metadata"])
        if values:
            await conn.execute(update(connected_accounts).where(
                connected_accounts.c.connected_account_id == row.connected_account_id,
            ).values(**values))


async def delete_account(rt: Runtime, workspace_id: str, connected_account_id: str) -> None:
    """Remove the account and everything under it from lockhub (PINs stay on the locks), with
    a deleted event for each removed resource."""
    now = rt.clock.now()
    async with rt.db.write() as conn:
        row = await get_row(conn, workspace_id, connected_account_id=connected_account_id)
        device_rows = (await conn.execute(select(devices).where(
            devices.c.connected_account_id == connected_account_id))).all()
        for device in device_rows:
            await _forget_device(conn, now, device)
        await conn.execute(connected_accounts.delete().where(
            connected_accounts.c.connected_account_id == connected_account_id))
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="connected_account.deleted",
                            connected_account_id=connected_account_id,
                            connected_account_type=row.account_type)
    await _forget_at_provider(rt, row)


async def delete_device(rt: Runtime, workspace_id: str, device_id: str) -> None:
    """Remove one device and its codes from lockhub (Seam's deprecated /devices/delete): PINs
    stay on the lock, and signing in to its account again imports the device anew (with a new
    id) if the provider still reports it."""
    async with rt.db.write() as conn:
        device = (await conn.execute(select(devices).where(
            devices.c.workspace_id == workspace_id, devices.c.device_id == device_id))).first()
        if device is None:
            raise NotFound("device", {"device_id": device_id})
        await _forget_device(conn, rt.clock.now(), device)
        await conn.execute(devices.delete().where(devices.c.device_id == device_id))


async def _forget_device(conn: AsyncConnection, now: datetime, device: Any) -> None:
    """The deleted events of a device and its managed codes, and its queued work gone."""
    workspace_id, account_id = device.workspace_id, device.connected_account_id
    codes = (await conn.execute(select(access_codes).where(
        access_codes.c.device_id == device.device_id))).all()
    for code in codes:
        if code.is_managed:
            await events.record(conn, now=now, workspace_id=workspace_id,
                                event_type="access_code.deleted",
                                access_code_id=code.access_code_id, device_id=device.device_id,
                                connected_account_id=account_id, code=code.code)
    await events.record(conn, now=now, workspace_id=workspace_id, event_type="device.deleted",
                        device_id=device.device_id, connected_account_id=account_id,
                        device_name=device.display_name)
    await conn.execute(jobs.delete().where(jobs.c.key == f"device:{device.device_id}"))


async def _forget_at_provider(rt: Runtime, row: Any) -> None:
    """Let the provider undo what it registered at the brand for the account (a webhook),
    best effort: the account is gone from lockhub either way."""
    forget = getattr(rt.providers.get(row.provider), "forget", None)
    if forget is None:
        return
    try:
        await asyncio.wait_for(forget(account_ref(rt.settings, row)), FORGET_TIMEOUT_SECONDS)
    except Exception as exc:  # a brand's failure must not fail the deletion
        log.warning("%s kept what it registered for deleted account %s: %s", row.provider,
                    row.connected_account_id, exc)


async def simulate_disconnect(rt: Runtime, workspace_id: str, connected_account_id: str) -> None:
    """Sandbox: the account's credentials stop working. The account and its devices carry
    account_disconnected, its codes become unknown; a new sign-in reconnects it."""
    async with rt.db.write() as conn:
        sandbox = (await conn.execute(select(workspaces.c.is_sandbox).where(
            workspaces.c.workspace_id == workspace_id))).scalar_one_or_none()
        if not sandbox:
            raise LockhubError("This route is only available in sandbox workspaces.",
                               error_type="workspace_not_sandbox")
        row = await get_row(conn, workspace_id, connected_account_id=connected_account_id)
        if any(e.get("error_code") == ACCOUNT_DISCONNECTED for e in row.errors):
            return
        await mark_disconnected(conn, now=rt.clock.now(), row=row,
                                message="The account's credentials no longer work; reconnect it.")


async def mark_disconnected(conn: AsyncConnection, *, now: datetime, row: Any,
                            message: str) -> None:
    """The account can no longer be reached (credentials refused, controller or broker gone):
    it and its devices carry account_disconnected and its codes become unknown."""
    workspace_id, connected_account_id = row.workspace_id, row.connected_account_id
    error = {"error_code": ACCOUNT_DISCONNECTED, "is_connected_account_error": True,
             "is_bridge_error": False, "created_at": iso(now), "message": message}
    await conn.execute(update(connected_accounts).where(
        connected_accounts.c.connected_account_id == connected_account_id,
    ).values(errors=list(row.errors) + [error]))
    await events.record(conn, now=now, workspace_id=workspace_id,
                        event_type="connected_account.disconnected",
                        connected_account_id=connected_account_id,
                        connected_account_errors=list(row.errors) + [error],
                        connected_account_warnings=list(row.warnings))
    device_error = {**error, "is_device_error": False}
    for device in (await conn.execute(select(devices).where(
            devices.c.connected_account_id == connected_account_id))).all():
        await conn.execute(update(devices).where(devices.c.device_id == device.device_id)
                           .values(errors=list(device.errors) + [device_error]))
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="device.disconnected", device_id=device.device_id,
                            connected_account_id=connected_account_id,
                            error_code=ACCOUNT_DISCONNECTED)
        codes = (await conn.execute(select(access_codes).where(
            access_codes.c.device_id == device.device_id,
            access_codes.c.is_managed.is_(True)))).all()
        for code in codes:
            await conn.execute(update(access_codes).where(
                access_codes.c.access_code_id == code.access_code_id).values(
                status="unknown", errors=[e for e in code.errors if e.get("error_code")
                                          != ACCOUNT_DISCONNECTED] + [device_error]))


async def mark_reconnected(conn: AsyncConnection, rt: Runtime, *, row: Any) -> None:
    """The live connection is back: the account error clears, devices reconnect and every
    code is reconciled at once (pending work converges)."""
    now = rt.clock.now()
    await conn.execute(update(connected_accounts).where(
        connected_accounts.c.connected_account_id == row.connected_account_id,
    ).values(errors=[e for e in row.errors if e.get("error_code") != ACCOUNT_DISCONNECTED]))
    await events.record(conn, now=now, workspace_id=row.workspace_id,
                        event_type="connected_account.connected",
                        connected_account_id=row.connected_account_id)
    for device in (await conn.execute(select(devices).where(
            devices.c.connected_account_id == row.connected_account_id))).all():
        if device.state.get("online"):
            await events.record(conn, now=now, workspace_id=row.workspace_id,
                                event_type="device.connected", device_id=device.device_id,
                                connected_account_id=row.connected_account_id)
    await _reconnected(conn, rt, row.workspace_id, row.connected_account_id)


async def _reconnected(conn: AsyncConnection, rt: Runtime, workspace_id: str,
                       account_id: str) -> None:
    """A new sign-in restores a disconnected account: errors clear and codes re-sync."""
    now = rt.clock.now()
    clock = await workspace_clock(conn, workspace_id, now)
    for device in (await conn.execute(select(devices).where(
            devices.c.connected_account_id == account_id))).all():
        await conn.execute(update(devices).where(devices.c.device_id == device.device_id).values(
            errors=[e for e in device.errors if e.get("error_code") != ACCOUNT_DISCONNECTED]))
        for code in (await conn.execute(select(access_codes).where(
                access_codes.c.device_id == device.device_id))).all():
            await conn.execute(update(access_codes).where(
                access_codes.c.access_code_id == code.access_code_id).values(
                errors=[e for e in code.errors if e.get("error_code") != ACCOUNT_DISCONNECTED]))
            await schedule_sync(conn, clock, workspace_id=workspace_id,
                                device_id=device.device_id, access_code_id=code.access_code_id)


async def sync_account(rt: Runtime, workspace_id: str, connected_account_id: str) -> None:
    """Refresh every device's state from the provider and queue a read-back of its PINs."""
    async with rt.db.read() as conn:
        account = await get_row(conn, workspace_id, connected_account_id=connected_account_id)
        rows = (await conn.execute(select(devices).where(
            devices.c.connected_account_id == connected_account_id))).all()
    provider = rt.providers.get(account.provider)
    for device in rows:
        ref = device_ref(rt.settings, device, account)
        try:
            snapshot = await provider.read_state(ref)
        except ProviderError:
            continue
        async with rt.db.write() as conn:
            current = await device_service.get_row(conn, workspace_id,
                                                   device_id=device.device_id, managed=None)
            await device_service.apply_snapshot(conn, now=rt.clock.now(), row=current,
                                                state=device_service.merged_state(current, snapshot))
            await schedule_device_sync(conn, now=rt.clock.now(), workspace_id=workspace_id,
                                       device_id=device.device_id)
    rt.wake_engine()


async def connect_directly(rt: Runtime, workspace_id: str, account_type: str,
                           form: dict[str, Any]) -> tuple[str, list[Any]]:
    """Sign in without a Connect Webview (headless setups: `lockhub connect ...`); returns the
    account id and its devices. Only providers the workspace is offered may be used."""
    async with rt.db.read() as conn:
        is_sandbox = (await conn.execute(select(workspaces.c.is_sandbox).where(
            workspaces.c.workspace_id == workspace_id))).scalar_one_or_none()
    if is_sandbox is None:
        raise NotFound("workspace", {"workspace_id": workspace_id})
    provider = rt.providers.for_workspace(is_sandbox).get(account_type)
    if provider is None:
        kind = "sandbox" if is_sandbox else "production"
        raise LockhubError(f"{account_type} cannot be connected to a {kind} workspace.",
                           error_type="provider_not_available")
    try:
        account_id = await connect_account(rt, workspace_id, account_type, form,
                                           provider_name=provider.name)
    except ProviderError as exc:
        raise LockhubError(exc.message, error_type=exc.error_type) from exc
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(devices).where(
            devices.c.connected_account_id == account_id).order_by(
            devices.c.created_at, devices.c.device_id))).all()
    return account_id, [device_service.to_device(row, rt.settings.base_url) for row in rows]


async def store_refreshed_credentials(rt: Runtime, connected_account_id: str,
                                      credentials: dict[str, Any]) -> dict[str, Any] | None:
    """Keep the tokens a provider just refreshed (sealed, the account's identity unchanged);
    returns the stored value, or None if the account is gone."""
    async with rt.db.write() as conn:
        row = (await conn.execute(select(connected_accounts.c.credentials).where(
            connected_accounts.c.connected_account_id == connected_account_id))).first()
        if row is None:
            return None
        stored = seal_credentials(rt.settings, row.credentials["account_login"], credentials)
        await conn.execute(update(connected_accounts).where(
            connected_accounts.c.connected_account_id == connected_account_id,
        ).values(credentials=stored))
    return stored
