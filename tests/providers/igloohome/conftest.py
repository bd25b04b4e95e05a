"""The igloohome client pointed at the fake igloohome cloud, on the fake's frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lockhub.clock import ManualClock
from lockhub.providers.igloohome.client import IgloohomeClient
from tests.fakes.igloohome.conftest import igloohome_clock, igloohome_cloud  # noqa: F401
from tests.fakes.igloohome.server import IgloohomeCloud
from tests.fakes.igloohome.tokens import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET


def make_client(cloud: IgloohomeCloud, clock: ManualClock, *, client_id: str = SANDBOX_CLIENT_ID,
                secret: str = SANDBOX_CLIENT_SECRET, **options: object) -> IgloohomeClient:
    """Short timeouts and no waiting between retries or job polls: tests never sleep."""
    settings: dict = {"timeout": 2.0, "backoff": 0.0, "job_poll_interval": 0.0,
                      "job_max_polls": 5, **options}
    return IgloohomeClient(client_id, secret, api_url=cloud.api_url, auth_url=cloud.auth_url,
                           clock=clock, **settings)


@pytest.fixture
async def igloohome(igloohome_cloud: IgloohomeCloud,  # noqa: F811
                    igloohome_clock: ManualClock) -> AsyncIterator[IgloohomeClient]:  # noqa: F811
    client = make_client(igloohome_cloud, igloohome_clock)
    yield client
    await client.aclose()
