"""The Nuki provider against the fake Nuki cloud (real HTTP on loopback), for what the SDK test
cannot see: what lockhub writes to Nuki and what it records of it, and the pure mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from lockhub.providers.base import (
    AccessDeniedReport,
    CodeOnDevice,
    DeviceRef,
    LockOperationReport,
)
from lockhub.providers.nuki import NukiProvider, mapping
from lockhub.providers.nuki.client import LogEntry, Smartlock
from tests.fakes.nuki.server import FRONT_DOOR, TOKEN, NukiCloud

T = TypeVar("T")


@pytest.fixture
def provider(nuki_cloud: NukiCloud, monkeypatch: pytest.MonkeyPatch) -> NukiProvider:
    monkeypatch.setenv("LOCKHUB_NUKI_API_URL", nuki_cloud.url)
    monkeypatch.setenv("LOCKHUB_NUKI_POLL_SECONDS", "0.05")
    return NukiProvider(command_timeout=10)


def front(cloud: NukiCloud) -> DeviceRef:
    return DeviceRef(workspace_id="w", device_id="d", provider_device_id=str(FRONT_DOOR),
                     brand="nuki", model="smart_lock_3_pro", credentials={"api_token": TOKEN})


async def settled(cloud: NukiCloud, call: Awaitable[T]) -> T:
    """Run a provider call while the lock applies what it sent (Nuki's "some seconds")."""
    task = asyncio.ensure_future(call)
    while not cloud.pending:
        assert not task.done(), task
        await asyncio.sleep(0.01)  # a poll of the fake's queue, not a stand-in for a result
    cloud.settle()
    return await task


async def test_an_unnamed_code_gets_a_name_without_its_digits_and_is_recorded_as_asked(
        nuki_cloud: NukiCloud, provider: NukiProvider) -> None:
    desired = CodeOnDevice(code="456789")
    placed = await settled(nuki_cloud, provider.set_code(front(nuki_cloud), desired))
    (auth,) = [a for a in nuki_cloud.lock(FRONT_DOOR).auths.values() if a.code == 456789]
    assert auth.name == "lockhub" and placed.ref == auth.id
    assert (placed.code, placed.name, placed.starts_at) == ("456789", None, None)


async def test_a_window_with_microseconds_is_found_once_nuki_has_it_in_milliseconds(
        nuki_cloud: NukiCloud, provider: NukiProvider) -> None:
    start = datetime(2031, 3, 1, 15, 0, 0, 123456, tzinfo=UTC)
    desired = CodeOnDevice(code="567891", name="Stay", starts_at=start,
                           ends_at=start + timedelta(days=1))
    placed = await settled(nuki_cloud, provider.set_code(front(nuki_cloud), desired))
    assert placed.starts_at == start and placed.ref is not None
    assert nuki_cloud.lock(FRONT_DOOR).auths[placed.ref].allowed_from == start.replace(
        microsecond=123000)


async def test_a_code_created_by_an_attempt_that_timed_out_is_found_by_the_retry(
        nuki_cloud: NukiCloud, provider: NukiProvider) -> None:
    provider.command_timeout = 0.2
    desired = CodeOnDevice(code="678912", name="Late")
    with pytest.raises(Exception) as info:
        await provider.set_code(front(nuki_cloud), desired)
    assert getattr(info.value, "error_type", None) == "provider_timeout"
    nuki_cloud.settle()
    placed = await provider.set_code(front(nuki_cloud), desired)
    assert [a.id for a in nuki_cloud.lock(FRONT_DOOR).auths.values()
            if a.code == 678912] == [placed.ref]


def lock_json(type_: int, server_state: int) -> Smartlock:
    return Smartlock.from_json({"smartlockId": 7, "name": "L", "type": type_,
                                "serverState": server_state, "state": {"state": 1},
                                "config": {"keypadPaired": True}})


def test_an_unreachable_lock_is_offline_unless_it_needs_a_bridge() -> None:
    wifi = mapping.snapshot(lock_json(4, 4))
    assert (wifi.model, wifi.online, wifi.hub_connected) == ("smart_lock_3_pro", False, None)
    bridged = mapping.snapshot(lock_json(0, 4))
    assert (bridged.model, bridged.online, bridged.hub_connected) == ("smart_lock_3", True, False)
    assert mapping.snapshot(lock_json(0, 0)).hub_connected is True


def entry(**fields: Any) -> LogEntry:
    return LogEntry.from_json({"id": "e1", "smartlockId": 7, "date": "2030-01-01T10:00:00.000Z",
                               **fields})


def test_log_entries_as_reports() -> None:
    keyed = mapping.log_report(entry(action=1, trigger=255, state=0, authId="abc"))
    assert isinstance(keyed, LockOperationReport)
    assert (keyed.locked, keyed.method, keyed.code_ref) == (False, "keycode", "abc")
    assert isinstance(mapping.log_report(entry(action=1, trigger=255, state=224)),
                      AccessDeniedReport)
    manual = mapping.log_report(entry(action=2, trigger=1, state=0))
    assert isinstance(manual, LockOperationReport) and (manual.locked, manual.method) == (
        True, "manual")
    assert mapping.log_report(entry(action=240, trigger=0, state=0)) is None  # door opened
    assert mapping.log_report(entry(action=1, trigger=4, state=1)) is None  # motor blocked
