"""A lock whose brand cannot list its PINs (igloohome): lockhub trusts the PINs it set, never
invents unmanaged codes or "removed at the lock" conclusions from the missing listing, and hands
the provider each PIN as it wrote it when it rewrites or removes one.

In-process with a scripted provider that keeps its PINs by the brand's own ids and, like
igloohome, deletes a PIN by its digits; the engine's job handlers are driven by the test.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lockhub.clock import ManualClock
from lockhub.config import Settings
from lockhub.engine import jobs
from lockhub.engine.device_codes import schedule_device_sync
from lockhub.engine.worker import handlers
from lockhub.providers.base import (
    CodeOnDevice,
    CodesNotListable,
    DeviceRef,
    DeviceSnapshot,
    ProviderError,
)
from lockhub.providers.registry import ProviderRegistry
from lockhub.secret_box import seal_credentials
from lockhub.services import access_codes as code_service
from lockhub.services.connected_accounts import insert_device
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.store import tables as t
from lockhub.store.migrate import upgrade
from tests.databases import database_url

WORKSPACE, ACCOUNT, DEVICE = "ws", "account-1", "device-1"


class UnlistingProvider:
    """A cloud lock that takes PINs by id and deletes them by digits, and lists none."""

    name = "unlisting"
    sandbox = False

    def __init__(self) -> None:
        self.pins: dict[str, str] = {}  # the brand's key id → PIN, as the lock holds them
        self.calls: list[tuple[str, CodeOnDevice | None]] = []
        self._ids = itertools.count(101)

    def account_types(self) -> list[str]:
        return ["igloohome"]

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        raise CodesNotListable()

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        self.calls.append(("set", replacing))
        if replacing is not None:
            self._delete(replacing.code)
        if code.code in self.pins.values():
            raise ProviderError("duplicate_code_on_device", "The lock already holds this PIN.")
        ref = str(next(self._ids))
        self.pins[ref] = str(code.code)
        return CodeOnDevice(code=code.code, name=code.name, ref=ref)

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        self.calls.append(("remove", code))
        self._delete(code.code)

    def _delete(self, pin: str | None) -> None:
        self.pins = {ref: p for ref, p in self.pins.items() if p != pin}


@pytest.fixture
async def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("LOCKHUB_RATE_LIMITS", "off")
    url = database_url(tmp_path, "unlistable")
    upgrade(url)
    runtime = build_runtime(Settings(database_url=url,
                                     secret_key_file=str(tmp_path / "secret.key")),
                            ManualClock(datetime.now(UTC)))
    runtime.providers = ProviderRegistry([UnlistingProvider()])
    now = runtime.clock.now()
    async with runtime.db.write() as conn:
        await conn.execute(t.workspaces.insert().values(
            workspace_id=WORKSPACE, name="Home", company_name="Home", is_sandbox=False,
            connect_webview_customization={}, created_at=now))
        await conn.execute(t.connected_accounts.insert().values(
            connected_account_id=ACCOUNT, workspace_id=WORKSPACE, account_type="igloohome",
            provider="unlisting", user_identifier={}, custom_metadata={}, errors=[],
            warnings=[], automatically_manage_new_devices=True, created_at=now,
            credentials=seal_credentials(runtime.settings, "igloohome:key", {})))
        await insert_device(runtime, conn, WORKSPACE, ACCOUNT, DEVICE, DeviceSnapshot(
            provider_device_id="lock-1", brand="igloohome", model="deadbolt_2s",
            name="Front Door", online=True, hub_connected=True), nickname=None, managed=True,
            position=0)
    yield runtime
    await runtime.close()


def provider(rt: Runtime) -> UnlistingProvider:
    found = rt.providers.get("unlisting")
    assert isinstance(found, UnlistingProvider)
    return found


async def run_due_jobs(rt: Runtime) -> None:
    """Run the engine's due jobs until none is left due (the clock does not move)."""
    run = handlers()
    while claimed := await jobs.claim(rt.db, now=rt.clock.now(), worker_id="w",
                                      lease_seconds=600, limit=100):
        for job in claimed:
            await run[job.kind](rt, job)


