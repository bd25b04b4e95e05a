"""The guarded webhook transport: it resolves the host itself, judges every address, and
connects to the address it judged, so neither a second DNS answer (rebinding) nor a pooled
connection from a sandbox workspace gets a production webhook to a private address."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import httpx
import pytest

from lockhub.domain.webhooks import Address
from lockhub.engine.webhook_transport import PRIVATE_ALLOWED, TargetRefused, WebhookTransport

PUBLIC = ipaddress.ip_address("93.184.216.34")
LOOPBACK = ipaddress.ip_address("127.0.0.1")


class Resolver:
    """DNS under the test's control: each look-up of a name takes the next answer."""

    def __init__(self, *answers: list[Address]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[Address]:
        self.lookups.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class RecordingStream(httpcore.AsyncNetworkStream):
    def __init__(self, backend: RecordingBackend) -> None:
        self.backend = backend

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        self.backend.tls_names.append(server_hostname)
        raise httpcore.ConnectError("no TLS in this test")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        raise httpcore.ReadError("no server in this test")

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        raise httpcore.WriteError("no server in this test")

    async def aclose(self) -> None:
        pass


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the network: records where connections were asked to go."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        return RecordingStream(self)

    async def sleep(self, seconds: float) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that is open (the kernel completes handshakes into the backlog)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


class Server:
    """A loopback HTTP/1.1 server (keep-alive) that records each request's Host header."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("content-length", 0)))
                server.hosts.append(self.headers["host"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.http.shutdown()
    s.http.server_close()


def _client(transport: WebhookTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)


async def test_a_name_that_resolves_to_loopback_is_refused_before_any_connection(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    resolver = Resolver([LOOPBACK])
    async with _client(WebhookTransport(allow="", deny="", resolver=resolver)) as client:
        with pytest.raises(TargetRefused, match="loopback"):
            await client.post(f"http://hooks.example.com:{port}/", content=b"{}")
    assert resolver.lookups == ["hooks.example.com"]
    assert not _connected(listener)


@pytest.mark.parametrize("host", ["[::ffff:127.0.0.1]", "[::127.0.0.1]", "[::]", "127.1",
                                  "2130706433", "localhost"])
async def test_loopback_in_any_spelling_is_refused_without_a_connection(
    listener: socket.socket, host: str,
) -> None:
    port = listener.getsockname()[1]
    async with _client(WebhookTransport(allow="", deny="")) as client:
        with pytest.raises(TargetRefused):
            await client.post(f"http://{host}:{port}/", content=b"{}")
    assert not _connected(listener)


async def test_the_connection_goes_to_the_checked_address_and_a_rebound_name_is_refused(
) -> None:
    network = RecordingBackend()
    resolver = Resolver([PUBLIC], [LOOPBACK])
    transport = WebhookTransport(allow="", deny="", resolver=resolver, inner=network)
    async with _client(transport) as client:
        with pytest.raises(httpx.ConnectError):  # the recording network offers no TLS
            await client.post("https://hooks.example.com/lockhub", content=b"{}")
        # Connected to the address that was judged, not to the name (which could be looked
        # up again); TLS still names the host.
        assert network.connects == [(str(PUBLIC), 443)]
        assert network.tls_names == ["hooks.example.com"]
        # The name now resolves to loopback: refused, and the network is not asked.
        with pytest.raises(TargetRefused):
            await client.post("https://hooks.example.com/lockhub", content=b"{}")
    assert network.connects == [(str(PUBLIC), 443)]


async def test_sandbox_requests_reach_loopback_by_name_with_the_name_as_host(
    server: Server,
) -> None:
    resolver = Resolver([LOOPBACK])
    url = f"http://hooks.example.com:{server.port}/lockhub"
    async with _client(WebhookTransport(allow="", deny="", resolver=resolver)) as client:
        response = await client.post(url, content=b"{}", extensions={PRIVATE_ALLOWED: True})
        assert response.status_code == 204
        assert server.hosts == [f"hooks.example.com:{server.port}"]
        # A production request to the same origin gets no kept-alive sandbox connection.
        with pytest.raises(TargetRefused):
            await client.post(url, content=b"{}")
        with pytest.raises(TargetRefused):
            await client.post(url, content=b"{}", extensions={PRIVATE_ALLOWED: False})
    assert len(server.hosts) == 1


async def test_the_deny_list_applies_to_sandbox_requests_too(server: Server) -> None:
    url = f"http://localhost:{server.port}/"
    async with _client(WebhookTransport(allow="", deny="127.0.0.0/8")) as client:
        with pytest.raises(TargetRefused, match="deny list"):
            await client.post(url, content=b"{}", extensions={PRIVATE_ALLOWED: True})
    assert server.hosts == []
