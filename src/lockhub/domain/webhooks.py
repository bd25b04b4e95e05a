"""Webhook rules: which events a webhook wants, the retry schedule, signing, and which targets
may be called."""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from standardwebhooks import Webhook

# Svix's schedule (Seam's webhooks page): after a failure, retry immediately, then after 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; 8 attempts after the first, then the delivery fails.
RETRY_DELAYS = [timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=5), timedelta(hours=10),
                timedelta(hours=10)]
PRIVATE_NETWORKS = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10")]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def wants(event_types: list[str], event_type: str) -> bool:
    return "*" in event_types or event_type in event_types


def next_attempt_delay(failed_attempts: int) -> timedelta | None:
    """Delay after the `failed_attempts`-th failure, or None when retries are exhausted."""
    index = failed_attempts - 1
    return RETRY_DELAYS[index] if 0 <= index < len(RETRY_DELAYS) else None


def signed_headers(secret: str, msg_id: str, when: datetime, body: str) -> dict[str, str]:
    """Both header families (Standard Webhooks and Svix) carrying the same signature."""
    signature = Webhook(secret).sign(msg_id, when, body)
    timestamp = str(int(when.timestamp()))
    return {
        "content-type": "application/json",
        "webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature,
        "svix-id": msg_id, "svix-timestamp": timestamp, "svix-signature": signature,
    }


def _rules(spec: str) -> list[str]:
    return [part.strip() for part in spec.split(",") if part.strip()]


def _matches(host: str, addresses: Iterable[ipaddress._BaseAddress], rules: list[str]) -> bool:
    for rule in rules:
        if rule.lower() == host.lower():
            return True
        try:
            network = ipaddress.ip_network(rule, strict=False)
        except ValueError:
            continue
        if any(address in network for address in addresses):
            return True
    return False


def target_refusal(host: str, addresses: list[ipaddress._BaseAddress], *, allow: str,
                   deny: str, private_allowed: bool) -> str | None:
    """Why a delivery to `host` (resolving to `addresses`) is refused, or None if allowed."""
    if _matches(host, addresses, _rules(deny)):
        return f"{host} is on the webhook deny list"
    if _matches(host, addresses, _rules(allow)):
        return None
    if not private_allowed:
        for address in addresses:
            if any(address in network for network in PRIVATE_NETWORKS):
                return f"{host} resolves to a private address ({address})"
    return None
