"""The decentral webhook lockhub registers for a Nuki account: where Nuki posts to.

Nuki signs each delivery with the webhook's own secret, but the URL must still say which
account it is for, and must not be guessable from the account's id: it carries a key derived
from lockhub's secret for that account (`POST /_lockhub/callbacks/nuki/{key}`). The URL is
stable, so lockhub recognises its own webhooks among an account's (after a restart, or ones
whose secret was lost) by the key at the end of their URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from lockhub.config import Settings
from lockhub.secret_box import derived_key

PATH = "/_lockhub/callbacks/nuki"
# What lockhub reads from deliveries: state changes, log entries, keypad codes changed.
FEATURES = ("DEVICE_STATUS", "DEVICE_LOGS", "DEVICE_AUTHS")


def callback_key(settings: Settings, connected_account_id: str) -> str:
    digest = hmac.new(derived_key(settings, "nuki-webhook"), connected_account_id.encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def callback_url(settings: Settings, connected_account_id: str) -> str | None:
    """The account's webhook URL, or None when lockhub has no public URL (LOCKHUB_PUBLIC_URL)
    Nuki could reach."""
    if not settings.public_url:
        return None
    return f"{settings.base_url}{PATH}/{callback_key(settings, connected_account_id)}"


def is_ours(url: str, key: str) -> bool:
    """Whether a webhook URL is the one of this account (under any earlier public URL)."""
    return url.rstrip("/").endswith(f"{PATH}/{key}")
