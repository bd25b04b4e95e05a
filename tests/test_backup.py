"""Backups of a running server's SQLite database: the copy is consistent while writes go on,
and a server started on the copy serves what was committed before the backup."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from seam import Seam

from lockhub.store.backup import BackupError, backup_sqlite
from tests.conformance.helpers import SANDBOX_KEY, seed_ids
from tests.server import start_server

pytestmark = pytest.mark.fixed_database  # SQLite's online backup (pg_dump: test_deploy_guide)


def test_a_backup_taken_under_writes_restores_what_was_committed(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    (tmp_path / "restored").mkdir()
    server = start_server(tmp_path / "live", env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    try:
        seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
        device_id = seed_ids(server)["august_device_1"]
        before = seam.access_codes.create(device_id=device_id, code="5150", name="Before")
        stop = threading.Event()

        def keep_writing() -> None:
            writer = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
            while not stop.is_set():
                writer.devices.update(device_id=device_id, custom_metadata={"w": "x"})

        load = threading.Thread(target=keep_writing)
        load.start()
        try:
            size = backup_sqlite(server.database_url, tmp_path / "backups" / "lockhub.db")
        finally:
            stop.set()
            load.join()
    finally:
        server.stop()
    copy = tmp_path / "backups" / "lockhub.db"
    assert size == copy.stat().st_size > 0
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = start_server(tmp_path / "restored", database_url=f"sqlite:///{copy}", seed=False)
    try:
        seam = Seam(api_key=SANDBOX_KEY, endpoint=restored.url)
        assert seam.access_codes.get(access_code_id=before.access_code_id).name == "Before"
    finally:
        restored.stop()


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://lockhub@localhost/lockhub", "pg_dump"),
    ("sqlite:///:memory:", "in-memory"),
    ("sqlite:///{tmp}/missing.db", "no lockhub database"),
])
def test_what_cannot_be_backed_up_says_why(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(BackupError, match=message):
        backup_sqlite(url.format(tmp=tmp_path), tmp_path / "copy.db")
