"""The push TTLock sends to an application's callback URL when a lock reports records.

Form-encoded POST with `lockId`, `lockMac`, `notifyType` (1 = records), `admin` (the account)
and `records`, a JSON array string (payload captured in jbergler/hass-ttlock
custom_components/ttlock/__init__.py, handle_webhook). No signature is documented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from tests.fakes.ttlock.world import Lock, Record

NOTIFY_RECORDS = 1


def form(lock: Lock, records: list[Record]) -> dict[str, str]:
    return {"lockId": str(lock.lock_id), "lockMac": lock.mac, "notifyType": str(NOTIFY_RECORDS),
            "admin": lock.owner,
            "records": json.dumps([r.pushed() for r in records], separators=(",", ":"))}


@dataclass
class Pusher:
    """Delivers pushes to `url` (None: nobody registered a callback) and remembers them."""

    url: str | None = None
    delivered: list[tuple[dict[str, str], int]] = field(default_factory=list)  # (form, status)

    def push(self, lock: Lock, records: list[Record]) -> int | None:
        """Deliver now, from the test's thread (the test knows it arrived when this returns)."""
        if self.url is None or not records:
            return None
        body = form(lock, records)
        try:
            status = httpx.post(self.url, data=body, timeout=10).status_code
        except httpx.HTTPError:
            status = 0
        self.delivered.append((body, status))
        return status

    async def push_async(self, lock: Lock, records: list[Record]) -> None:
        """Deliver from the server's loop (after a remote command), without blocking it."""
        if self.url is None or not records:
            return
        body = form(lock, records)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                status = (await client.post(self.url, data=body)).status_code
        except httpx.HTTPError:
            status = 0
        self.delivered.append((body, status))