async def read_back(rt: Runtime) -> None:
    async with rt.db.write() as conn:
        await schedule_device_sync(conn, now=rt.clock.now(), workspace_id=WORKSPACE,
                                   device_id=DEVICE)
    await run_due_jobs(rt)


async def create(rt: Runtime, pin: str) -> str:
    code, _ = await code_service.create(rt, WORKSPACE, DEVICE,
                                        code_service.CodeRequest(name="Guest", code=pin))
    await run_due_jobs(rt)
    return code.access_code_id


async def codes(rt: Runtime) -> list[Any]:
    async with rt.db.read() as conn:
        return (await conn.execute(select(t.access_codes))).all()


async def event_types(rt: Runtime) -> list[str]:
    async with rt.db.read() as conn:
        return list((await conn.execute(select(t.events.c.event_type).where(
            t.events.c.event_type.like("access_code.%")))).scalars())


async def test_a_code_set_on_such_a_lock_stays_set_through_read_backs(rt: Runtime) -> None:
    await create(rt, "2468")
    [row] = await codes(rt)
    assert (row.status, row.device_ref, row.errors) == ("set", "101", [])

    for _ in range(2):
        await read_back(rt)
    [after] = await codes(rt)
    assert (after.status, after.device_ref, after.errors, after.warnings) == \
        ("set", "101", [], [])
    assert provider(rt).calls == [("set", None)], "nothing rewritten: the code is trusted"
    assert await event_types(rt) == ["access_code.created", "access_code.set_on_device"]
    async with rt.db.read() as conn:
        assert (await conn.execute(select(t.jobs).where(
            t.jobs.c.kind == "device_codes"))).first() is None, "no periodic read-back"


async def test_pins_set_elsewhere_invent_no_unmanaged_codes(rt: Runtime) -> None:
    provider(rt).pins["77"] = "1357"  # set in the brand's app
    await read_back(rt)
    assert await codes(rt) == []
    assert await event_types(rt) == []


async def test_a_pin_removed_elsewhere_is_not_concluded_removed(rt: Runtime) -> None:
    await create(rt, "2468")
    provider(rt).pins.clear()  # removed in the brand's app: lockhub cannot see it
    await read_back(rt)
    [row] = await codes(rt)
    assert (row.status, row.errors) == ("set", [])
    assert "access_code.deleted_external_to_seam" not in await event_types(rt)


async def test_a_duplicate_pin_is_reported_not_adopted(rt: Runtime) -> None:
    provider(rt).pins["77"] = "1357"  # set in the brand's app
    await create(rt, "1357")
    [row] = await codes(rt)
    assert row.device_ref is None
    assert "duplicate_code_on_device" in {e["error_code"] for e in row.errors}
    assert provider(rt).pins == {"77": "1357"}


async def test_a_rewrite_and_a_removal_hand_over_the_pin_as_written(rt: Runtime) -> None:
    access_code_id = await create(rt, "2468")
    await code_service.update_code(rt, WORKSPACE, access_code_id,
                                   code_service.CodeChanges(code="9753"))
    await run_due_jobs(rt)
    kind, replacing = provider(rt).calls[-1]
    assert kind == "set" and replacing is not None
    assert (replacing.ref, replacing.code, replacing.name) == ("101", "2468", "Guest")
    assert provider(rt).pins == {"102": "9753"}

    await code_service.delete_code(rt, WORKSPACE, access_code_id)
    await run_due_jobs(rt)
    kind, removed = provider(rt).calls[-1]
    assert kind == "remove" and removed is not None
    assert (removed.ref, removed.code) == ("102", "9753")
    assert provider(rt).pins == {}
    assert await codes(rt) == []
