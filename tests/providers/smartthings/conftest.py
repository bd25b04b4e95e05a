"""The SmartThings client's tests run against the fake cloud (tests/fakes/smartthings); the
client shares the fake's clock, and its waits move that clock instead of sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from lockhub.providers.smartthings.client import SmartThingsClient, TokenSet
from tests.fakes.smartthings.cloud import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Cloud
from tests.fakes.smartthings.conftest import smartthings_cloud  # noqa: F401  (the fixture)

ClientFactory = Callable[..., Awaitable[SmartThingsClient]]


def oauth_tokens(cloud: Cloud) -> TokenSet:
    """Tokens as the code exchange leaves them (issued by the fake directly)."""
    code = cloud.oauth.issue_code(CLIENT_ID, "jane@example.com", REDIRECT_URI,
                                  "r:devices:* x:devices:*")
    body = cloud.oauth.token((CLIENT_ID, CLIENT_SECRET), {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    return TokenSet(body["access_token"], body["refresh_token"],
                    cloud.clock.now() + timedelta(seconds=body["expires_in"]), body["scope"])


@pytest.fixture
async def make_client(smartthings_cloud: Cloud) -> AsyncIterator[ClientFactory]:  # noqa: F811
    """`await make_client(**overrides)`: a client signed in with OAuth tokens; its `sleeps`
    lists the waits it asked for (each moved the fake's clock)."""
    cloud = smartthings_cloud
    made: list[SmartThingsClient] = []

    async def make(**kw: Any) -> SmartThingsClient:
        sleeps: list[float] = []

        async def advance(seconds: float) -> None:
            sleeps.append(seconds)
            cloud.clock.advance(seconds)

        saved: list[TokenSet] = []

        async def on_tokens(tokens: TokenSet) -> None:
            saved.append(tokens)

        options: dict[str, Any] = {
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "base_url": cloud.url, "auth_base_url": cloud.auth_url, "timeout": 5.0,
            "clock": cloud.clock, "sleep": advance, "on_tokens": on_tokens,
        }
        options.update(kw)
        tokens = options.pop("tokens", None) or oauth_tokens(cloud)
        client = SmartThingsClient(tokens, **options)
        client.sleeps = sleeps  # type: ignore[attr-defined]
        client.saved_tokens = saved  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
