"""The fake's OAuth host (Amazon Cognito behind auth.igloohome.co) and the API's token check
(an API Gateway Cognito authorizer in front of api.igloodeveloper.co).

Client-credentials grant only: HTTP Basic `client_id:client_secret`, form
`grant_type=client_credentials` and an optional space-separated `scope` (omitted: every scope
the client owns; one scope it does not own refuses the whole request, as Cognito does). Errors
have Cognito's shape `{"error": "invalid_client"}`; the API's have API Gateway's
`{"message": ...}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from lockhub.clock import Clock

SCOPE_PREFIX = "igloohomeapi/"
ALL_SCOPES = tuple(SCOPE_PREFIX + s for s in (
    "algopin-hourly", "algopin-daily", "algopin-permanent", "algopin-onetime",
    "create-pin-bridge-proxied-job", "delete-pin-bridge-proxied-job",
    "lock-bridge-proxied-job", "unlock-bridge-proxied-job", "get-devices", "get-job-status",
    "get-properties", "get-battery-level-bridge-proxied-job",
    "get-device-status-bridge-proxied-job", "get-activity-logs-bridge-proxied-job"))
TOKEN_LIFETIME = timedelta(hours=24)

# Seam's sandbox identity, so lockhub's sandbox docs and real-provider tests share one.
SANDBOX_CLIENT_ID = "jane@example.com"
SANDBOX_CLIENT_SECRET = "1234"

Reply = tuple[int, dict]


@dataclass
class Grant:
    client_id: str
    scopes: frozenset[str]
    expires_at: datetime


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.lifetime = TOKEN_LIFETIME
        self.clients: dict[str, tuple[str, frozenset[str]]] = {}
        self.grants: dict[str, Grant] = {}
        self.issued = 0
        self.add_client(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)

    def add_client(self, client_id: str, secret: str,
                   scopes: tuple[str, ...] | frozenset[str] = ALL_SCOPES) -> None:
        """An iglooaccess API key with the permissions the account owner granted it."""
        with self.lock:
            self.clients[client_id] = (secret, frozenset(scopes))

    def remove_client(self, client_id: str) -> None:
        """The owner deleted the API key: no new tokens (existing ones live until they expire)."""
        with self.lock:
            self.clients.pop(client_id, None)

    def revoke_all(self) -> None:
        with self.lock:
            self.grants.clear()

    def issue(self, authorization: str | None, content_type: str, body: bytes) -> Reply:
        """POST /oauth2/token."""
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request"}
        form = {k: v[-1] for k, v in parse_qs(body.decode(errors="replace")).items()}
        client = self._basic(authorization)
        if client is None:
            return 400, {"error": "invalid_client"}
        client_id, owned = client
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        requested = frozenset(form.get("scope", "").split()) or owned
        if not requested <= owned:
            return 400, {"error": "invalid_scope"}
        header = {"kid": "fake", "alg": "RS256"}
        expires_at = self.clock.now() + self.lifetime
        claims = {"sub": client_id, "token_use": "access", "scope": " ".join(sorted(requested)),
                  "iat": int(self.clock.now().timestamp()), "exp": int(expires_at.timestamp()),
                  "client_id": client_id, "jti": secrets.token_hex(8)}
        token = f"{_b64(header)}.{_b64(claims)}.{secrets.token_urlsafe(32)}"
        with self.lock:
            self.grants[token] = Grant(client_id, requested, expires_at)
            self.issued += 1
        return 200, {"access_token": token, "expires_in": int(self.lifetime.total_seconds()),
                     "token_type": "Bearer"}

    def _basic(self, authorization: str | None) -> tuple[str, frozenset[str]] | None:
        if not authorization or not authorization.startswith("Basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        with self.lock:
            known = self.clients.get(client_id)
        if known is None or not secrets.compare_digest(known[0], secret):
            return None
        return client_id, known[1]

    def check(self, authorization: str | None, scope: str) -> Reply | None:
        """None when the bearer token may call an endpoint that needs `scope`."""
        if not authorization or not authorization.startswith("Bearer "):
            return 401, {"message": "Unauthorized"}
        with self.lock:
            grant = self.grants.get(authorization[7:])
        if grant is None:
            return 401, {"message": "Unauthorized"}
        if self.clock.now() >= grant.expires_at:
            return 401, {"message": "The incoming token has expired"}
        if scope not in grant.scopes:
            return 403, {"message": "Forbidden"}
        return None
