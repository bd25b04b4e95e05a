"""When the database cannot take writes, lockhub says so: 503 `service_unavailable` with
Retry-After within the busy timeout, /health answers 503, it recovers by itself when the
condition ends, and a deleted database file is never silently replaced by a fresh seed.

Conditions are made for real against a running `lockhub serve`: another connection holds
SQLite's write lock; the server process's RLIMIT_FSIZE is lowered so its write(2) calls fail
(EFBIG: a full disk as SQLite sees it, since root ignores read-only permissions); the database
file is deleted."""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from seam import Seam

from lockhub.errors import ServiceUnavailable
from lockhub.store.db import Database, _unavailable
from tests.conformance.helpers import FAKE_KEY as SANDBOX_KEY
from tests.server import LockhubServer, free_port, start_server

pytestmark = pytest.mark.fixed_database  # SQLite's locks, file and disk; an unreachable PostgreSQL

BUSY_TIMEOUT = 1.0
# The busy timeout plus room for a loaded machine: far from the 120 s a write used to hang.
BOUNDED = BUSY_TIMEOUT + 4.0
AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LockhubServer]:
    srv = start_server(tmp_path, env={
        "LOCKHUB_DATABASE_BUSY_TIMEOUT_SECONDS": str(BUSY_TIMEOUT),
        "LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    yield srv
    srv.stop()


def _rename_device(server: LockhubServer, name: str) -> httpx.Response:
    return httpx.post(f"{server.url}/devices/update", headers=AUTH, timeout=30,
                      json={"device_id": "august_device_1", "name": name})


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["error"]["type"] == "service_unavailable"
    assert body["error"]["message"]
    assert int(response.headers["retry-after"]) >= 1


def _health(server: LockhubServer) -> list[httpx.Response]:
    return [httpx.get(f"{server.url}{path}", timeout=30)
            for path in ("/health", "/health/get_health")]


def test_write_lock_held_elsewhere_answers_503_within_the_busy_timeout_then_recovers(
    server: LockhubServer,
) -> None:
    db_path = server.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = _rename_device(server, "Held")
        assert time.monotonic() - started < BOUNDED
        _assert_unavailable(response)
        for health in _health(server):
            _assert_unavailable(health)
    finally:
        holder.rollback()
        holder.close()

    assert _rename_device(server, "Released").status_code == 200
    assert [h.status_code for h in _health(server)] == [200, 200]
    # The engine kept running through the outage: an action attempt still settles.
    seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
    attempt = seam.locks.unlock_door(device_id="august_device_1")
    assert attempt.status == "success"


def test_failing_disk_writes_answer_503_then_recover(server: LockhubServer) -> None:
    assert server.process is not None
    pid = server.process.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    # Every write(2) of the server past the first byte of any file now fails with EFBIG.
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))
    try:
        _assert_unavailable(_rename_device(server, "No room"))
        for health in _health(server):
            _assert_unavailable(health)
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))

    assert _rename_device(server, "Room again").status_code == 200
    assert [h.status_code for h in _health(server)] == [200, 200]
    devices = httpx.get(f"{server.url}/devices/get?device_id=august_device_1", headers=AUTH)
    assert devices.json()["device"]["display_name"] == "Room again"


def test_deleted_database_file_refuses_writes_and_a_restart_will_not_seed_over_it(
    server: LockhubServer, tmp_path: Path,
) -> None:
    db_path = Path(server.database_url.removeprefix("sqlite:///"))
    assert _rename_device(server, "Before").status_code == 200
    db_path.unlink()

    for _ in range(3):
        _assert_unavailable(_rename_device(server, "Lost"))
    for health in _health(server):
        _assert_unavailable(health)
    assert not db_path.exists(), "the server must not create a new database in its place"
    server.stop()

    serve = [sys.executable, "-m", "lockhub.cli", "serve", "--seed", "--port", str(free_port()),
             "--database-url", server.database_url]
    refused = subprocess.run(serve, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr + refused.stdout
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db_path) in lines[0] and "--create-database" in lines[0]
    assert not db_path.exists()

    fresh = start_server(tmp_path, name=db_path.stem, extra_args=["--create-database"])
    try:
        assert [h.status_code for h in _health(fresh)] == [200, 200]
    finally:
        fresh.stop()


async def test_unreachable_postgresql_is_service_unavailable() -> None:
    db = Database(f"postgresql://lockhub:secret@127.0.0.1:{free_port()}/lockhub",
                  busy_timeout_seconds=1.0)
    try:
        with pytest.raises(ServiceUnavailable):
            async with db.write():
                pass
        with pytest.raises(ServiceUnavailable):
            await db.check()
    finally:
        await db.dispose()


def _readonly_write(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "x.db").execute("CREATE TABLE t (v)").connection.commit()
    sqlite3.connect(f"file:{tmp_path / 'x.db'}?mode=ro", uri=True).execute(
        "INSERT INTO t VALUES (1)")


def _full_disk_write(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (v)")
    conn.execute("PRAGMA max_page_count = 3")
    for _ in range(100):
        conn.execute("INSERT INTO t VALUES (randomblob(4000))")


@pytest.mark.parametrize("fail", [_readonly_write, _full_disk_write])
def test_read_only_and_full_sqlite_databases_are_service_unavailable(
    fail: Callable[[Path], None], tmp_path: Path,
) -> None:
    with pytest.raises(sqlite3.OperationalError) as raised:
        fail(tmp_path)
    unavailable = _unavailable(raised.value, connecting=False)
    assert isinstance(unavailable, ServiceUnavailable), raised.value
    assert unavailable.status_code == 503
