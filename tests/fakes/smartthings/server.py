"""Runs the fake's API and auth hosts under uvicorn in one background thread, each on its own
loopback port, so a separate lockhub process can reach them as well as the test itself.

The sockets are bound and listening before the thread starts, so the URLs work at once (a
connection made early waits in the backlog until uvicorn accepts it).
"""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn
from tests.fakes.smartthings.app import build_api_app, build_auth_app
from tests.fakes.smartthings.cloud import Cloud


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


class FakeSmartThings:
    """Start with `start()`, stop with `stop()`; `cloud` holds state and switches."""

    def __init__(self, cloud: Cloud | None = None) -> None:
        self.cloud = cloud or Cloud()
        self._sockets = [_listening_socket(), _listening_socket()]
        self._servers = [
            uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
            for app in (build_api_app(self.cloud), build_auth_app(self.cloud))
        ]
        api_port = self._sockets[0].getsockname()[1]
        auth_port = self._sockets[1].getsockname()[1]
        self.cloud.url = f"http://127.0.0.1:{api_port}"
        self.cloud.auth_url = f"http://127.0.0.1:{auth_port}"
        self._thread = threading.Thread(target=self._run, name="fake-smartthings", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.cloud.loop = asyncio.get_running_loop()
        await asyncio.gather(*(server.serve(sockets=[sock])
                               for server, sock in zip(self._servers, self._sockets, strict=True)))

    def start(self) -> FakeSmartThings:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.cloud.unstall()
        for server in self._servers:
            server.should_exit = True
        self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()
