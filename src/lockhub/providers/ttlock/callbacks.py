"""TTLock's callback push, received at `POST /_lockhub/callbacks/ttlock?clientId=...`.

An open-platform application has one callback URL, set in TTLock's developer console; TTLock
form-POSTs each lock's new records to it within seconds, instead of lockhub finding them at
its next poll. The push carries no signature and no application id, so the URL the user
registers names the application (`clientId`): a push is applied only to accounts signed in
through that application that have the lock. Keep
the URL private. Records are applied once: the poll skips those a push brought.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select

from lockhub.providers.ttlock.client import parse_callback
from lockhub.providers.ttlock.mapping import provider_device_id
from lockhub.providers.ttlock.provider import TTLockProvider
from lockhub.secret_box import open_credentials
from lockhub.services import device_reports
from lockhub.services.runtime import Runtime
from lockhub.store.tables import access_codes, connected_accounts, devices

log = logging.getLogger("lockhub.providers.ttlock")

PATH = "/_lockhub/callbacks/ttlock"


async def receive(rt: Runtime, form: Mapping[str, str], client_id: str) -> int:
    """Apply a push's records to every matching account; returns how many accounts took it.
    Raises ValueError when the form is not a TTLock push."""
    push = parse_callback(form)
    provider = rt.providers.get(TTLockProvider.name)
    assert isinstance(provider, TTLockProvider)
    pdid = provider_device_id(push.lock_id)
    async with rt.db.read() as conn:
        rows = (await conn.execute(
            select(connected_accounts, devices.c.device_id)
            .join(devices, devices.c.connected_account_id
                  == connected_accounts.c.connected_account_id)
            .where(connected_accounts.c.provider == TTLockProvider.name,
                   devices.c.provider_device_id == pdid))).all()
        targets = []
        for row in rows:
            credentials = open_credentials(rt.settings, row.credentials)
            if not client_id or credentials.get("client_id") != client_id:
                continue
            codes = (await conn.execute(select(access_codes.c.code, access_codes.c.device_ref)
                                        .where(access_codes.c.device_id == row.device_id,
                                               access_codes.c.device_ref.is_not(None)))).all()
            targets.append((row.connected_account_id,
                            {c.code: c.device_ref for c in codes if c.code}))
    for account_id, code_refs in targets:
        for record in push.records:
            if record.lock_id != push.lock_id:
                continue
            report = provider.record_report(account_id, record, code_refs)
            if report is not None:
                await device_reports.apply(rt, account_id, report)
    if not targets:
        log.info("TTLock callback for lock %s matched no account", push.lock_id)
    return len(targets)
