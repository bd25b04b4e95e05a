"""A throwaway PostgreSQL server for tests: initdb in a temp folder, loopback only.

PostgreSQL refuses to run as root, so when the tests run as root the cluster runs as the
`postgres` system user (created by Debian's postgresql package).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.server import free_port


def pg_bin() -> Path | None:
    for pattern in ("/usr/lib/postgresql/*/bin",):
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    bin_dir: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://lockhub@127.0.0.1:{self.port}/lockhub"

    def new_database(self, name: str) -> str:
        """The URL of a new, empty database in this cluster."""
        self._run(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "lockhub", name)
        return self.url.rpartition("/")[0] + f"/{name}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
                        "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres() -> PostgresServer:
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (make test installs it)")
    root = Path(tempfile.mkdtemp(prefix="lockhub-pg-"))
    data_dir = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        os.chmod(root, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(data_dir=data_dir, port=free_port(), bin_dir=bin_dir, as_user=as_user)
    server._run(str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "lockhub", "-A", "trust",
                "--no-sync", "-E", "UTF8")
    server._run(str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-w", "-l",
                str(root / "postgres.log"), "-o",
                f"-p {server.port} -h 127.0.0.1 -k {root} -c fsync=off", "start")
    server._run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(server.port),
                "-U", "lockhub", "lockhub")
    return server
