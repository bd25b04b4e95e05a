"""The per-process read model never serves a row, or accepts a credential, that another process
changed: two runtimes on one database stand for two processes (separate connections, separate
read models), one serving while the other writes. (The model remembers rows on SQLite only; on
PostgreSQL the same tests check that every read sees the other process's writes.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select, update

from lockhub.api import app  # noqa: F401  (importing registers every route)
from lockhub.api.auth import authenticate
from lockhub.api.routing import ROUTES
from lockhub.clock import ManualClock
from lockhub.config import Settings
from lockhub.errors import NotFound, Unauthorized
from lockhub.services import (
    access_codes,
    action_attempts,
    credentials,
    devices,
    locks,
    workspaces,
)
from lockhub.services import events as event_service
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.services.seed import WORKSPACE_1, WORKSPACE_2, seed
from lockhub.store import tables as t
from lockhub.store.migrate import upgrade
from lockhub.store.read_model import prune_row_changes
from tests.databases import database_url

KEY = {"authorization": "Bearer seam_apikey1_token"}

DEVICES_LIST = next(r for r in ROUTES if r.path == "/devices/list")


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Runtime, dict[str, Any]]]:
    url = database_url(tmp_path, "shared")
    upgrade(url)
    clock = ManualClock(datetime.now(UTC))
    settings = Settings(database_url=url, sandbox_latency_scale=0)
    serving, writing = build_runtime(settings, clock), build_runtime(settings, clock)
    ids = await seed(writing)
    yield serving, writing, ids
    await serving.close()
    await writing.close()


def _json(raw: msgspec.Raw | dict[str, Any]) -> dict[str, Any]:
    """A served row (stored JSON text on SQLite; PostgreSQL's JSONB arrives decoded)."""
    return raw if isinstance(raw, dict) else msgspec.json.decode(raw)


async def test_a_device_renamed_elsewhere_is_served_renamed(two: Any) -> None:
    serving, writing, ids = two
    device_id = ids["august_device_1"]
    before = _json(await devices.served_device(serving, WORKSPACE_1, device_id, managed=True))
    again = _json(await devices.served_device(serving, WORKSPACE_1, device_id, managed=True))
    assert again == before
    await devices.update_device(writing, WORKSPACE_1, device_id, managed=True,
                                name="Renamed elsewhere")
    after = _json(await devices.served_device(serving, WORKSPACE_1, device_id, managed=True))
    assert after["display_name"] == "Renamed elsewhere"
    # Made unmanaged elsewhere: no longer served as a managed device.
    await devices.update_device(writing, WORKSPACE_1, device_id, managed=True, is_managed=False)
    with pytest.raises(NotFound):
        await devices.served_device(serving, WORKSPACE_1, device_id, managed=True)


async def test_a_cached_device_is_not_served_to_another_workspace(two: Any) -> None:
    serving, _, ids = two
    device_id = ids["august_device_1"]
    await devices.served_device(serving, WORKSPACE_1, device_id, managed=True)
    with pytest.raises(NotFound):
        await devices.served_device(serving, WORKSPACE_2, device_id, managed=True)


async def test_an_attempt_settled_elsewhere_is_served_settled(two: Any) -> None:
    serving, writing, ids = two
    attempt = await locks.request_action(writing, WORKSPACE_1, ids["august_device_1"],
                                         "UNLOCK_DOOR", sync=False)
    pending = _json(await action_attempts.served(serving, WORKSPACE_1,
                                                 attempt.action_attempt_id))
    assert pending["status"] == "pending"
    async with writing.db.write() as conn:
        row = await action_attempts.get_row(conn, WORKSPACE_1, attempt.action_attempt_id)
        await action_attempts.resolve(conn, now=writing.clock.now(), row=row, succeeded=True)
    settled = _json(await action_attempts.served(serving, WORKSPACE_1,
                                                 attempt.action_attempt_id))
    assert settled["status"] == "success"


async def test_a_pending_attempt_is_not_served_from_memory_past_its_timeout(two: Any) -> None:
    serving, writing, ids = two
    attempt = await locks.request_action(writing, WORKSPACE_1, ids["august_device_1"],
                                         "UNLOCK_DOOR", sync=False)
    await action_attempts.served(serving, WORKSPACE_1, attempt.action_attempt_id)
    serving.clock.advance(serving.settings.action_attempt_timeout_seconds + 1)
    expired = _json(await action_attempts.served(serving, WORKSPACE_1,
                                                 attempt.action_attempt_id))
    assert expired["status"] == "error"
    assert expired["error"]["type"] == "action_attempt_expired"


async def test_a_code_changed_elsewhere_is_served_changed(two: Any) -> None:
    serving, writing, ids = two
    code, _ = await access_codes.create(writing, WORKSPACE_1, ids["august_device_1"],
                                        access_codes.CodeRequest(name="Guest", code="4821"))
    first = _json(await access_codes.served_access_code(serving, WORKSPACE_1,
                                                        code.access_code_id))
    assert first["name"] == "Guest"
    async with writing.db.write() as conn:
        await conn.execute(update(t.access_codes).where(
            t.access_codes.c.access_code_id == code.access_code_id).values(name="Host"))
    second = _json(await access_codes.served_access_code(serving, WORKSPACE_1,
                                                         code.access_code_id))
    assert second["name"] == "Host"


async def test_a_key_revoked_elsewhere_is_refused_on_the_next_request(two: Any) -> None:
    serving, writing, _ = two
    principal = await authenticate(serving, KEY, DEVICES_LIST)
    assert principal is not None and principal.workspace_id == WORKSPACE_1
    assert await authenticate(serving, KEY, DEVICES_LIST) == principal
    async with writing.db.write() as conn:
        assert await credentials.revoke_api_key(conn, "seam_apikey1_token")
    with pytest.raises(Unauthorized):
        await authenticate(serving, KEY, DEVICES_LIST)


@pytest.mark.fixed_database  # the change log is SQLite's (PostgreSQL serves no remembered rows)
async def test_a_process_behind_the_pruned_log_forgets_everything(two: Any) -> None:
    serving, writing, ids = two
    device_id = ids["august_device_1"]
    await devices.served_device(serving, WORKSPACE_1, device_id, managed=True)
    await devices.update_device(writing, WORKSPACE_1, device_id, managed=True, name="First")
    await devices.update_device(writing, WORKSPACE_1, ids["august_device_2"], managed=True,
                                name="Second")
    async with writing.db.write() as conn:
        assert await prune_row_changes(conn, keep=1) >= 1
        left = (await conn.execute(select(func.count()).select_from(t.row_changes))).scalar()
    assert left == 1  # only the rename of the other device is still logged
    served = _json(await devices.served_device(serving, WORKSPACE_1, device_id, managed=True))
    assert served["display_name"] == "First"


async def test_a_request_that_writes_then_reads_sees_its_write(two: Any) -> None:
    serving, _, ids = two
    device_id = ids["august_device_1"]
    serving.db.read_model.start_request()
    await devices.served_device(serving, WORKSPACE_1, device_id, managed=True)
    await devices.update_device(serving, WORKSPACE_1, device_id, managed=True, name="Mine")
    served = _json(await devices.served_device(serving, WORKSPACE_1, device_id, managed=True))
    assert served["display_name"] == "Mine"


async def test_lists_serve_rows_changed_elsewhere_as_changed(two: Any) -> None:
    serving, writing, ids = two
    device_id = ids["august_device_1"]
    code, _ = await access_codes.create(writing, WORKSPACE_1, device_id,
                                        access_codes.CodeRequest(name="Guest", code="4821"))

    async def listed() -> tuple[dict[str, Any], dict[str, Any]]:
        found, _ = await devices.list_devices(
            serving, WORKSPACE_1, devices.DeviceFilters(device_ids=[device_id]))
        codes, _ = await access_codes.list_served(serving, WORKSPACE_1, device_id=device_id)
        return _json(found[0]), next(c for c in map(_json, codes)
                                     if c["access_code_id"] == code.access_code_id)

    device, listed_code = await listed()
    assert (device["display_name"], listed_code["name"]) != ("Renamed", "Host")
    await devices.update_device(writing, WORKSPACE_1, device_id, managed=True, name="Renamed")
    async with writing.db.write() as conn:
        await conn.execute(update(t.access_codes).where(
            t.access_codes.c.access_code_id == code.access_code_id).values(name="Host"))
    device, listed_code = await listed()
    assert (device["display_name"], listed_code["name"]) == ("Renamed", "Host")


async def test_list_pages_show_rows_added_and_removed_elsewhere(two: Any) -> None:
    serving, writing, ids = two
    device_id = ids["august_device_1"]
    since = datetime(2020, 1, 1, tzinfo=UTC)

    async def listed() -> tuple[set[str], set[str], set[str]]:
        serving.db.read_model.start_request()
        found, _ = await devices.list_devices(serving, WORKSPACE_1, devices.DeviceFilters(),
                                              limit=500)
        codes, _ = await access_codes.list_served(serving, WORKSPACE_1, device_id=device_id)
        events = await event_service.list_events(
            serving.db, WORKSPACE_1, since=since, between=None,
            filters={"device_id": [device_id]}, event_types=None, limit=500, offset=0)
        return ({d["device_id"] for d in map(_json, found)},
                {c["access_code_id"] for c in map(_json, codes)},
                {e["event_id"] for e in map(_json, events)})

    first = await listed()
    assert await listed() == first  # asked again (now from the remembered pages): the same
    code, _ = await access_codes.create(writing, WORKSPACE_1, device_id,
                                        access_codes.CodeRequest(name="Guest", code="4821"))
    async with writing.db.write() as conn:
        await conn.execute(update(t.devices).where(t.devices.c.device_id == device_id)
                           .values(is_managed=False))
    device_ids, code_ids, event_ids = await listed()
    assert device_id not in device_ids and device_ids < first[0]
    assert code_ids == first[1] | {code.access_code_id}
    assert len(event_ids - first[2]) >= 1  # access_code.created, recorded elsewhere
    async with writing.db.write() as conn:
        await conn.execute(t.access_codes.delete().where(
            t.access_codes.c.access_code_id == code.access_code_id))
    assert (await listed())[1] == first[1]


async def test_a_remembered_page_is_not_served_to_another_workspace(two: Any) -> None:
    serving, _, _ = two
    serving.db.read_model.start_request()

    async def page(workspace_id: str) -> list[str]:
        found, _ = await devices.list_devices(serving, workspace_id, devices.DeviceFilters(),
                                              limit=500)
        return [d["workspace_id"] for d in map(_json, found)]

    assert set(await page(WORKSPACE_1)) == {WORKSPACE_1}
    assert set(await page(WORKSPACE_2)) <= {WORKSPACE_2}


async def test_an_outage_simulated_elsewhere_reaches_remembered_credentials(two: Any) -> None:
    serving, writing, _ = two
    assert (await authenticate(serving, KEY, DEVICES_LIST)).outage_routes == ()
    await workspaces.simulate_outage(writing, WORKSPACE_1, ["/devices/list"])
    serving.db.read_model.start_request()
    assert (await authenticate(serving, KEY, DEVICES_LIST)).outage_routes == ("/devices/list",)
    await workspaces.simulate_outage(writing, WORKSPACE_1, None)
    serving.db.read_model.start_request()
    assert (await authenticate(serving, KEY, DEVICES_LIST)).outage_routes == ()
