"""Linking a provider account and importing its devices."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from lockhub.catalogue import brand as catalogue_brand
from lockhub.engine.device_codes import schedule_device_sync
from lockhub.ids import new_id
from lockhub.providers.base import AccountRef, DeviceSnapshot
from lockhub.services import events
from lockhub.services.runtime import Runtime
from lockhub.store.tables import connected_accounts, devices


def stable_device_id(workspace_id: str, provider_device_id: str) -> str:
    """Ids of imported devices are derived, so re-importing (or re-seeding) finds the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lockhub-device:{workspace_id}:{provider_device_id}"))


async def connect_account(
    rt: Runtime,
    workspace_id: str,
    account_type: str,
    form: dict[str, Any],
    *,
    provider_name: str = "sandbox",
    connected_account_id: str | None = None,
    pinned_devices: list[tuple[str, str | None]] | None = None,
    automatically_manage_new_devices: bool = True,
) -> str:
    """Sign in to the provider, then record the account and its devices in one transaction.

    Signing in again to the same provider account reuses the existing connected account.
    `pinned_devices` gives (device_id, nickname) for the imported devices in order, so seeds
    can reproduce fixed ids and names.
    """
    provider = rt.providers.get(provider_name)
    login = await provider.login(workspace_id, account_type, form)
    now = rt.clock.now()
    async with rt.db.read() as conn:
        existing = (await conn.execute(select(connected_accounts.c.connected_account_id).where(
            connected_accounts.c.workspace_id == workspace_id,
            connected_accounts.c.account_type == account_type,
            connected_accounts.c.credentials["account_login"].as_string() == login.account_login,
        ))).first()
    account_id = existing.connected_account_id if existing else (connected_account_id or new_id())
    snapshots = await provider.import_devices(AccountRef(
        workspace_id=workspace_id, connected_account_id=account_id,
        account_type=account_type, credentials=login.credentials))
    async with rt.db.write() as conn:
        if existing:
            await conn.execute(update(connected_accounts).where(
                connected_accounts.c.connected_account_id == account_id,
            ).values(credentials=login.credentials, errors=[]))
        else:
            await conn.execute(connected_accounts.insert().values(
                connected_account_id=account_id, workspace_id=workspace_id,
                account_type=account_type, provider=provider_name,
                user_identifier=login.user_identifier, credentials=login.credentials,
                custom_metadata={}, automatically_manage_new_devices=automatically_manage_new_devices,
                errors=[], warnings=[], created_at=now))
            await events.record(conn, now=now, workspace_id=workspace_id,
                                event_type="connected_account.created",
                                connected_account_id=account_id)
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="connected_account.connected",
                            connected_account_id=account_id)
        known = {r.device_id for r in (await conn.execute(select(devices.c.device_id).where(
            devices.c.connected_account_id == account_id))).all()}
        for position, snap in enumerate(snapshots):
            pinned = (pinned_devices or [])[position] if position < len(pinned_devices or []) \
                else None
            device_id = pinned[0] if pinned else stable_device_id(workspace_id,
                                                                   snap.provider_device_id)
            if device_id in known:
                continue
            await _insert_device(rt, conn, workspace_id, account_id, device_id, snap,
                                 nickname=pinned[1] if pinned else None,
                                 managed=automatically_manage_new_devices, position=position)
    return account_id


async def _insert_device(rt: Runtime, conn: Any, workspace_id: str, account_id: str,
                         device_id: str, snap: DeviceSnapshot, *, nickname: str | None,
                         managed: bool, position: int) -> None:
    brand = catalogue_brand(snap.brand)
    now = rt.clock.now()
    await conn.execute(devices.insert().values(
        device_id=device_id, workspace_id=workspace_id, connected_account_id=account_id,
        provider_device_id=snap.provider_device_id, device_type=brand.device_type,
        manufacturer=brand.manufacturer, brand=brand.key, model=snap.model,
        nickname=nickname, display_name=nickname or snap.name, is_managed=managed,
        custom_metadata={}, state=snap.state(), errors=[], warnings=[], location=None,
        # Distinct creation instants keep the list order of one import stable.
        created_at=now + timedelta(microseconds=position),
    ))
    if brand.models[snap.model].online_access_codes:
        await schedule_device_sync(conn, now=now, workspace_id=workspace_id,
                                   device_id=device_id,
                                   delay_seconds=rt.settings.device_sync_seconds)
    await events.record(conn, now=now, workspace_id=workspace_id, event_type="device.added",
                        device_id=device_id, connected_account_id=account_id)
    if snap.online:
        await events.record(conn, now=now, workspace_id=workspace_id,
                            event_type="device.connected", device_id=device_id,
                            connected_account_id=account_id)
