"""The HTTP transport webhooks are sent through: it decides where a connection may go at the
moment it is opened.

Checking a URL's host before sending is not enough: the name can resolve differently a moment
later (DNS rebinding), and an address has many spellings. So the network backend resolves the
host itself, judges every address with `domain.webhooks.target_refusal`, and connects to the
address it judged; TLS (SNI, certificate) and the Host header still use the name. A refused
target raises TargetRefused before any connection is attempted, so the delivery log cannot
tell an open port from a closed one.

Sandbox workspaces may reach private addresses; other workspaces may not. Each policy has its
own connection pool, so a kept-alive connection never carries one workspace's request under
the other's policy.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

import anyio
import httpcore
import httpx

from lockhub.domain import webhooks as rules

# Request extension naming the policy: True lets the request reach private addresses.
PRIVATE_ALLOWED = "lockhub.private_allowed"
USER_AGENT = "lockhub-webhooks"

Resolver = Callable[[str, int], Awaitable[list[rules.Address]]]
Policy = Callable[[str, list[rules.Address]], str | None]


class TargetRefused(httpx.TransportError):
    """The webhook's host is not an allowed destination; no connection was attempted."""


async def resolve(host: str, port: int) -> list[rules.Address]:
    """Every address `host` resolves to (an IP literal is itself), in resolver order."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    found = [ipaddress.ip_address(info[4][0]) for info in infos
             if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not found:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return list(dict.fromkeys(found))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, and only to the addresses it checked."""

    def __init__(self, policy: Policy, *, resolver: Resolver = resolve,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._policy = policy
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        refusal = self._policy(host, addresses)
        if refusal is not None:
            raise TargetRefused(refusal)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("webhooks are not sent to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedHTTPTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool that uses a GuardedBackend (httpx has no
    parameter for the network backend, so the pool is built here)."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend, limits: httpx.Limits,
                 ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, network_backend=backend,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry)


class WebhookTransport(httpx.AsyncBaseTransport):
    """Routes each request to the pool of its policy (PRIVATE_ALLOWED extension; absent means
    private addresses are refused)."""

    def __init__(self, *, allow: str, deny: str, resolver: Resolver = resolve,
                 limits: httpx.Limits | None = None,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        limits = limits or httpx.Limits(max_connections=100)
        ssl_context = httpx.create_ssl_context()
        self._transports = {
            private_allowed: _GuardedHTTPTransport(GuardedBackend(
                partial(rules.target_refusal, allow=allow, deny=deny,
                        private_allowed=private_allowed),
                resolver=resolver, inner=inner), limits, ssl_context)
            for private_allowed in (False, True)}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        private_allowed = request.extensions.get(PRIVATE_ALLOWED) is True
        return await self._transports[private_allowed].handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._transports.values():
            await transport.aclose()


class WebhookSender:
    """Sends webhook requests straight through the guarded transport, with none of a client's
    per-request machinery: no cookie jar (a receiver's cookies never ride on another
    workspace's delivery), no redirects, no proxies from the environment (a proxy would connect
    on our behalf, past the guard), no per-request log line (attempts are recorded)."""

    def __init__(self, *, allow: str, deny: str) -> None:
        self._transport = WebhookTransport(allow=allow, deny=deny)

    async def post(self, url: str, *, content: bytes, headers: dict[str, str], timeout: float,
                   private_allowed: bool) -> httpx.Response:
        request = httpx.Request("POST", url, content=content,
                                headers={"user-agent": USER_AGENT, **headers},
                                extensions={"timeout": httpx.Timeout(timeout).as_dict(),
                                            PRIVATE_ALLOWED: private_allowed})
        response = await self._transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()
