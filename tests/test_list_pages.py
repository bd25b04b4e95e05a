"""Device and access-code pages walk every row once, in order, on SQLite and PostgreSQL (the
position statements are built once and read created_at as each database returns it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from lockhub.clock import ManualClock
from lockhub.config import Settings
from lockhub.services import access_codes, devices
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.services.seed import DEMO_WORKSPACE, seed
from lockhub.store.migrate import upgrade
from tests.databases import database_url


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    url = database_url(tmp_path, "pages")
    upgrade(url)
    runtime = build_runtime(Settings(database_url=url, sandbox_latency_scale=0),
                            ManualClock(datetime.now(UTC)))
    await seed(runtime)
    yield runtime
    await runtime.close()


async def _walk(fetch: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        items, position = await fetch(after)
        seen.extend(msgspec.json.decode(i) for i in items)
        if position is None:
            return seen
        after = (datetime.fromisoformat(position[0]), position[1])


async def test_pages_of_one_walk_every_device_and_code_in_order(rt: Runtime) -> None:
    everything, _ = await devices.list_devices(rt, DEMO_WORKSPACE, devices.DeviceFilters())

    async def device_page(after: Any) -> Any:
        return await devices.list_devices(rt, DEMO_WORKSPACE, devices.DeviceFilters(),
                                          after=after, limit=1)

    walked = await _walk(device_page)
    assert [d["device_id"] for d in walked] == [
        msgspec.json.decode(d)["device_id"] for d in everything]
    assert len(walked) > 3
    device_id = walked[0]["device_id"]
    for n in range(3):
        await access_codes.create(rt, DEMO_WORKSPACE, device_id,
                                  access_codes.CodeRequest(name=f"Guest {n}"))
        rt.clock.advance(1)  # type: ignore[attr-defined]
    async def code_page(after: Any) -> Any:
        return await access_codes.list_served(rt, DEMO_WORKSPACE, device_id=device_id,
                                              after=after, limit=1)

    codes = await _walk(code_page)
    assert [c["name"] for c in codes] == ["Guest 0", "Guest 1", "Guest 2"]
