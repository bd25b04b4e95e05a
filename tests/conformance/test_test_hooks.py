"""The fake's unauthenticated /_fake/* hooks: served only when asked for, acting only on sandbox
workspaces, and never leaving an action attempt pending with nothing to settle it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from seam import Seam

from lockhub.api.app import served_routes
from lockhub.clock import ManualClock
from lockhub.config import Settings
from lockhub.engine import jobs
from lockhub.engine.worker import handlers
from lockhub.services import action_attempts, workspaces
from lockhub.services.runtime import build_runtime
from lockhub.store.migrate import upgrade
from tests.conformance.helpers import OTHER_KEY, OTHER_WORKSPACE
from tests.databases import database_url
from tests.server import LockhubServer, start_server

HOOKS = ("/_fake/default_seed", "/_fake/update_action_attempt", "/_fake/complete_connect_webview")


def test_seeded_server_without_test_hooks_serves_no_hooks_but_health(tmp_path: Path) -> None:
    server = start_server(tmp_path, test_hooks=False)  # `make run`: serve --seed
    try:
        for path in HOOKS:
            response = httpx.post(f"{server.url}{path}", json={})
            assert response.status_code == 404, path
            assert response.json()["error"]["type"] == "not_found"
        assert httpx.get(f"{server.url}/health").status_code == 200
        assert "/_fake" not in httpx.get(f"{server.url}/openapi.json").text
    finally:
        server.stop()
    assert server.log_path is not None and "TEST HOOKS" not in server.log_path.read_text()


def test_test_hooks_flag_serves_the_hooks_and_says_so(own_server: LockhubServer) -> None:
    assert httpx.get(f"{own_server.url}/_fake/default_seed").status_code == 200
    assert own_server.log_path is not None
    assert "TEST HOOKS ON: /_fake/* is served WITHOUT authentication" in (
        own_server.log_path.read_text())


def test_test_hooks_come_from_the_environment_only_when_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    url = database_url(tmp_path, "hooks")
    monkeypatch.delenv("LOCKHUB_TEST_HOOKS", raising=False)
    assert not any(r.test_hook for r in served_routes(build_runtime(Settings(database_url=url))))
    monkeypatch.setenv("LOCKHUB_TEST_HOOKS", "1")
    served = {r.path for r in served_routes(build_runtime(Settings(database_url=url)))}
    assert set(HOOKS) <= served


async def test_hooks_do_not_touch_a_non_sandbox_workspaces_objects(
    own_server: LockhubServer,
) -> None:
    rt = build_runtime(Settings(database_url=own_server.database_url))
    try:
        async with rt.db.write() as conn:
            attempt = await action_attempts.create_settled(
                conn, now=rt.clock.now(), workspace_id=OTHER_WORKSPACE,
                action_type="LOCK_DOOR", device_id=None, result={})
    finally:
        await rt.db.dispose()
    production = Seam(api_key=OTHER_KEY, endpoint=own_server.url)
    webview = production.connect_webviews.create()

    overwritten = httpx.post(f"{own_server.url}/_fake/update_action_attempt", json={
        "action_attempt_id": attempt.action_attempt_id, "status": "pending"})
    assert overwritten.status_code == 404
    assert overwritten.json()["error"]["type"] == "action_attempt_not_found"
    completed = httpx.post(f"{own_server.url}/_fake/complete_connect_webview",
                           json={"connect_webview_id": webview.connect_webview_id})
    assert completed.status_code == 404
    assert completed.json()["error"]["type"] == "connect_webview_not_found"

    assert production.action_attempts.get(
        action_attempt_id=attempt.action_attempt_id).status == "success"
    assert production.connect_webviews.get(
        connect_webview_id=webview.connect_webview_id).status == "pending"


async def test_a_settled_attempt_set_back_to_pending_expires_once_the_timeout_passes(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=database_url(tmp_path, "pending"),
                        action_attempt_timeout_seconds=60)
    upgrade(settings.database_url)
    clock = ManualClock()
    rt = build_runtime(settings, clock)
    try:
        workspace = await workspaces.create(rt, user_id=None, name="Hooked", is_sandbox=True)
        async with rt.db.write() as conn:
            attempt = await action_attempts.create_settled(
                conn, now=clock.now(), workspace_id=workspace.workspace_id,
                action_type="LOCK_DOOR", device_id=None, result={})
        pended = await action_attempts.overwrite(rt, workspace.workspace_id,
                                                 attempt.action_attempt_id, status="pending",
                                                 result=None, error=None)
        assert pended.status == "pending"

        async def run_due_jobs() -> None:
            for job in await jobs.claim(rt.db, now=clock.now(), worker_id="test",
                                        lease_seconds=30, limit=10):
                await handlers()[job.kind](rt, job)

        clock.advance(59)
        await run_due_jobs()
        held = await action_attempts.get(rt, workspace.workspace_id, attempt.action_attempt_id)
        assert held.status == "pending", "held pending while a client may be waiting on it"

        clock.advance(3)
        await run_due_jobs()
        expired = await action_attempts.get(rt, workspace.workspace_id,
                                            attempt.action_attempt_id)
        assert expired.status == "error"
        assert expired.error is not None and expired.error.type == "action_attempt_expired"
    finally:
        await rt.db.dispose()
