"""A throwaway Mosquitto broker for tests: loopback only, no persistence, its own temp folder.

Retained messages vanish when it stops, like a broker restarted without persistence; that is
what the bridge's "republish retained messages after reconnect" behaviour is there for.
`stop()` then `start()` brings it back on the same port, so clients see it go away and return.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.server import free_port


def mosquitto_bin() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto",) if os.access(p, os.X_OK)), None)


class MosquittoBroker:
    """One mosquitto process; `host`/`port`/`username`/`password` are what clients use."""

    def __init__(self, *, username: str | None = None, password: str | None = None,
                 port: int | None = None) -> None:
        binary = mosquitto_bin()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (scripts/system-deps.sh installs it)")
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.username = username
        self.password = password
        self.root = Path(tempfile.mkdtemp(prefix="lockhub-mqtt-"))
        self.log_file = self.root / "mosquitto.log"
        self.config_file = self.root / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            "persistence false",
            f"log_dest file {self.log_file}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            # Run as whoever runs the tests: as root, mosquitto would otherwise switch to the
            # `mosquitto` user, which cannot read this private temp folder.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        ]
        if self.username is not None:
            password_file = self.root / "passwd"
            subprocess.run(["mosquitto_passwd", "-c", "-b", str(password_file), self.username,
                            self.password or ""], check=True, capture_output=True)
            password_file.chmod(0o600)
            lines += [f"password_file {password_file}", "allow_anonymous false"]
        else:
            lines.append("allow_anonymous true")
        self.config_file.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start (or restart) on the same port and return once it accepts TCP connections."""
        if self.running:
            return
        self._process = subprocess.Popen([self.binary, "-c", str(self.config_file)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                pass
            # Waiting on the process doubles as the pause between attempts and notices a
            # broker that died at start-up (port taken, bad config) straight away.
            try:
                self._process.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                pass
            else:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                self._process = None
                raise RuntimeError(f"mosquitto exited at start-up: {err}{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log()}")

    def stop(self) -> None:
        """Stop the broker: every client connection drops, retained messages are gone."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """The broker stops answering but its connections stay open (SIGSTOP), as when its
        host vanishes from the network; it carries on afterwards."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_file.read_text()
        except OSError:
            return ""

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
