"""Decentral webhooks of the fake Nuki cloud (Advanced API accounts only).

`PUT /api/decentralWebhook {webhookUrl, webhookFeatures}` answers `{id, secret, webhookUrl,
webhookFeatures}`; every POST to the URL carries `X-Nuki-Signature-SHA256`, the hex HMAC-SHA256
of the JSON body keyed with that secret (docs.nuki.io/guide/webhooks/central-decentral/).
Deliveries are queued and sent from the server's event loop; `deliveries` records each one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

FEATURES = ("DEVICE_STATUS", "DEVICE_MASTERDATA", "DEVICE_CONFIG", "DEVICE_LOGS", "DEVICE_AUTHS",
            "ACCOUNT_USER")


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class DecentralWebhook:
    id: int
    account_id: int
    url: str
    features: list[str]
    secret: str = field(default_factory=lambda: secrets.token_hex(20))

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "webhookUrl": self.url,
                                "webhookFeatures": list(self.features)}
        if with_secret:
            data["secret"] = self.secret
        return data


@dataclass
class Delivery:
    url: str
    body: bytes
    signature: str
    status: int | None = None  # None: the receiver could not be reached


class Webhooks:
    def __init__(self) -> None:
        self.hooks: dict[int, DecentralWebhook] = {}
        self.deliveries: list[Delivery] = []
        self._ids = itertools.count(123456789)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def register(self, account_id: int, url: str, features: list[str]) -> DecentralWebhook:
        hook = DecentralWebhook(next(self._ids), account_id, url, features)
        self.hooks[hook.id] = hook
        return hook

    def of_account(self, account_id: int) -> list[DecentralWebhook]:
        return [h for h in self.hooks.values() if h.account_id == account_id]

    def notify(self, account_id: int, feature: str, payload: dict[str, Any]) -> None:
        """Queue one signed POST per webhook of the account that subscribed to the feature."""
        for hook in self.of_account(account_id):
            if feature not in hook.features:
                continue
            body = json.dumps({"feature": feature, **payload}, separators=(",", ":")).encode()
            delivery = Delivery(hook.url, body, sign(hook.secret, body))
            self.deliveries.append(delivery)
            if self.loop is not None:
                fut = asyncio.run_coroutine_threadsafe(self._send(delivery), self.loop)
                self._tasks.add(fut)
                fut.add_done_callback(self._tasks.discard)

    def wait_sent(self, timeout: float = 5.0) -> None:
        """Block until every queued delivery has been answered (or failed)."""
        for fut in list(self._tasks):
            fut.result(timeout)

    async def _send(self, delivery: Delivery) -> None:
        headers = {"Content-Type": "application/json; charset=UTF-8",
                   "X-Nuki-Signature-SHA256": delivery.signature}
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.post(delivery.url, content=delivery.body, headers=headers)
            delivery.status = response.status_code
        except httpx.HTTPError:
            delivery.status = None
