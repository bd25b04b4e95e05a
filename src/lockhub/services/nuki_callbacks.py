"""Nuki's webhook deliveries, received at `POST /_lockhub/callbacks/nuki/{key}`.

The key (`webhooks.callback_key`) names the account; the delivery is applied only if its
`X-Nuki-Signature-SHA256` is the HMAC-SHA256 of the body with the secret Nuki gave that
account's webhook (stored sealed with its token), so neither knowing the URL nor replaying a
body altered in any way injects events. The reports go through the provider, which shares what
it has already reported with the account's poll in this process, so a change is applied once.
"""

from __future__ import annotations

import hmac
import json

from sqlalchemy import select

from lockhub.errors import Unauthorized
from lockhub.providers.nuki.client import verify_webhook
from lockhub.providers.nuki.provider import NukiProvider
from lockhub.providers.nuki.webhooks import callback_key
from lockhub.secret_box import open_credentials
from lockhub.services import device_reports
from lockhub.services.runtime import Runtime
from lockhub.store.tables import connected_accounts


async def receive(rt: Runtime, key: str, body: bytes, signature: str) -> None:
    """Apply one delivery to the account the key names. Raises Unauthorized for a key lockhub
    did not issue or a signature that does not match, ValueError for a body that is not a
    Nuki delivery."""
    async with rt.db.read() as conn:
        rows = (await conn.execute(
            select(connected_accounts.c.connected_account_id, connected_accounts.c.credentials)
            .where(connected_accounts.c.provider == NukiProvider.name))).all()
    account = next((row for row in rows if hmac.compare_digest(
        key.encode(), callback_key(rt.settings, row.connected_account_id).encode())), None)
    credentials = open_credentials(rt.settings, account.credentials) if account else {}
    secret = str((credentials.get("webhook") or {}).get("secret") or "")
    if account is None or not secret or not verify_webhook(body, signature, secret):
        raise Unauthorized("This delivery is not signed by Nuki for a webhook lockhub "
                           "registered.")
    payload = json.loads(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("feature"), str):
        raise ValueError("the body is not a JSON object with a feature")
    provider = rt.providers.get(NukiProvider.name)
    assert isinstance(provider, NukiProvider)
    try:
        reports = provider.webhook_reports(account.connected_account_id, payload)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a {payload['feature']} delivery without its fields") from exc
    for report in reports:
        await device_reports.apply(rt, account.connected_account_id, report)
