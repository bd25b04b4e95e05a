"""The fake's OAuth server: an OAuth-In ("API_ONLY") app registered with the SmartThings CLI,
Samsung accounts that sign in on the authorize page, single-use authorization codes, access
tokens that expire, and refresh tokens that rotate (each refresh returns a new refresh token and
invalidates the old one together with its access token), as developer.smartthings.com's
"Token Management" page describes. Personal access tokens (PATs) are bearer tokens with no
refresh token.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lockhub.clock import ManualClock

ACCESS_TOKEN_SECONDS = 86399  # "typically 86399 seconds, approximately 24 hours"
REFRESH_TOKEN_DAYS = 30
CODE_SECONDS = 300
PAT_SECONDS = 24 * 3600  # PATs issued after 30 Dec 2024 live 24 h


class OAuthError(Exception):
    """An OAuth 2.0 error answer: `{"error", "error_description"}` with its HTTP status."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: list[str]
    installed_app_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Grant:
    """What a code or token stands for: one app installed by one account."""

    client_id: str
    account: str
    scope: str
    expires_at: datetime
    redirect_uri: str = ""
    refresh_token: str | None = None  # the access token's partner (revoked together)


class OAuthServer:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.mutex = threading.RLock()
        self.apps: dict[str, OAuthApp] = {}
        self.accounts: dict[str, str] = {}  # email -> password
        self.codes: dict[str, Grant] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.token_requests = 0  # how many times /oauth/token answered with tokens

    # --- set-up and test controls --------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str],
                     scopes: list[str] | None = None) -> OAuthApp:
        app = OAuthApp(client_id, client_secret, redirect_uris,
                       scopes or ["r:devices:*", "w:devices:*", "x:devices:*",
                                  "r:locations:*"])
        self.apps[client_id] = app
        return app

    def add_account(self, email: str, password: str) -> None:
        self.accounts[email] = password

    def issue_pat(self, account: str, scope: str = "r:devices:* x:devices:*") -> str:
        with self.mutex:
            token = str(uuid.uuid4())
            self.access_tokens[token] = Grant("", account, scope,
                                              self.clock.now() + timedelta(seconds=PAT_SECONDS))
            return token

    def revoke_all(self) -> None:
        """The user removed the app from their account: every token stops working."""
        with self.mutex:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self.mutex:
            for grant in self.access_tokens.values():
                grant.expires_at = self.clock.now() - timedelta(seconds=1)

    # --- the authorize page --------------------------------------------------------------------

    def check_authorize(self, client_id: str, redirect_uri: str, response_type: str) -> OAuthApp:
        app = self.apps.get(client_id)
        if app is None or redirect_uri not in app.redirect_uris or response_type != "code":
            # SmartThings answers 403 Forbidden to an unknown client or redirect URI.
            raise OAuthError(403, "access_denied",
                             "Unknown client_id, unregistered redirect_uri or bad response_type")
        return app

    def sign_in(self, email: str, password: str) -> bool:
        return bool(email) and self.accounts.get(email) == password

    def issue_code(self, client_id: str, account: str, redirect_uri: str, scope: str) -> str:
        with self.mutex:
            code = secrets.token_urlsafe(18)[:25]
            self.codes[code] = Grant(client_id, account, scope,
                                     self.clock.now() + timedelta(seconds=CODE_SECONDS),
                                     redirect_uri=redirect_uri)
            return code

    # --- the token endpoint --------------------------------------------------------------------

    def token(self, basic: tuple[str, str] | None, form: dict[str, str]) -> dict[str, Any]:
        with self.mutex:
            if basic is None or basic[0] not in self.apps \
                    or self.apps[basic[0]].client_secret != basic[1]:
                raise OAuthError(401, "invalid_client", "Bad client credentials")
            app = self.apps[basic[0]]
            grant_type = form.get("grant_type", "")
            now = self.clock.now()
            if grant_type == "authorization_code":
                code = form.get("code", "")
                grant = self.codes.pop(code, None)
                if grant is None or grant.client_id != app.client_id or grant.expires_at <= now \
                        or grant.redirect_uri != form.get("redirect_uri", ""):
                    raise OAuthError(400, "invalid_grant", f"Invalid authorization code: {code}")
            elif grant_type == "refresh_token":
                old = form.get("refresh_token", "")
                grant = self.refresh_tokens.pop(old, None)
                if grant is None or grant.client_id != app.client_id or grant.expires_at <= now:
                    # "You will receive a 401 Unauthorized status code when attempting to use
                    # an expired refresh token."
                    raise OAuthError(401, "invalid_grant", f"Invalid refresh token: {old}")
                for token, partner in list(self.access_tokens.items()):
                    if partner.refresh_token == old:
                        del self.access_tokens[token]
            else:
                raise OAuthError(400, "unsupported_grant_type",
                                 f"Unsupported grant type: {grant_type}")
            access, refresh = str(uuid.uuid4()), str(uuid.uuid4())
            self.access_tokens[access] = Grant(
                app.client_id, grant.account, grant.scope,
                now + timedelta(seconds=ACCESS_TOKEN_SECONDS), refresh_token=refresh)
            self.refresh_tokens[refresh] = Grant(
                app.client_id, grant.account, grant.scope, now + timedelta(days=REFRESH_TOKEN_DAYS))
            self.token_requests += 1
            account_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"smartthings:{grant.account}"))
            return {
                "access_token": access,
                "token_type": "bearer",
                "refresh_token": refresh,
                "expires_in": ACCESS_TOKEN_SECONDS,
                "scope": grant.scope,
                "access_tier": 0,
                "developer_account_id": account_id,
                "installed_app_id": app.installed_app_id,
                "iot_account_id": account_id,
                "owner_account_id": account_id,
            }

    # --- bearer check on the API host ----------------------------------------------------------

    def authenticate(self, token: str) -> Grant | None:
        with self.mutex:
            grant = self.access_tokens.get(token)
            if grant is None or grant.expires_at <= self.clock.now():
                return None
            return grant
