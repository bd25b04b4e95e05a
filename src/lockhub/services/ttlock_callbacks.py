"""TTLock's callback push, received at `POST /_lockhub/callbacks/ttlock?clientId=...`.

An open-platform application has one callback URL, set in TTLock's developer console; TTLock
form-POSTs each lock's new records to it within seconds, instead of lockhub finding them at
its next poll. The push carries no signature and no application id, so the URL the user
registers names the application (`clientId`) and carries a key lockhub derives from its own
secret for that application (`lockhub ttlock callback-url --client-id ID` prints it): a push
without the right key is refused, so knowing an application's client id is not enough to inject
events. A push is applied only to accounts signed in through that application that have the
lock. Records are applied once: the poll skips those a push brought.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from urllib.parse import urlencode

from sqlalchemy import select

from lockhub.config import Settings
from lockhub.errors import Unauthorized
from lockhub.providers.ttlock.client import parse_callback
from lockhub.providers.ttlock.mapping import provider_device_id
from lockhub.providers.ttlock.provider import TTLockProvider
from lockhub.secret_box import derived_key, open_credentials
from lockhub.services import device_reports
from lockhub.services.runtime import Runtime
from lockhub.store.tables import access_codes, connected_accounts, devices

log = logging.getLogger("lockhub.providers.ttlock")

PATH = "/_lockhub/callbacks/ttlock"


def callback_key(settings: Settings, client_id: str) -> str:
    """The key the callback URL of one TTLock application carries."""
    digest = hmac.new(derived_key(settings, "ttlock-callback"), client_id.encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def callback_url(settings: Settings, client_id: str) -> str:
    query = urlencode({"clientId": client_id, "key": callback_key(settings, client_id)})
    return f"{settings.base_url}{PATH}?{query}"


async def receive(rt: Runtime, form: Mapping[str, str], client_id: str, key: str) -> int:
    """Apply a push's records to every matching account; returns how many accounts took it.
    Raises ValueError when the form is not a TTLock push, Unauthorized without the right key."""
    if not client_id or not hmac.compare_digest(key.encode(),
                                                callback_key(rt.settings, client_id).encode()):
        raise Unauthorized("This callback URL is not one lockhub issued for this TTLock "
                           "application (lockhub ttlock callback-url prints it).")
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
