"""The engine's live connections with a scripted provider: refused credentials wait for a new
sign-in instead of hammering the brand, and tokens a provider refreshes are kept (sealed) without
restarting its connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from lockhub.config import Settings
from lockhub.engine.connections import ConnectionManager
from lockhub.providers.base import (
    AccountRef,
    ConnectionReport,
    CredentialsRefused,
    CredentialsReport,
    ReportSink,
)
from lockhub.providers.registry import ProviderRegistry
from lockhub.secret_box import open_credentials, seal_credentials
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.store.migrate import upgrade
from lockhub.store.tables import connected_accounts, workspaces
from tests.databases import database_url

ACCOUNT = "account-1"


class ScriptedProvider:
    """A live provider whose `maintain` runs the next scripted behaviour."""

    name = "scripted"
    sandbox = False

    def __init__(self, *behaviours: str) -> None:
        self.behaviours = list(behaviours)
        self.seen: list[dict[str, Any]] = []
        self.started = asyncio.Queue[str]()

    def account_types(self) -> list[str]:
        return ["zwave_js"]

    def holds(self, connected_account_id: str) -> bool:
        return False

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        behaviour = self.behaviours.pop(0)
        self.seen.append(dict(account.credentials))
        await self.started.put(behaviour)
        if behaviour == "refused":
            raise CredentialsRefused("The brand refused the refresh token.")
        if behaviour == "rotate":
            await sink(CredentialsReport(credentials={"refresh_token": "rotated-2"}))
        await sink(ConnectionReport(connected=True))
        await asyncio.Event().wait()


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    url = database_url(tmp_path, "connections")
    upgrade(url)
    runtime = build_runtime(Settings(database_url=url,
                                     secret_key_file=str(tmp_path / "secret.key")))
    now = datetime.now(UTC)
    async with runtime.db.write() as conn:
        await conn.execute(workspaces.insert().values(
            workspace_id="ws", name="Home", company_name="Home", is_sandbox=False,
            connect_webview_customization={}, created_at=now))
        await conn.execute(connected_accounts.insert().values(
            connected_account_id=ACCOUNT, workspace_id="ws", account_type="zwave_js",
            provider="scripted", user_identifier={}, custom_metadata={}, errors=[],
            warnings=[], automatically_manage_new_devices=True, created_at=now,
            credentials=seal_credentials(runtime.settings, "home",
                                         {"refresh_token": "original-1"})))
    yield runtime
    await runtime.close()


async def _account(rt: Runtime) -> Any:
    async with rt.db.read() as conn:
        return (await conn.execute(select(connected_accounts).where(
            connected_accounts.c.connected_account_id == ACCOUNT))).one()


def _disconnected(account: Any) -> bool:
    return any(e["error_code"] == "account_disconnected" for e in account.errors)


async def test_refused_credentials_disconnect_the_account_until_a_new_sign_in(
        rt: Runtime) -> None:
    provider = ScriptedProvider("refused", "works")
    rt.providers = ProviderRegistry([provider])
    manager = ConnectionManager(rt, "worker-a")
    try:
        await manager.tick()
        assert await provider.started.get() == "refused"
        task = manager.tasks[ACCOUNT]
        await _until(lambda: _disconnected_now(rt))
        for _ in range(3):  # later passes leave the refused account alone: no retry storm
            await manager.tick()
        assert manager.tasks[ACCOUNT] is task and not task.done()
        assert len(provider.seen) == 1

        async with rt.db.write() as conn:  # the user signs in again through a webview
            await conn.execute(update(connected_accounts).values(credentials=seal_credentials(
                rt.settings, "home", {"refresh_token": "fresh-1"})))
        await manager.tick()
        assert await provider.started.get() == "works"
        assert provider.seen[-1]["refresh_token"] == "fresh-1"
        await _until(lambda: _connected_now(rt))
    finally:
        await manager.close()


async def test_refreshed_tokens_are_kept_sealed_without_restarting_the_connection(
        rt: Runtime) -> None:
    provider = ScriptedProvider("rotate")
    rt.providers = ProviderRegistry([provider])
    manager = ConnectionManager(rt, "worker-a")
    try:
        await manager.tick()
        assert await provider.started.get() == "rotate"
        await _until(lambda: _stored_token_is(rt, "rotated-2"))
        task = manager.tasks[ACCOUNT]
        for _ in range(3):
            await manager.tick()
        assert manager.tasks[ACCOUNT] is task and not task.done(), "no reconnect for our own refresh"
        stored = (await _account(rt)).credentials
        assert "rotated-2" not in str(stored), "tokens are stored sealed, never in clear"
        assert stored["account_login"] == "home"
    finally:
        await manager.close()


async def _disconnected_now(rt: Runtime) -> bool:
    return _disconnected(await _account(rt))


async def _connected_now(rt: Runtime) -> bool:
    return not _disconnected(await _account(rt))


async def _stored_token_is(rt: Runtime, token: str) -> bool:
    stored = (await _account(rt)).credentials
    return open_credentials(rt.settings, stored).get("refresh_token") == token


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    """Wait for state another task writes (polling the database, bounded)."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)
