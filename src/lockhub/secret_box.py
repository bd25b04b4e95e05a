"""Encryption of secrets lockhub must read back (webhook signing secrets, provider
credentials), at rest; and keys derived from the same secret for signing what lockhub hands out
(page cursors)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from lockhub.config import Settings


@cache
def _fernet(key: bytes) -> Fernet:
    return Fernet(key)


def _key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.secret_key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        # Created exclusively: two processes starting together keep the first key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
    return path.read_bytes().strip()


def encrypt(settings: Settings, plaintext: str) -> str:
    return _fernet(_key(settings)).encrypt(plaintext.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    return _fernet(_key(settings)).decrypt(token.encode()).decode()


def seal_credentials(settings: Settings, account_login: str,
                     credentials: dict[str, Any]) -> dict[str, Any]:
    """A connected account's credentials as stored: the account's identity in clear (reconnects
    look it up), everything else encrypted."""
    return {"account_login": account_login,
            "sealed": encrypt(settings, json.dumps(credentials, sort_keys=True))}


def open_credentials(settings: Settings, stored: dict[str, Any]) -> dict[str, Any]:
    """What the provider gave at sign-in (plus `account_login`); plain rows pass through."""
    if "sealed" not in stored:
        return dict(stored)
    opened = json.loads(decrypt(settings, stored["sealed"]))
    return {**opened, "account_login": stored["account_login"]}


@cache
def derived_key(settings: Settings, purpose: str) -> bytes:
    """A key for `purpose` (e.g. signing page cursors) from the one secret, so a deployment
    has one secret to keep and share, and a leak of one derived key reveals nothing else."""
    return hmac.new(_key(settings), b"lockhub:" + purpose.encode(), hashlib.sha256).digest()
